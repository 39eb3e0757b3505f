#include "broker/oauth/token_client.hpp"

#include <algorithm>
#include <csignal>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

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
#include <Poco/URI.h>
#include <rapidjson/document.h>

#include "shared/json/reader.hpp"
#include "shared/log/log.hpp"
#include "shared/net/socket_watchdog.hpp"

namespace hydra::broker::oauth {
namespace {

constexpr std::size_t kMaxResponse = 64 * 1024;

std::string formEncoded(const std::string& value) {
  std::string encoded;
  Poco::URI::encode(value, "!#$&'()*+,/:;=?@[]~", encoded);
  return encoded;
}

// A client session that hands its socket to the watchdog as soon as it is connected (and,
// for https, the handshake is done: each of its reads is bounded by the connect timeout).
template <class Session>
class WatchedSession : public Session {
 public:
  WatchedSession(const std::string& host, Poco::UInt16 port, net::SocketWatchdog& watchdog)
      : Session(host, port), watchdog_(watchdog) {}

 protected:
  void connect(const Poco::Net::SocketAddress& address) override {
    Session::connect(address);
    watchdog_.watch(static_cast<int>(this->socket().impl()->sockfd()));
  }

 private:
  net::SocketWatchdog& watchdog_;
};

}  // namespace

void initializeTls() {
  // A socket the watchdog shut down may still be written to (the request, a TLS alert):
  // that must be an error on the write, not SIGPIPE ending the broker.
  std::signal(SIGPIPE, SIG_IGN);
  Poco::Net::initializeSSL();
  // Strict verification against the system CA store; a certificate that fails it is refused.
  Poco::Net::Context::Ptr context =
      new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_STRICT, 9, true);
  Poco::SharedPtr<Poco::Net::InvalidCertificateHandler> reject = new Poco::Net::RejectCertificateHandler(false);
  Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, context);
}

namespace {

// One POST of `fields` (grant_type first) to the provider's token endpoint, with the client's
// authentication as the registry says: the request both grants share, so refreshes and code
// exchanges cannot differ in TLS, timeouts, size limits or error classes.
TokenGrant postGrant(const providers::Provider& provider, const ClientCredentials& client,
                     const std::vector<std::pair<std::string, std::string>>& fields, std::chrono::milliseconds timeout) {
  const Poco::URI uri(provider.token_url);
  // Socket timeouts bound each operation; the watchdog bounds the whole exchange (a provider
  // that drips one byte at a time would otherwise keep us, and the row we lock, for ever).
  // Declared before the session, so the session is torn down (on this thread) first.
  net::SocketWatchdog watchdog(net::SocketWatchdog::Clock::now() + timeout);
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  if (uri.getScheme() == "https") {
    session = std::make_unique<WatchedSession<Poco::Net::HTTPSClientSession>>(uri.getHost(), uri.getPort(), watchdog);
  } else {
    session = std::make_unique<WatchedSession<Poco::Net::HTTPClientSession>>(uri.getHost(), uri.getPort(), watchdog);
  }
  const Poco::Timespan limit(std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
  session->setTimeout(limit, limit, limit);

  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
  request.set("Accept", "application/json");
  Poco::Net::HTMLForm form;
  for (const auto& [name, value] : fields) form.add(name, value);
  if (provider.client_auth == providers::Provider::ClientAuth::kBasic) {
    // RFC 6749 section 2.3.1: form-urlencoded before they go into Basic.
    Poco::Net::HTTPBasicCredentials(formEncoded(client.client_id), formEncoded(client.client_secret)).authenticate(request);
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
    char chunk[4096];
    while (in && body.size() < kMaxResponse) {
      in.read(chunk, static_cast<std::streamsize>(std::min(sizeof chunk, kMaxResponse - body.size())));
      body.append(chunk, static_cast<std::size_t>(in.gcount()));
    }
    if (watchdog.fired()) throw Poco::TimeoutException("the token endpoint did not answer in time");
  } catch (const Poco::Exception& e) {
    // Before anything was sent (refused, unreachable) the token is certainly unused.
    if (watchdog.fired()) throw RefreshUnavailable("the token endpoint did not answer in time", sent);
    throw RefreshUnavailable("token endpoint unreachable: " + log::escape(e.displayText()), sent);
  }

  return tokenGrantFromResponse(static_cast<int>(response.getStatus()), body);
}

}  // namespace

TokenGrant requestRefresh(const providers::Provider& provider, const ClientCredentials& client, const std::string& refresh_token,
                          std::chrono::milliseconds timeout) {
  return postGrant(provider, client, {{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}}, timeout);
}

TokenGrant requestAuthorizationCode(const providers::Provider& provider, const ClientCredentials& client,
                                    const std::string& code, const std::optional<std::string>& code_verifier,
                                    const std::string& redirect_uri, std::chrono::milliseconds timeout) {
  // RFC 6749 section 4.1.3; RFC 7636 section 4.5 for the verifier. client_id goes in the form
  // with "post" client authentication (above); with "basic" it is in the header, which is
  // what section 4.1.3 asks of a confidential client.
  std::vector<std::pair<std::string, std::string>> fields{
      {"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", redirect_uri}};
  if (code_verifier) fields.emplace_back("code_verifier", *code_verifier);
  return postGrant(provider, client, fields, timeout);
}

TokenGrant tokenGrantFromResponse(int status, const std::string& body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.c_str(), body.size());  // the provider's text: no recursion
  const bool is_json = !doc.HasParseError() && doc.IsObject();
  if (status == Poco::Net::HTTPResponse::HTTP_OK && is_json && !json::stringMember(doc, "access_token").empty()) {
    TokenGrant grant;
    grant.access_token = json::stringMember(doc, "access_token");
    grant.token_type = json::stringMember(doc, "token_type");
    constexpr double kTenYears = 10.0 * 365 * 24 * 3600;
    if (const auto it = doc.FindMember("expires_in"); it != doc.MemberEnd() && it->value.IsNumber()) {
      grant.expires_in = std::clamp(it->value.GetDouble(), 0.0, kTenYears);
    }
    if (auto rotated = json::stringMember(doc, "refresh_token"); !rotated.empty()) grant.refresh_token = std::move(rotated);
    return grant;
  }
  const std::string error = is_json ? json::stringMember(doc, "error") : "";
  if (status == Poco::Net::HTTPResponse::HTTP_BAD_REQUEST || status == Poco::Net::HTTPResponse::HTTP_UNAUTHORIZED) {
    const std::string description = is_json ? json::stringMember(doc, "error_description") : "";
    // The provider's text: escaped and bounded before it goes anywhere.
    const std::string what = (error.empty() ? "HTTP " + std::to_string(status) : log::escape(error, 64)) +
                             (description.empty() ? "" : ": " + log::escape(description, 200));
    // Only the provider's explicit word kills a customer's grant. A bare 401 is client
    // authentication failing (RFC 6749 section 5.2), and a 400/401 without an error code may be
    // a proxy's page: neither may break every connection of a provider at once.
    if (error == "invalid_grant") throw RefreshRejected(what);
    throw ClientRejected(what, error);
  }
  // 5xx, 429, or a 200 without a token: the provider answered, so the token was not used up
  // unless it answered 200 (then rotation may have happened: treat it as possibly consumed).
  throw RefreshUnavailable("token endpoint answered HTTP " + std::to_string(status),
                           status == Poco::Net::HTTPResponse::HTTP_OK);
}

}  // namespace hydra::broker::oauth
