#include "control-plane/webhooks/dispatcher.hpp"

#include <chrono>
#include <random>

#include <pqxx/pqxx>

#include "control-plane/db/statements.hpp"
#include "shared/http/errors.hpp"
#include "shared/log/log.hpp"

namespace hydra::cp::webhooks {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kPollInterval = 500ms;
constexpr auto kOutageBackoff = 2s;
constexpr auto kTrimInterval = std::chrono::minutes(10);
constexpr std::size_t kPoolSize = 2;
// A claimed delivery is leased for the attempt's time and this margin (name resolution comes
// before the attempt's clock starts); a worker that dies leaves the lease to expire, and
// another process delivers: at least once.
constexpr int kLeaseMarginSeconds = 15;

Poco::Logger& logger() { return Poco::Logger::get("hydra.webhooks"); }

/// What may be logged of a failure: never a libpq message (they can hold SQL).
std::string describe(const std::exception& e) {
  if (const auto* api = dynamic_cast<const http::ApiError*>(&e)) return api->detail();
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e))
    return "database error (SQLSTATE " + sql->sqlstate() + ")";
  if (dynamic_cast<const pqxx::failure*>(&e) != nullptr) return "database error";
  return e.what();
}

double jitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

SigningKey keyFrom(const pqxx::field& field) {
  const pqxx::binarystring bytes(field);
  return SigningKey(bytes.begin(), bytes.end());
}

}  // namespace

Dispatcher::Dispatcher(const std::string& database_url, const Settings& settings)
    : settings_(settings), pool_(database_url, kPoolSize, db::prepareStatements), sender_(settings) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  if (settings_.workers == 0) {
    logger().information("webhook delivery is off in this process (HYDRA_WEBHOOK_WORKERS=0)");
    return;
  }
  for (int i = 0; i < settings_.workers; ++i) workers_.emplace_back([this] { work(); });
  claimer_ = std::thread([this] { claimLoop(); });
  logger().information("webhook delivery: " + std::to_string(settings_.workers) + " workers, at most " +
                       std::to_string(settings_.max_per_customer) + " per customer, " +
                       std::to_string(settings_.retry_schedule.size()) + " attempts at most, " +
                       std::to_string(settings_.timeout_seconds) + " s per attempt");
}

void Dispatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  work_ready_.notify_all();
  claim_due_.notify_all();
  if (claimer_.joinable()) claimer_.join();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
  // Claimed but never started: due again at once, for whoever delivers next.
  for (const auto& job : queue_) {
    try {
      release(job);
    } catch (const std::exception& e) {
      logger().warning("webhook delivery " + std::to_string(job.delivery_id) + " not handed back (" + describe(e) +
                       "); its lease expires in " + std::to_string(settings_.timeout_seconds + kLeaseMarginSeconds) +
                       " s");
    }
  }
  queue_.clear();
}

void Dispatcher::claimLoop() {
  auto next_trim = Clock::now() + 1min;
  bool failing = false;
  while (!stopping_) {
    std::size_t free = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      free = static_cast<std::size_t>(settings_.workers) - busy_ - queue_.size();
      woken_ = false;
    }
    std::vector<Job> jobs;
    if (free > 0) {
      try {
        jobs = claim(free);
        if (failing) logger().information("webhook delivery: the database is reachable again");
        failing = false;
      } catch (const std::exception& e) {
        if (!failing) logger().warning("webhook delivery paused: " + describe(e));
        failing = true;
        std::unique_lock<std::mutex> lock(mutex_);
        claim_due_.wait_for(lock, kOutageBackoff, [&] { return stopping_.load(); });
        continue;
      }
    }
    if (!jobs.empty()) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& job : jobs) queue_.push_back(std::move(job));
      }
      work_ready_.notify_all();
      if (jobs.size() == free) continue;  // there may be more due right now
    }
    if (Clock::now() >= next_trim) {
      trim();
      next_trim = Clock::now() + kTrimInterval;
    }
    // Until the next poll, unless a worker finishes first (its endpoint may have more due).
    std::unique_lock<std::mutex> lock(mutex_);
    claim_due_.wait_for(lock, kPollInterval, [&] { return stopping_ || woken_; });
  }
}

void Dispatcher::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;  // stop() hands back what is still queued
      job = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    const auto result = sender_.send(job.message, stopping_);
    try {
      if (stopping_ && !result.status) {
        release(job);
      } else {
        record(job, result);
      }
    } catch (const std::exception& e) {
      // Unrecorded: the lease expires and the delivery is attempted again (at least once).
      logger().warning("webhook delivery " + std::to_string(job.delivery_id) + ": result not recorded (" + describe(e) +
                       ")");
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --busy_;
      woken_ = true;
    }
    claim_due_.notify_one();
  }
}

std::vector<Dispatcher::Job> Dispatcher::claim(std::size_t wanted) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    // One per endpoint and at most the customer's cap, customers taking turns (the query).
    const auto due = tx.exec_prepared("webhook_delivery_due", static_cast<long long>(wanted),
                                      static_cast<long long>(settings_.max_per_customer));
    std::string ids;
    for (const auto& row : due) ids += (ids.empty() ? "" : ",") + std::string(row["id"].c_str());
    std::vector<Job> jobs;
    if (ids.empty()) return jobs;  // rolled back: the rows' locks go with the transaction
    const long long lease = settings_.timeout_seconds + kLeaseMarginSeconds;
    for (const auto& row : tx.exec_prepared("webhook_delivery_lease", "{" + ids + "}", lease)) {
      Job job;
      job.delivery_id = row["id"].as<long long>();
      job.attempt = row["attempts"].as<int>();
      job.endpoint_id = row["endpoint_id"].c_str();
      job.message.url = row["url"].c_str();
      job.message.webhook_id = row["webhook_id"].c_str();
      job.message.payload.assign(row["payload"].c_str(), row["payload"].size());
      job.message.keys.push_back(keyFrom(row["secret"]));
      if (!row["previous_secret"].is_null()) job.message.keys.push_back(keyFrom(row["previous_secret"]));
      jobs.push_back(std::move(job));
    }
    tx.commit();
    return jobs;
  });
}

void Dispatcher::record(const Job& job, const AttemptResult& result) {
  const auto verdict = result.status ? verdictFor(*result.status) : Verdict::kRetry;
  std::string state;
  std::optional<double> delay;
  // An error may quote what the receiver sent (a status line, a certificate name): stored and
  // logged escaped and bounded.
  std::optional<std::string> error;
  if (!result.error.empty()) error = log::escape(result.error, 500);
  switch (verdict) {
    case Verdict::kDelivered:
      state = "delivered";
      break;
    case Verdict::kFail:
      state = "failed";
      if (*result.status >= 300 && *result.status < 400) error = "redirects are not followed";
      break;
    case Verdict::kDisable:
      state = "failed";
      error = "410 Gone: the endpoint is disabled";
      break;
    case Verdict::kRetry:
      delay = nextDelay(settings_.retry_schedule, job.attempt, jitter(), result.retry_after);
      state = delay ? "pending" : "failed";
      break;
  }
  const std::optional<long long> status = result.status ? std::optional<long long>(*result.status) : std::nullopt;
  const std::optional<std::string> response =
      result.status ? std::optional<std::string>(result.response_excerpt) : std::nullopt;
  pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_prepared("webhook_delivery_record", job.delivery_id, job.attempt, state, delay.value_or(0.0), status, error,
                     response);
    if (verdict == Verdict::kDisable) {
      tx.exec_prepared("webhook_endpoint_disable", job.endpoint_id, "The endpoint answered 410 Gone");
      tx.exec_prepared("webhook_delivery_fail_pending", job.endpoint_id);
    }
    tx.commit();
  });

  if (verdict == Verdict::kDelivered) {
    logger().debug("webhook delivery " + std::to_string(job.delivery_id) + " to endpoint " + job.endpoint_id +
                   " delivered, attempt " + std::to_string(job.attempt));
    return;
  }
  const std::string what = "webhook delivery " + std::to_string(job.delivery_id) + " to endpoint " + job.endpoint_id +
                           ", attempt " + std::to_string(job.attempt) + ": " +
                           (status ? "HTTP " + std::to_string(*status) : *error);
  if (verdict == Verdict::kDisable) {
    logger().warning(what + "; endpoint disabled");
  } else if (delay) {
    logger().information(what + "; next attempt in " + std::to_string(static_cast<long long>(*delay)) + " s");
  } else {
    logger().information(what + "; failed for good");
  }
}

void Dispatcher::release(const Job& job) {
  // Outside a transaction, the write may have happened although its connection broke: once only.
  pool_.run(
      [&](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        tx.exec_prepared(
            "webhook_delivery_record", job.delivery_id, job.attempt, "pending", 0.0, std::optional<long long>(),
            std::optional<std::string>("interrupted: the control plane stopped"), std::optional<std::string>());
      },
      hydra::db::Pool::Retry::kNever);
}

void Dispatcher::trim() {
  try {
    pool_.run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec_prepared("webhook_message_trim");
    });
  } catch (const std::exception& e) {
    logger().warning("webhook history not trimmed: " + describe(e));
  }
}

}  // namespace hydra::cp::webhooks
