#include "shared/db/pool.hpp"

#include <poll.h>

#include "shared/http/errors.hpp"
#include "shared/log/log.hpp"

namespace hydra::db {
namespace {

constexpr auto kLeaseTimeout = std::chrono::seconds(5);
constexpr int kRetryAfterSeconds = 1;

http::ApiError unavailable() {
  return http::ApiError(503, "Database unavailable, retry shortly", kRetryAfterSeconds);
}

// An idle connection has nothing to read: pool connections LISTEN to nothing, and every answer
// was read in full. Input or a hang-up means the server ended the session (a restart, an
// administrator's pg_terminate_backend: a FATAL message, then end of file).
bool endedByServer(const pqxx::connection& connection) {
  pollfd watched{connection.sock(), POLLIN, 0};
  if (watched.fd < 0) return true;
  return ::poll(&watched, 1, 0) != 0;
}

}  // namespace

bool isOutage(const std::exception& error) {
  if (dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr) return true;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error)) {
    const std::string state = sql->sqlstate();
    // Class 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect now.
    return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03";
  }
  return false;
}

Pool::Pool(std::string url, std::size_t size, Preparer prepare)
    : url_(std::move(url)), size_(size), prepare_(std::move(prepare)) {}

Pool::Stats Pool::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {size_, open_, open_ - idle_.size(), waiting_};
}

Pool::Lease Pool::acquire() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    ++waiting_;
    const bool got = available_.wait_for(lock, kLeaseTimeout, [&] { return !idle_.empty() || open_ < size_; });
    --waiting_;
    if (!got) throw unavailable();
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      if (!endedByServer(*connection)) return {std::move(connection), true};
      // Dead before anything was sent on it: open a new one in its slot instead.
      --open_;
      open_ -= idle_.size();
      idle_.clear();
      log::db().warning("pooled PostgreSQL connections were closed by the server; opening new ones");
    }
    ++open_;  // reserve the slot; connect outside the lock
  }
  try {
    auto connection = std::make_unique<pqxx::connection>(url_);
    // A stalled statement holds a request and a pooled connection: bound it.
    pqxx::nontransaction(*connection).exec("SET TIME ZONE 'UTC'; SET statement_timeout = '10s'");
    prepare_(*connection);
    return {std::move(connection), false};
  } catch (const std::exception& e) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --open_;
    }
    available_.notify_one();
    // libpq's message names the host and user, never the password.
    log::db().warning(std::string("cannot connect to PostgreSQL: ") + e.what());
    throw unavailable();
  }
}

void Pool::release(std::unique_ptr<pqxx::connection> connection) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(connection));
  }
  available_.notify_one();
}

bool Pool::brokenConnection(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::broken_connection&) {
    return true;  // in_doubt_error (a commit's unknown outcome) is not one of these
  } catch (...) {
    return false;
  }
}

void Pool::discardStale(std::unique_ptr<pqxx::connection> connection) {
  connection.reset();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ -= idle_.size() + 1;
    idle_.clear();
  }
  available_.notify_all();
  log::db().warning("a pooled PostgreSQL connection was broken; running the request again on a new one");
}

void Pool::handleFailure(std::unique_ptr<pqxx::connection> connection, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
    if (sql != nullptr && sql->sqlstate() == "57014") {  // statement_timeout: busy, not gone
      release(std::move(connection));
      throw unavailable();
    }
    if (!isOutage(e)) {
      release(std::move(connection));
      throw;
    }
    // One lost connection means the server restarted or went away: every idle connection
    // is stale too, so drop them all rather than fail one request per stale connection.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      open_ -= idle_.size() + 1;
      idle_.clear();
    }
    available_.notify_all();
    log::db().warning("lost the PostgreSQL connection; reconnecting on the next request");
    throw unavailable();
  } catch (...) {
    release(std::move(connection));
    throw;
  }
}

}  // namespace hydra::db
