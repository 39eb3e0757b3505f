#include "control-plane/webhooks/sender.hpp"

#include <chrono>
#include <ctime>
#include <memory>
#include <variant>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/StreamSocket.h>

#include "shared/http/retry_after.hpp"
#include "shared/json/reader.hpp"
#include "shared/net/checked_connect.hpp"
#include "shared/net/socket_watchdog.hpp"

namespace hydra::cp::webhooks {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUserAgent = "HydraCore-Webhooks/1.0";

AttemptResult failed(std::string error) {
  AttemptResult r;
  r.error = std::move(error);
  return r;
}

}  // namespace

std::string printableUtf8(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    std::size_t length = c < 0x80                   ? 1
                         : (c >= 0xc2 && c <= 0xdf) ? 2
                         : (c >= 0xe0 && c <= 0xef) ? 3
                         : (c >= 0xf0 && c <= 0xf4) ? 4
                                                    : 0;
    if (c == 0 || length == 0 || i + length > bytes.size() ||
        !json::isValidUtf8(std::string_view(bytes).substr(i, length))) {
      out += '?';
      ++i;
      continue;
    }
    out.append(bytes, i, length);
    i += length;
  }
  return out;
}

Sender::Sender(const Settings& settings) : settings_(settings) {
  // Certificates are verified strictly (chain and host name), against the system's CAs unless
  // the operator names a bundle; a certificate that fails is refused, never prompted for.
  tls_ = net::verifyingClientContext(settings.ca_file, settings.ca_file.empty());
  Poco::SharedPtr<Poco::Net::InvalidCertificateHandler> reject = new Poco::Net::RejectCertificateHandler(false);
  Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, tls_);
}

AttemptResult Sender::send(const Message& message, const std::atomic<bool>& stopping) const {
  EndpointUrl url;
  try {
    url = checkEndpointUrl(message.url, settings_.url_rules);
  } catch (const UrlRefused& e) {
    return failed(std::string("refused: ") + e.what());
  }

  // Resolved here, at delivery time; every address is checked, and only a checked address is
  // connected to (shared/net/checked_connect).
  const net::Destination to{url.host, url.port, url.scheme == "https"};
  auto resolved = net::resolveAllowed(to, settings_.url_rules.addresses,
                                      std::chrono::seconds(settings_.resolve_timeout_seconds), &stopping);
  if (const auto* refused = std::get_if<net::ConnectError>(&resolved)) {
    switch (refused->kind) {
      case net::ConnectError::Kind::kRefused:
        return failed("refused: " + url.host + " resolves to " + refused->detail + ", which webhooks may not reach");
      case net::ConnectError::Kind::kPlainHttp:
        return failed("refused: plain http only to loopback, and " + url.host + " resolves to " +
                      net::toString(refused->address));
      default:
        return failed(refused->detail);
    }
  }
  if (stopping) return failed("stopped before sending (shutting down)");

  const auto deadline = Clock::now() + std::chrono::seconds(settings_.timeout_seconds);
  auto connected = net::connectToAny(to, std::get<std::vector<net::Address>>(resolved), tls_, deadline);
  if (const auto* error = std::get_if<net::ConnectError>(&connected)) {
    return failed(error->detail.empty() ? "timed out before connecting" : error->detail);
  }
  const auto socket = std::move(std::get<net::Connection>(connected).socket);

  const long long timestamp = std::time(nullptr);
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, url.target, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setHost(url.hostHeader());
  request.setContentType("application/json");
  request.setContentLength(static_cast<std::streamsize>(message.payload.size()));
  request.setKeepAlive(false);
  request.set("User-Agent", kUserAgent);
  request.set("webhook-id", message.webhook_id);
  request.set("webhook-timestamp", std::to_string(timestamp));
  request.set("webhook-signature", signatureHeader(message.keys, message.webhook_id, timestamp, message.payload));

  AttemptResult result;
  net::SocketWatchdog watchdog(deadline, &stopping);
  watchdog.watch(static_cast<int>(socket->impl()->sockfd()));
  try {
    const auto remaining = net::remainingUntil(deadline);
    socket->setSendTimeout(remaining);
    socket->setReceiveTimeout(remaining);
    // A session over the connected socket (TLS or not: the socket does the TLS) has no host of
    // its own, so it never reconnects, which would resolve the name again. (Poco's
    // HTTPSClientSession refuses a connected socket; it adds nothing we need here.)
    Poco::Net::HTTPClientSession session(*socket);
    session.setTimeout(remaining, remaining, remaining);
    session.sendRequest(request) << message.payload;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    result.status = static_cast<int>(response.getStatus());
    if (response.has("Retry-After"))
      result.retry_after = http::parseRetryAfter(response.get("Retry-After"), std::time(nullptr));
    std::string excerpt(kMaxResponseExcerpt, '\0');
    in.read(excerpt.data(), static_cast<std::streamsize>(excerpt.size()));
    excerpt.resize(static_cast<std::size_t>(in.gcount()));
    result.response_excerpt = printableUtf8(excerpt);
  } catch (const std::exception& e) {
    if (result.status) return result;  // the answer came; only its body was cut short
    if (watchdog.fired()) {
      return failed(stopping ? "stopped in flight (shutting down)"
                             : "timed out after " + std::to_string(settings_.timeout_seconds) + " s");
    }
    const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
    return failed(poco != nullptr ? poco->displayText() : e.what());
  }
  return result;
}

}  // namespace hydra::cp::webhooks
