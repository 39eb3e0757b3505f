#pragma once
// Keeps oauth2 access tokens fresh. The broker is the only process that can read refresh
// tokens, so it refreshes them: on a fetch whose token expires within the skew, and ahead of
// time from a background loop (refresh_loop.hpp).
//
// Exactly one refresh per connection at a time: within a process, concurrent callers share
// one attempt; across broker processes, the attempt holds the connection's secret row locked
// (SELECT ... FOR UPDATE) from reading the refresh token until the new tokens are committed,
// and a process that waited re-reads the row and finds it fresh. Rotated refresh tokens are
// therefore committed before anything is returned, and a refresh token is never sent twice
// except to retry an answer that proved it unused (5xx, 429, refused connection).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "broker/oauth/providers.hpp"
#include "broker/audit/journal.hpp"
#include "shared/crypto/open.hpp"
#include "shared/crypto/seal.hpp"
#include "shared/db/pool.hpp"

namespace hydra::broker {

struct RefreshSettings {
  std::chrono::seconds skew{120};   // HYDRA_REFRESH_SKEW_SECONDS
  std::chrono::seconds ahead{900};  // HYDRA_REFRESH_AHEAD_SECONDS
  std::chrono::seconds budget{10};  // all attempts of one refresh, together
  /// How long a fetch waits for a refresh (HYDRA_REFRESH_FETCH_WAIT_MS): a server thread is
  /// held meanwhile, so this is short; the refresh itself goes on without the fetch.
  std::chrono::milliseconds fetch_wait{2000};
  /// How many fetches may wait on refreshes at once, all connections together
  /// (HYDRA_REFRESH_MAX_WAITING_FETCHES); the others answer at once, so a stalled provider
  /// can never hold more than these server threads.
  std::size_t max_waiting_fetches = 4;
};

/// What went wrong around refresh attempts, not at providers (also logged when it happens).
struct RefreshCounters {
  std::uint64_t threads_not_started = 0;  // an attempt's thread could not be created
  std::uint64_t records_failed = 0;       // an attempt's audit record could not be written
  std::uint64_t fetches_not_waiting = 0;  // fetches answered at once: too many waiting already
};

/// The connection a refresh is for, and who asked (for the audit trail).
struct RefreshTarget {
  std::string connection_id, customer_id, provider;
  audit::AuditRecord context;  // instance, proxy key, request id and peer of the fetch, if any
};

struct RefreshOutcome {
  enum class Kind { kFresh, kUnchanged, kBroken, kUnavailable } kind = Kind::kUnchanged;
  std::string credentials_json;  // kFresh: the stored credentials after the refresh
  std::string message;           // kBroken / kUnavailable: why
};

class Refresher {
 public:
  Refresher(hydra::db::Pool& pool, const crypto::Opener& opener, const crypto::Sealer& sealer,
            const oauth::ProviderRegistry& providers, audit::Journal& journal, RefreshSettings settings)
      : pool_(pool), opener_(opener), sealer_(sealer), providers_(providers), journal_(journal), settings_(settings) {}
  /// Waits for attempts still running.
  ~Refresher();
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  /// The credentials a fetch may release: `credentials_json` if fresh enough, else refreshed
  /// ones. Throws http::ApiError: 409 when the connection is broken (invalid_grant) or has
  /// expired with no refresh token (both also recorded on the connection), 503 when the
  /// provider is unavailable and the old token has expired. Waits at most
  /// settings().fetch_wait, and not at all when the connection's refresh has been running
  /// longer than that, when it failed moments ago, or when max_waiting_fetches already wait.
  std::string freshForFetch(const RefreshTarget& target, const std::string& credentials_json);

  /// Whether a fetch of these credentials would refresh them first (the access token expires
  /// within the skew, or there is none). Cheap: no lock, no I/O.
  bool dueForRefresh(const std::string& credentials_json) const;

  /// Background refresh of a token expiring within the ahead window.
  RefreshOutcome refreshAhead(const RefreshTarget& target);

  const RefreshSettings& settings() const { return settings_; }
  RefreshCounters counters() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Attempt {
    std::shared_future<RefreshOutcome> result;
    Clock::time_point started;
  };
  /// One attempt per connection at a time in this process, run on a thread of its own;
  /// concurrent callers share it. `wait`: how long a fetch may wait (see freshForFetch);
  /// nullopt for the background loop, which waits for the attempt to end.
  RefreshOutcome refreshShared(const RefreshTarget& target, std::chrono::seconds due_within,
                               std::optional<Clock::duration> wait);
  /// Starts an attempt (mutex_ held); false if its thread could not be created.
  bool startAttempt(const RefreshTarget& target, std::chrono::seconds due_within, Attempt& attempt);
  /// Whether an attempt for this connection found the provider unavailable moments ago.
  bool recentlyUnavailable(const std::string& connection_id);
  void backOff(const std::string& connection_id);
  /// The attempt itself, holding the secret row locked.
  RefreshOutcome refreshLocked(const RefreshTarget& target, std::chrono::seconds due_within);
  void recordAttempt(const RefreshTarget& target, const RefreshOutcome& outcome);

  hydra::db::Pool& pool_;
  const crypto::Opener& opener_;
  const crypto::Sealer& sealer_;
  const oauth::ProviderRegistry& providers_;
  audit::Journal& journal_;
  const RefreshSettings settings_;

  mutable std::mutex mutex_;
  std::condition_variable idle_;  // in_flight_ became empty
  std::map<std::string, Attempt> in_flight_;
  std::map<std::string, Clock::time_point> unavailable_until_;
  std::size_t waiting_ = 0;  // fetches waiting on an attempt now
  RefreshCounters counters_;
};

/// The oauth2 credentials a runtime may see: everything but refresh_token and client_secret.
std::string releasableCredentials(const std::string& credentials_json);

}  // namespace hydra::broker
