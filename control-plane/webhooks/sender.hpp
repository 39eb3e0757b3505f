#pragma once
// One delivery attempt: resolve the URL's host, check every address it resolves to, connect to
// a checked address (never a second lookup that DNS rebinding could change), TLS verified for
// the URL's host name, POST the signed message, keep the status and a bounded excerpt of the
// answer. Redirects are not followed.

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Net/Context.h>

#include "control-plane/webhooks/settings.hpp"
#include "control-plane/webhooks/signature.hpp"

namespace hydra::cp::webhooks {

/// What one attempt sends.
struct Message {
  std::string url;
  std::string webhook_id;
  std::string payload;           // the body, exactly as stored
  std::vector<SigningKey> keys;  // current first; two during a rotation
};

struct AttemptResult {
  std::optional<int> status;             // the HTTP status, when there was an answer
  std::string error;                     // why there was no answer (empty when status is set)
  std::string response_excerpt;          // the answer's first bytes, as valid UTF-8
  std::optional<long long> retry_after;  // seconds, from Retry-After
};

/// At most this much of an answer's body is read and kept.
constexpr std::size_t kMaxResponseExcerpt = 1024;

/// `bytes` as valid UTF-8 without NUL: anything else becomes '?' (for a text column).
std::string printableUtf8(const std::string& bytes);

class Sender {
 public:
  explicit Sender(const Settings& settings);

  /// One attempt: at most settings.resolve_timeout_seconds to resolve the host name, then at
  /// most settings.timeout_seconds from the connect to the last byte. Aborted early when `stopping`.
  /// Never throws for anything the receiver or the network does.
  AttemptResult send(const Message& message, const std::atomic<bool>& stopping) const;

 private:
  const Settings& settings_;
  Poco::Net::Context::Ptr tls_;
};

}  // namespace hydra::cp::webhooks
