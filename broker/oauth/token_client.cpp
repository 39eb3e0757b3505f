#include "broker/oauth/token_client.hpp"

#include <memory>
#include <sstream>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <rapidjson/document.h>

namespace hydra::broker::oauth {
namespace {

constexpr std::streamsize kMaxResponse = 64 * 1024;

std::string field(const rapidjson::Document& doc, const char* name) {
  const auto it = doc.FindMember(name);
  if (it == doc.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

}  // namespace

void initializeTls() {
  Poco::Net::initializeSSL();
  // Strict verification against the system CA store; a certificate that fails it is refused.
  Poco::Net::Context::Ptr context =
      new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_STRICT, 9, true);
  Poco::SharedPtr<Poco::Net::InvalidCertificateHandler> reject = new Poco::Net::RejectCertificateHandler(false);
  Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, context);
}

TokenGrant requestRefresh(const Provider& provider, const ClientCredentials& client, const std::string& refresh_token,
                          std::chrono::milliseconds timeout) {
  const Poco::URI uri(provider.token_url);
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  if (uri.getScheme() == "https") {
    session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort());
  } else {
    session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
  }
  const Poco::Timespan limit(std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
  session->setTimeout(limit, limit, limit);

  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
  request.set("Accept", "application/json");
  Poco::Net::HTMLForm form;
  form.add("grant_type", "refresh_token");
  form.add("refresh_token", refresh_token);
  if (provider.client_auth == Provider::ClientAuth::kBasic) {
    Poco::Net::HTTPBasicCredentials(client.client_id, client.client_secret).authenticate(request);
  } else {
    if (!client.client_id.empty()) form.add("client_id", client.client_id);
    if (!client.client_secret.empty()) form.add("client_secret", client.client_secret);
  }
  form.prepareSubmit(request);

  bool sent = false;
  Poco::Net::HTTPResponse response;
  std::string body;
  try {
    form.write(session->sendRequest(request));
    sent = true;
    std::istream& in = session->receiveResponse(response);
    std::ostringstream text;
    Poco::StreamCopier::copyStream(in, text, kMaxResponse);
    body = text.str().substr(0, static_cast<std::size_t>(kMaxResponse));
  } catch (const Poco::Exception& e) {
    // Before anything was sent (refused, unreachable) the token is certainly unused.
    throw RefreshUnavailable("token endpoint unreachable: " + e.displayText(), sent);
  }

  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  const bool is_json = !doc.HasParseError() && doc.IsObject();
  const auto status = response.getStatus();
  if (status == Poco::Net::HTTPResponse::HTTP_OK && is_json && !field(doc, "access_token").empty()) {
    TokenGrant grant;
    grant.access_token = field(doc, "access_token");
    grant.token_type = field(doc, "token_type");
    if (const auto it = doc.FindMember("expires_in"); it != doc.MemberEnd() && it->value.IsNumber()) {
      grant.expires_in = it->value.GetDouble();
    }
    if (auto rotated = field(doc, "refresh_token"); !rotated.empty()) grant.refresh_token = std::move(rotated);
    return grant;
  }
  const std::string error = is_json ? field(doc, "error") : "";
  if (status == Poco::Net::HTTPResponse::HTTP_BAD_REQUEST || status == Poco::Net::HTTPResponse::HTTP_UNAUTHORIZED) {
    const std::string description = is_json ? field(doc, "error_description") : "";
    const std::string what = (error.empty() ? "HTTP " + std::to_string(status) : error) +
                             (description.empty() ? "" : ": " + description.substr(0, 200));
    if (error.empty() || error == "invalid_grant") throw RefreshRejected(what);
    throw ClientRejected(what);
  }
  // 5xx, 429, or a 200 without a token: the provider answered, so the token was not used up
  // unless it answered 200 (then rotation may have happened: treat it as possibly consumed).
  throw RefreshUnavailable("token endpoint answered HTTP " + std::to_string(status),
                           status == Poco::Net::HTTPResponse::HTTP_OK);
}

}  // namespace hydra::broker::oauth
