#include "broker/proxy/upstream_client.hpp"

#include <poll.h>
#include <strings.h>

#include <algorithm>
#include <string_view>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/StreamSocket.h>

#include "shared/net/checked_connect.hpp"
#include "shared/net/socket_watchdog.hpp"

namespace hydra::broker::proxy {
namespace {

using Clock = net::ConnectClock;

bool isTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

/// An RFC 9110 token: what a method and a header name must be.
bool isToken(const std::string& s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!isTokenChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

/// A header value that cannot end the header line or the header block early (no CR, LF, NUL).
bool isSafeValue(const std::string& s) { return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos; }

/// A request target that cannot split the request line (no space, no control character).
bool isSafeTarget(const std::string& s) {
  if (s.empty() || s[0] != '/') return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

/// Headers the client owns: they decide where the request ends (Content-Length,
/// Transfer-Encoding), whether the connection stays (Connection) and which site it is for (Host).
bool isFramingHeader(const std::string& name) {
  for (const char* owned : {"host", "content-length", "transfer-encoding", "connection"}) {
    if (strcasecmp(name.c_str(), owned) == 0) return true;
  }
  return false;
}

std::string hostHeader(const providers::Upstream& upstream) {
  std::string host = upstream.host.find(':') != std::string::npos ? "[" + upstream.host + "]" : upstream.host;
  const std::uint16_t default_port = upstream.scheme == "https" ? 443 : 80;
  if (upstream.port != 0 && upstream.port != default_port) host += ":" + std::to_string(upstream.port);
  return host;
}

std::string durationWords(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

bool isIdempotent(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

// Whether an idle connection has something to read: its end, or bytes nobody asked for.
bool readableNow(const Poco::Net::StreamSocket& socket) {
  pollfd p{static_cast<int>(socket.impl()->sockfd()), POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

bool expectsBody(const std::string& method, int status) {
  return method != "HEAD" && status >= 200 && status != 204 && status != 304;
}

}  // namespace

std::string requestTarget(const providers::Upstream& upstream, const std::string& normal_path,
                          const std::string& query) {
  return upstream.path_prefix + normal_path + (query.empty() ? "" : "?" + query);
}

UpstreamClient::UpstreamClient(UpstreamSettings settings)
    : settings_(std::move(settings)),
      // The system's CAs always; the operator's file adds a private CA (or a test's).
      tls_(net::verifyingClientContext(settings_.ca_file, true)) {}

UpstreamResult UpstreamClient::call(const UpstreamRequest& request) const {
  const auto fail = [&](int status, const std::string& why) {
    return UpstreamFailure{status, request.provider + ": " + why};
  };
  const auto& upstream = request.upstream;
  const auto no_answer = "no answer within " + durationWords(settings_.timeout);
  const auto stopped = [&] { return fail(502, "call abandoned: the broker is shutting down"); };

  // What would let a value rewrite the request (a second request line, a header of its own)
  // never reaches the socket. Names only in the detail, never values.
  if (!isToken(request.method)) return fail(502, "the method cannot be sent");
  if (!isSafeTarget(request.target)) return fail(502, "the request target cannot be sent");
  for (const auto& [name, value] : request.headers) {
    if (!isToken(name)) return fail(502, "a header name cannot be sent");
    if (!isSafeValue(value)) return fail(502, "the value of header " + name + " cannot be sent");
  }
  if (upstream.scheme != "https" && upstream.scheme != "http") return fail(502, "unsupported scheme");

  const auto deadline = request.deadline.value_or(Clock::now() + settings_.timeout);
  const auto key = upstream.scheme + "://" + hostHeader(upstream);
  // A kept connection first: no lookup, no handshake. The provider may have closed it a moment
  // ago; a call that got no answer on it is made again on a new connection when that is safe.
  if (auto kept = takeKept(key)) {
    auto result = exchange(request, std::move(*kept), key, deadline);
    if (!result.retry || !isIdempotent(request.method)) return std::move(result.result);
  }

  const net::Destination to{upstream.host, upstream.port, upstream.scheme == "https"};
  const auto resolve_within = std::max(std::chrono::milliseconds(1),
                                       std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  auto resolved = net::resolveAllowed(to, settings_.addresses, resolve_within, request.stopping);
  if (const auto* error = std::get_if<net::ConnectError>(&resolved)) {
    const auto address = net::toString(error->address);
    switch (error->kind) {
      case net::ConnectError::Kind::kRefused: {
        const std::string range = net::rangeName(net::classify(error->address));
        if (net::parseAddress(upstream.host)) return fail(502, address + " is " + range + ": calls may not reach it");
        return fail(502, upstream.host + " resolves to " + address + ", which is " + range + ": calls may not reach it");
      }
      case net::ConnectError::Kind::kPlainHttp:
        return fail(502, "plain http only to loopback, and " + upstream.host + " resolves to " + address);
      case net::ConnectError::Kind::kStopped:
        return stopped();
      default:
        return fail(Clock::now() >= deadline ? 504 : 502, error->detail);
    }
  }
  if (request.stopping != nullptr && *request.stopping) return stopped();

  auto connected = net::connectToAny(to, std::get<std::vector<net::Address>>(resolved), tls_, deadline);
  if (const auto* error = std::get_if<net::ConnectError>(&connected)) {
    if (error->kind == net::ConnectError::Kind::kTimedOut) {
      return fail(504, no_answer + (error->detail.empty() ? "" : " (" + error->detail + ")"));
    }
    return fail(502, error->detail);
  }
  auto& connection = std::get<net::Connection>(connected);
  // A session over the connected socket has no host of its own, so it never reconnects (which
  // would resolve the name again, unchecked). Poco's HTTPSClientSession refuses a connected
  // socket; the socket does the TLS.
  Kept fresh{std::make_unique<Poco::Net::HTTPClientSession>(*connection.socket), net::toString(connection.address),
             Clock::now()};
  fresh.session->setKeepAlive(true);
  return std::move(exchange(request, std::move(fresh), key, deadline).result);
}

UpstreamClient::Exchange UpstreamClient::exchange(const UpstreamRequest& request, Kept kept, const std::string& key,
                                                  Clock::time_point deadline) const {
  const auto fail = [&](int status, const std::string& why) {
    return Exchange{UpstreamFailure{status, request.provider + ": " + why}, false};
  };
  const auto& address = kept.address;
  auto& session = *kept.session;
  const auto no_answer = "no answer within " + durationWords(settings_.timeout);
  Poco::Net::HTTPRequest out(request.method, request.target, Poco::Net::HTTPMessage::HTTP_1_1);
  out.setHost(hostHeader(request.upstream));
  for (const auto& [name, value] : request.headers) {
    if (!isFramingHeader(name)) out.add(name, value);
  }
  out.setKeepAlive(true);
  const bool has_body_method = request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (!request.body.empty() || has_body_method) out.setContentLength64(static_cast<Poco::Int64>(request.body.size()));

  // The deadline covers the handshake (lazy: it runs with the first write), sending and
  // receiving; the watchdog shuts the socket down when it passes or the broker stops.
  net::SocketWatchdog watchdog(deadline, request.stopping);
  watchdog.watch(static_cast<int>(session.socket().impl()->sockfd()));
  const auto ended_by_watchdog = [&] {
    return request.stopping != nullptr && *request.stopping
               ? fail(502, "call abandoned: the broker is shutting down")
               : fail(504, no_answer);
  };
  const auto limit = settings_.max_response_bytes;
  const auto too_large = [&] { return fail(502, "response larger than " + std::to_string(limit) + " bytes"); };

  UpstreamResponse result;
  bool answered = false;
  try {
    const auto remaining = net::remainingUntil(deadline);
    session.setTimeout(remaining, remaining, remaining);
    session.sendRequest(out).write(request.body.data(), static_cast<std::streamsize>(request.body.size()));
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    answered = true;
    result.status = static_cast<int>(response.getStatus());
    for (const auto& [name, value] : response) result.headers.emplace_back(name, value);

    const bool body_expected = expectsBody(request.method, result.status);
    const auto declared = response.getContentLength64();  // -1: chunked or up to the close
    if (body_expected && declared >= 0 && static_cast<unsigned long long>(declared) > limit) return too_large();
    // A failed read becomes the exception it was (the stream would only set badbit).
    in.exceptions(std::ios::badbit);
    char chunk[16384];
    while (in) {
      // One byte past the limit tells "exactly the limit" from "more".
      const auto room = limit + 1 - result.body.size();
      in.read(chunk, static_cast<std::streamsize>(std::min(sizeof chunk, room)));
      result.body.append(chunk, static_cast<std::size_t>(in.gcount()));
      if (result.body.size() > limit) return too_large();
    }
    if (watchdog.fired()) return ended_by_watchdog();
    if (body_expected && declared >= 0 && result.body.size() < static_cast<unsigned long long>(declared)) {
      return fail(502, "the answer from " + address + " ended before its Content-Length");
    }
    // Read to its end, and the provider keeps the connection: the next call may use it.
    if (response.getKeepAlive() && (declared >= 0 || response.getChunkedTransferEncoding() || !body_expected)) {
      keep(key, std::move(kept));
    }
  } catch (const std::exception& e) {
    if (watchdog.fired()) return ended_by_watchdog();
    const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
    const std::string why = poco != nullptr ? poco->displayText() : e.what();
    if (dynamic_cast<const Poco::Net::SSLException*>(&e) != nullptr) return fail(502, "TLS: " + why);
    if (dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr) return fail(504, no_answer);
    if (answered) return fail(502, "the answer from " + address + " was cut short: " + why);
    auto failed = fail(502, "call to " + address + " failed: " + why);
    failed.retry = kept.reused;  // a kept connection closed by the provider meanwhile
    return failed;
  }
  return Exchange{std::move(result), false};
}

std::optional<UpstreamClient::Kept> UpstreamClient::takeKept(const std::string& key) const {
  std::lock_guard<std::mutex> lock(kept_mutex_);
  const auto it = kept_.find(key);
  if (it == kept_.end()) return std::nullopt;
  auto& idle = it->second;
  while (!idle.empty()) {
    auto kept = std::move(idle.back());  // the most recently used: the least likely closed
    idle.pop_back();
    --kept_count_;
    // Idle too long (providers close idle connections after a few seconds), or readable while
    // idle (the provider closed it, or sent what nobody asked for): not used again.
    if (Clock::now() - kept.idle_since > kKeptIdle || readableNow(kept.session->socket())) continue;
    kept.reused = true;
    if (idle.empty()) kept_.erase(it);
    return kept;
  }
  kept_.erase(it);
  return std::nullopt;
}

void UpstreamClient::keep(const std::string& key, Kept kept) const {
  kept.idle_since = Clock::now();
  std::lock_guard<std::mutex> lock(kept_mutex_);
  auto& idle = kept_[key];
  if (idle.size() >= kMaxKeptPerUpstream || kept_count_ >= kMaxKept) return;  // closed as it goes
  idle.push_back(std::move(kept));
  ++kept_count_;
}

}  // namespace hydra::broker::proxy
