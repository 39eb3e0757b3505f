#pragma once
// A small pool of PostgreSQL connections. libpqxx connections must not be shared between
// threads, so each request leases one. Statements are prepared once per connection.
// When PostgreSQL goes away, requests get a 503 (http::ApiError) instead of hanging, and
// the pool reconnects on its own once the database is back.

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

  /// Runs `work` on a leased connection and returns what it returns. Database outages
  /// (connection refused or lost, server shutting down) become http::ApiError 503 with
  /// Retry-After; any other exception passes through unchanged.
  template <typename Work>
  auto run(Work&& work) -> decltype(work(std::declval<pqxx::connection&>())) {
    auto connection = acquire();
    try {
      if constexpr (std::is_void_v<decltype(work(*connection))>) {
        work(*connection);
        release(std::move(connection));
      } else {
        auto result = work(*connection);
        release(std::move(connection));
        return result;
      }
    } catch (...) {
      handleFailure(std::move(connection), std::current_exception());
      throw;  // not reached: handleFailure always throws
    }
  }

 private:
  std::unique_ptr<pqxx::connection> acquire();
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
