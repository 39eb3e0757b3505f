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
#include <thread>
#include <variant>
#include <vector>

#include "broker/providers/registry.hpp"
#include "broker/audit/journal.hpp"
#include "shared/crypto/open.hpp"
#include "shared/crypto/seal.hpp"
#include "shared/db/pool.hpp"
#include "shared/http/errors.hpp"

namespace hydra::broker {

struct RefreshSettings {
  std::chrono::seconds skew{120};   // HYDRA_REFRESH_SKEW_SECONDS
  std::chrono::seconds ahead{900};  // HYDRA_REFRESH_AHEAD_SECONDS
  std::chrono::seconds budget{10};  // all attempts of one refresh, together
  /// How long a fetch waits for a refresh, counted from the attempt's start
  /// (HYDRA_REFRESH_FETCH_WAIT_MS): a runtime should not wait on a slow provider for long, and
  /// an answer must come well before Pistache's 5 s request timeout. No thread waits meanwhile;
  /// the refresh itself goes on without the fetch.
  std::chrono::milliseconds fetch_wait{2000};
};

/// What went wrong around refresh attempts, not at providers (also logged when it happens).
struct RefreshCounters {
  std::uint64_t threads_not_started = 0;  // an attempt's thread could not be created
  std::uint64_t records_failed = 0;       // an attempt's audit record could not be written
  // Attempts ended, by outcome (RefreshOutcome::Kind), for the metrics.
  std::uint64_t refreshed = 0, unchanged = 0, broken = 0, unavailable = 0;
};

/// The connection a refresh is for, and who asked (for the audit trail).
struct RefreshTarget {
  std::string connection_id, customer_id, provider;
  hydra::audit::AuditRecord context;  // instance, proxy key, request id and peer of the fetch, if any
  /// A provider refused this access token (a proxied call's 401): refreshed while the stored
  /// token is still this one, however long it would otherwise stay valid.
  std::optional<std::string> rejected_access_token;
};

struct RefreshOutcome {
  enum class Kind { kFresh, kUnchanged, kBroken, kUnavailable } kind = Kind::kUnchanged;
  std::string credentials_json;  // kFresh: the stored credentials after the refresh
  std::string message;           // kBroken / kUnavailable: why
};

class Refresher {
 public:
  Refresher(hydra::db::Pool& pool, const crypto::Opener& opener, const crypto::Sealer& sealer,
            const providers::ProviderRegistry& providers, audit::Journal& journal, RefreshSettings settings)
      : pool_(pool), opener_(opener), sealer_(sealer), providers_(providers), journal_(journal), settings_(settings),
        timer_([this] { endLateWaits(); }) {}
  /// Waits for attempts still running (their waiters get their answers).
  ~Refresher();
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  /// What a fetch may release: the credentials (fresh enough, or refreshed), or the refusal:
  /// 409 when the connection is broken (invalid_grant) or has expired with no refresh token
  /// (both also recorded on the connection), 503 when the provider is unavailable and the old
  /// token has expired.
  using Fresh = std::variant<std::string, http::ApiError>;
  /// Calls `done` with it exactly once, without holding the calling thread: at once when no
  /// refresh is needed or possible, when the connection's refresh failed moments ago, or when
  /// its attempt has been running longer than settings().fetch_wait; otherwise when the
  /// attempt ends or that wait is over (on the attempt's thread or the waits' timer thread).
  void whenFresh(const RefreshTarget& target, std::string credentials_json, std::function<void(Fresh)> done);

  /// After a provider refused the access token of `credentials_json` (a proxied call's 401):
  /// refreshed once, shared by every caller that saw the same token refused, unless the stored
  /// token is another one already (then that one). The same credentials when there is nothing
  /// to refresh with, or the provider's token endpoint is unavailable. Otherwise as whenFresh.
  void whenRejected(RefreshTarget target, std::string credentials_json, std::function<void(Fresh)> done);

  /// Whether a fetch of these credentials would refresh them first (the access token expires
  /// within the skew, or there is none). Cheap: no lock, no I/O.
  bool dueForRefresh(const std::string& credentials_json) const;

  /// Background refresh of a token expiring within the ahead window.
  RefreshOutcome refreshAhead(const RefreshTarget& target);

  const RefreshSettings& settings() const { return settings_; }
  RefreshCounters counters() const;

 private:
  using Clock = std::chrono::steady_clock;
  /// A fetch waiting on an attempt.
  struct Waiter {
    Clock::time_point deadline;
    std::string old_credentials;  // what it may still release if the provider does not answer
    std::function<void(Fresh)> done;
  };
  struct Attempt {
    std::shared_future<RefreshOutcome> result;
    Clock::time_point started;
    std::vector<Waiter> waiters;
  };
  /// The attempt of this connection, started if there is none (mutex_ held): one per
  /// connection at a time in this process, run on a thread of its own, shared by every caller.
  /// Null if its thread could not be created.
  Attempt* attemptFor(const RefreshTarget& target, std::chrono::seconds due_within);
  /// Waits on this connection's attempt (started if there is none), up to fetch_wait.
  void join(const RefreshTarget& target, std::string credentials_json, std::function<void(Fresh)> done);
  /// On the attempt's thread when it ends: its waiters get their answers.
  void attemptEnded(const std::string& connection_id);
  /// The waits' timer: ends every wait whose deadline has passed.
  void endLateWaits();
  /// What a fetch gets from an attempt's outcome.
  static Fresh answer(const RefreshOutcome& outcome, const std::string& old_credentials);
  /// Whether an attempt for this connection found the provider unavailable moments ago.
  bool recentlyUnavailable(const std::string& connection_id);
  /// Fetches of this connection do not wait on the provider for a while (mutex_ held).
  void backOff(const std::string& connection_id);
  /// The attempt itself, holding the secret row locked.
  RefreshOutcome refreshLocked(const RefreshTarget& target, std::chrono::seconds due_within);
  void recordAttempt(const RefreshTarget& target, const RefreshOutcome& outcome);

  hydra::db::Pool& pool_;
  const crypto::Opener& opener_;
  const crypto::Sealer& sealer_;
  const providers::ProviderRegistry& providers_;
  audit::Journal& journal_;
  const RefreshSettings settings_;

  mutable std::mutex mutex_;
  std::condition_variable idle_;  // in_flight_ became empty
  std::condition_variable waits_changed_;
  std::map<std::string, Attempt> in_flight_;
  std::map<std::string, Clock::time_point> unavailable_until_;
  RefreshCounters counters_;
  bool stopping_ = false;
  std::thread timer_;  // runs endLateWaits()
};

/// The credentials a runtime may see: everything but refresh_token and client_secret, for every
/// auth_type (the row's auth_type is the control plane's to change; the seal does not bind it).
std::string releasableCredentials(const std::string& credentials_json);

}  // namespace hydra::broker
