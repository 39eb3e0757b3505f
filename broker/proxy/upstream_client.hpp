#pragma once
// The broker's outbound half of a proxied call (issue 19): one HTTP request to the provider,
// with the egress rules of webhooks (shared/net/checked_connect): the provider's host is
// resolved here, every address checked against the operator's AddressPolicy (loopback, private,
// link-local, metadata, reserved ranges refused unless allowed), the connection made to a checked
// address, TLS verified for the host name against the system's CAs plus an optional CA file.
// Redirects are returned as they are, never followed; the answer's body is read up to a limit.
//
// Connections are kept alive for the next call to the same scheme, host and port (a TLS
// handshake costs milliseconds): at most kMaxKeptPerUpstream idle per upstream and kMaxKept in
// all, each used again only within kKeptIdle of its last answer and only if nothing arrived on
// it meanwhile. A kept connection was made to an address checked when it was opened. A call
// that gets no answer on a kept connection (the provider closed it just then) is made once more
// on a new one if its method is idempotent; otherwise it fails (502) rather than risk running
// twice.
//
// Never throws for anything the provider or the network does; failure details name the provider
// and the cause, never a header value or body of the request.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>

#include "broker/providers/upstream.hpp"
#include "shared/net/address_policy.hpp"

namespace hydra::broker::proxy {

struct UpstreamSettings {
  /// Operator-allowed ranges (the proxy's allowed CIDRs) and the refused ones.
  net::AddressPolicy addresses;
  /// HYDRA_PROXY_CA_FILE: a PEM bundle trusted in addition to the system's CAs (empty: none).
  std::string ca_file;
  /// HYDRA_PROXY_TIMEOUT_SECONDS: one call, from the lookup to the last byte of the answer.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  /// HYDRA_PROXY_MAX_RESPONSE_BYTES: an answer's body larger than this is refused.
  std::size_t max_response_bytes = 16 * 1024 * 1024;
};

struct UpstreamRequest {
  std::string provider;  // the provider's name, for failure details ("gmail")
  /// Where it goes: scheme, host and port are used (upstream.headers are NOT added here: the
  /// caller puts them into `headers` with the credential).
  providers::Upstream upstream;
  std::string method;  // "GET", "POST", ... (an HTTP token)
  /// The request target as sent: upstream.path_prefix + the normalised path, then '?' and the
  /// query string when there is one (see requestTarget). Must start with '/'.
  std::string target;
  /// Every header to send, in order, already filtered, credential included. The client sets
  /// Host, Content-Length and Connection itself: entries with those names (any case), and
  /// Transfer-Encoding, are ignored so they can never change the request's framing.
  providers::HeaderList headers;
  std::string body;  // sent with Content-Length (also "0" for an empty POST, PUT or PATCH)
  /// When set to true, the call is abandoned (shutdown); may be null.
  const std::atomic<bool>* stopping = nullptr;
  /// The end of the call; none: settings.timeout from now. A replayed call keeps the first
  /// one's, so the runtime waits at most one timeout for both.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

struct UpstreamResponse {
  int status = 0;
  /// Every header received, in order (Poco keeps repeated names together, in their order), as
  /// on the wire: Content-Length / Transfer-Encoding describe the wire, not `body`. The caller
  /// filters (providers::passesResponseHeader).
  providers::HeaderList headers;
  std::string body;  // de-chunked, at most max_response_bytes
};

struct UpstreamFailure {
  int status = 502;  // 502 (refused, unreachable, TLS, malformed, too large, stopping) or 504 (timed out)
  std::string detail;  // "gmail: cannot connect to 203.0.113.5: Connection refused"
};

using UpstreamResult = std::variant<UpstreamResponse, UpstreamFailure>;

/// upstream.path_prefix + `normal_path` (from proxy::normalisePath), then '?' + `query` unless
/// `query` is empty. `query` is sent as given: already encoded.
std::string requestTarget(const providers::Upstream& upstream, const std::string& normal_path,
                          const std::string& query);

class UpstreamClient {
 public:
  static constexpr std::size_t kMaxKeptPerUpstream = 32;
  static constexpr std::size_t kMaxKept = 512;
  /// Shorter than the idle timeouts of common servers (Apache's 5 s the shortest).
  static constexpr std::chrono::seconds kKeptIdle{4};

  /// Throws Poco::Exception when settings.ca_file cannot be loaded. The process should ignore
  /// SIGPIPE (oauth::initializeTls does): a socket shut down at the deadline may be written to.
  explicit UpstreamClient(UpstreamSettings settings);

  /// One call, blocking for at most settings.timeout (less when `stopping` turns true).
  /// Thread-safe: calls share the TLS context and the kept connections.
  UpstreamResult call(const UpstreamRequest& request) const;

  const UpstreamSettings& settings() const { return settings_; }

 private:
  using Clock = std::chrono::steady_clock;
  /// A connection and its session, between calls.
  struct Kept {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    std::string address;  // the checked address it was made to, for details
    Clock::time_point idle_since;
    bool reused = false;
  };
  struct Exchange {
    UpstreamResult result;
    bool retry = false;  // no answer on a kept connection: a new one may do
  };
  /// The request on `kept`, which goes back to the pool if the answer leaves it usable.
  Exchange exchange(const UpstreamRequest& request, Kept kept, const std::string& key, Clock::time_point deadline) const;
  std::optional<Kept> takeKept(const std::string& key) const;
  void keep(const std::string& key, Kept kept) const;

  UpstreamSettings settings_;
  Poco::Net::Context::Ptr tls_;
  mutable std::mutex kept_mutex_;
  mutable std::map<std::string, std::vector<Kept>> kept_;  // by scheme://host[:port]
  mutable std::size_t kept_count_ = 0;
};

}  // namespace hydra::broker::proxy
