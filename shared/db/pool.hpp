#pragma once
// A small pool of PostgreSQL connections. libpqxx connections must not be shared between
// threads, so each request leases one. Statements are prepared once per connection.
// When PostgreSQL goes away, requests get a 503 (http::ApiError) instead of hanging, and
// the pool reconnects on its own once the database is back. After a restart of PostgreSQL (or
// its sessions terminated), pooled connections are dead although the database is back: a
// lease notices that before sending anything, and work that found its connection broken runs
// once more on a new one, so no request fails because of a connection that was stale.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include <pqxx/pqxx>

namespace hydra::db {

/// Prepares a component's statements on a freshly opened connection.
using Preparer = std::function<void(pqxx::connection&)>;

class Pool {
 public:
  Pool(std::string url, std::size_t size, Preparer prepare);

  /// What the pool holds now (for metrics): its size, connections open, leased, and requests
  /// waiting for one.
  struct Stats {
    std::size_t size, open, in_use, waiting;
  };
  Stats stats() const;

  /// Whether work may run again after its connection broke.
  enum class Retry {
    /// Once, on a new connection, when a connection taken from the pool turns out broken
    /// (pqxx::broken_connection). Right for work that runs one pqxx transaction, or only reads:
    /// a transaction whose connection broke before its commit cannot have committed, and one
    /// whose commit's outcome is unknown throws pqxx::in_doubt_error, which is never retried.
    kIfBroken,
    /// Never: work with effects outside one transaction (writes outside a transaction, calls
    /// to other services) that must not happen twice.
    kNever,
  };

  /// Runs `work` on a leased connection and returns what it returns. Database outages
  /// (connection refused or lost, server shutting down) become http::ApiError 503 with
  /// Retry-After; any other exception passes through unchanged.
  template <typename Work>
  auto run(Work&& work, Retry retry = Retry::kIfBroken) -> decltype(work(std::declval<pqxx::connection&>())) {
    for (bool first = true;; first = false) {
      auto lease = acquire();
      try {
        if constexpr (std::is_void_v<decltype(work(*lease.connection))>) {
          work(*lease.connection);
          release(std::move(lease.connection));
          return;
        } else {
          auto result = work(*lease.connection);
          release(std::move(lease.connection));
          return result;
        }
      } catch (...) {
        // A connection that was new broke: the database is away, not one stale connection.
        if (first && lease.pooled && retry == Retry::kIfBroken && brokenConnection(std::current_exception())) {
          discardStale(std::move(lease.connection));
          continue;
        }
        handleFailure(std::move(lease.connection), std::current_exception());
        throw;  // not reached: handleFailure always throws
      }
    }
  }

 private:
  struct Lease {
    std::unique_ptr<pqxx::connection> connection;
    bool pooled;  // taken from the idle connections (not opened for this lease)
  };
  Lease acquire();
  static bool brokenConnection(const std::exception_ptr& error);
  /// Closes `connection` and every idle one: after one was found dead, the others are too.
  void discardStale(std::unique_ptr<pqxx::connection> connection);
  void release(std::unique_ptr<pqxx::connection> connection);
  [[noreturn]] void handleFailure(std::unique_ptr<pqxx::connection> connection, std::exception_ptr error);

  const std::string url_;
  const std::size_t size_;
  const Preparer prepare_;

  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_ = 0;  // leased + idle
  std::size_t waiting_ = 0;
};

/// True for errors that mean "the database is unreachable or going away" rather than
/// "this statement failed".
bool isOutage(const std::exception& error);

}  // namespace hydra::db
