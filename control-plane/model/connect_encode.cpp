// Encoding of the connect flow's resources. Field order: alphabetical, as in encode.cpp.
#include "control-plane/model/connect.hpp"
#include "shared/json/writer.hpp"

namespace hydra::cp::model {
namespace {

void write(json::Writer& w, const OAuthClient& c) {
  w.beginObject();
  w.key("authorization_params").rawOrNull(c.authorization_params_json);
  w.key("client_id").string(c.client_id);
  w.key("created_at").string(c.created_at);
  w.key("id").string(c.id);
  w.key("provider").string(c.provider);
  w.key("scopes").rawOrNull(c.scopes_json);
  w.endObject();
}

}  // namespace

std::string toJson(const OAuthClient& client) {
  json::Writer w;
  write(w, client);
  return w.str();
}

std::string toJson(const std::vector<OAuthClient>& page, long long total) {
  json::Writer w;
  w.beginObject().key("oauth_clients").beginArray();
  for (const auto& c : page) write(w, c);
  w.endArray().key("total").integer(total).endObject();
  return w.str();
}

std::string toJson(const ConnectSettings& settings) {
  json::Writer w;
  w.beginObject().key("allowed_redirect_urls").strings(settings.allowed_redirect_urls);
  w.key("updated_at").stringOrNull(settings.updated_at).endObject();
  return w.str();
}

std::string toJson(const ConnectSession& s) {
  json::Writer w;
  w.beginObject();
  if (s.connect_url) w.key("connect_url").string(*s.connect_url);
  w.key("connection_id").stringOrNull(s.connection_id);
  w.key("created_at").string(s.created_at);
  w.key("error").stringOrNull(s.error);
  w.key("expires_at").string(s.expires_at);
  w.key("id").string(s.id);
  w.key("provider").string(s.provider);
  w.key("status").string(s.status);
  w.key("updated_at").string(s.updated_at);
  w.endObject();
  return w.str();
}

}  // namespace hydra::cp::model
