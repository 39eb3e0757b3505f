// Validation of request bodies, with pydantic's rules and wording.
#include "control-plane/model/resources.hpp"

#include "shared/json/reader.hpp"
#include "shared/json/writer.hpp"

namespace hydra::cp::model {
namespace {

constexpr std::size_t kMaxName = 255;
constexpr std::size_t kMaxProvider = 50;

std::string stringsToJson(const std::vector<std::string>& values) {
  json::Writer w;
  w.strings(values);
  return w.str();
}

}  // namespace

NameInput NameInput::fromJson(const rapidjson::Document& body, bool required) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  auto name = in.string("name", required, required ? 1 : 0, kMaxName);
  problems.throwIfAny();
  return {name.value_or("")};
}

ConnectionCreate ConnectionCreate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  ConnectionCreate out;
  const auto auth_type = in.oneOf("auth_type", {"oauth2", "api_key", "basic"}, std::string("oauth2"));
  const auto* credentials = in.object("credentials", true);
  const auto* metadata = in.object("metadata_json", false);
  const auto name = in.string("name", true, 1, kMaxName);
  const auto provider = in.string("provider", true, 1, kMaxProvider);
  // The API document types scopes as an untyped list: any JSON values, stored as given.
  const auto* scopes = in.array("scopes", false);
  problems.throwIfAny();

  out.auth_type = *auth_type;
  out.credentials_json = json::toString(*credentials);
  if (metadata != nullptr) out.metadata_json = json::toString(*metadata);
  out.name = *name;
  out.provider = *provider;
  out.scopes_json = scopes != nullptr ? json::toString(*scopes) : "[]";
  return out;
}

ConnectionUpdate ConnectionUpdate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  ConnectionUpdate out;
  // An explicit null leaves a field unchanged, except metadata_json, where it clears it.
  out.name = in.string("name", false, 1, kMaxName);
  if (const auto* scopes = in.array("scopes", false)) out.scopes_json = json::toString(*scopes);
  out.replace_metadata = in.has("metadata_json");
  if (const auto* metadata = in.object("metadata_json", false)) out.metadata_json = json::toString(*metadata);
  if (const auto* credentials = in.object("credentials", false)) out.credentials_json = json::toString(*credentials);
  problems.throwIfAny();
  return out;
}

ProxyKeyCreate ProxyKeyCreate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  constexpr long long kOneYear = 365LL * 24 * 3600;
  const auto expires_in = in.integer("expires_in_seconds", false, 60, kOneYear);
  problems.throwIfAny();
  return {expires_in};
}

GrantCreate GrantCreate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  const auto capabilities = in.stringArray("capabilities", true);
  const auto instance_id = in.uuid("instance_id", true);
  problems.throwIfAny();
  return {*instance_id, stringsToJson(*capabilities)};
}

}  // namespace hydra::cp::model
