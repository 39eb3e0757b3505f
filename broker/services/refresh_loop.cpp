#include "broker/services/refresh_loop.hpp"

#include <algorithm>
#include <system_error>

#include "broker/services/refresh_schedule.hpp"

#include "shared/log/log.hpp"

namespace hydra::broker {
namespace {

// A pass looks at up to kCandidates due connections, at most kPerGroup of each (customer,
// provider), so that one customer's thousands cannot fill the list; refresh_schedule.hpp
// then orders them fairly.
constexpr int kCandidates = 1000;
constexpr int kPerGroup = 20;
// Attempts of one pass run on kWorkers threads (the refresh pool has 4 connections: one is
// left for the fetches' own refreshes), at most kPerProvider for one provider, and a
// provider gets kProviderBudget of a pass: a stalled provider delays only its own customers.
constexpr std::size_t kWorkers = 3;
constexpr std::size_t kPerProvider = 2;
constexpr auto kProviderBudget = std::chrono::seconds(60);
constexpr auto kMaxBackoff = std::chrono::minutes(30);

std::string arrayLiteral(const std::vector<std::string>& names) {
  std::string out = "{";
  for (const auto& name : names) {
    std::string quoted = "\"";
    for (char ch : name) {
      if (ch == '"' || ch == '\\') quoted += '\\';
      quoted += ch;
    }
    out += (out.size() > 1 ? "," : "") + quoted + "\"";
  }
  return out + "}";
}

}  // namespace

RefreshLoop::RefreshLoop(hydra::db::Pool& pool, Refresher& refresher, const std::vector<std::string>& providers,
                         std::chrono::seconds interval)
    : pool_(pool), refresher_(refresher), providers_(arrayLiteral(providers)), interval_(interval),
      thread_([this] { run(); }) {}

RefreshLoop::~RefreshLoop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void RefreshLoop::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [&] { return stopping_; })) {
    lock.unlock();
    try {
      pass();
    } catch (const std::exception& e) {
      log::app().warning(std::string("refresh loop: ") + e.what());  // e.g. database down: next pass
    }
    lock.lock();
  }
}

bool RefreshLoop::stopping() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

// PostgreSQL array literals of names and UUIDs we produced or read back: no quoting needed
// for UUIDs; provider names are quoted.
std::string RefreshLoop::backingOff(std::chrono::steady_clock::time_point now) {
  std::string ids = "{";
  for (auto it = backoff_.begin(); it != backoff_.end();) {
    if (it->second.next_try <= now) {
      ++it;
      continue;
    }
    ids += (ids.size() > 1 ? "," : "") + it->first;
    ++it;
  }
  return ids + "}";
}

void RefreshLoop::pass() {
  const auto now = std::chrono::steady_clock::now();
  const auto due = pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx.exec_prepared("connection_list_refresh_due", refresher_.settings().ahead.count(), kCandidates, providers_,
                            backingOff(now), kPerGroup);
  });
  std::vector<DueConnection> candidates;
  for (const auto& row : due) candidates.push_back({row["id"].c_str(), row["customer_id"].c_str(), row["provider"].c_str()});
  RefreshSchedule schedule(fairOrder(candidates), kPerProvider, kProviderBudget);

  std::mutex mutex;  // guards schedule and backoff_ while the workers run
  std::condition_variable changed;
  const auto work = [&] {
    std::unique_lock<std::mutex> lock(mutex);
    while (!schedule.empty() && !stopping()) {  // shutting down: start nothing new
      const auto next = schedule.next(std::chrono::steady_clock::now());
      if (!next) {
        // Every provider left is at its limit: wait for an attempt to end (or a budget to run out).
        changed.wait_for(lock, std::chrono::seconds(1));
        continue;
      }
      lock.unlock();
      RefreshTarget target{next->id, next->customer_id, next->provider, {}, std::nullopt};
      RefreshOutcome outcome;
      try {
        outcome = refresher_.refreshAhead(target);
      } catch (const std::exception& e) {
        outcome = {RefreshOutcome::Kind::kUnavailable, "", e.what()};
      }
      lock.lock();
      schedule.finished(next->provider);
      changed.notify_all();
      recordOutcome(target.connection_id, outcome, now);
    }
  };
  std::vector<std::thread> workers;
  try {
    for (std::size_t i = 0; i < kWorkers && i < candidates.size(); ++i) workers.emplace_back(work);
  } catch (const std::system_error& e) {
    log::app().error(std::string("refresh loop: cannot start a worker: ") + e.what());  // the others carry on
  }
  if (workers.empty() && !candidates.empty()) work();  // not even one: this thread does it
  for (auto& worker : workers) worker.join();
  if (schedule.dropped() > 0) {
    log::app().warning("refresh loop: " + std::to_string(schedule.dropped()) +
                       " due connection(s) left for the next pass: their provider used its share of this one");
  }
}

void RefreshLoop::recordOutcome(const std::string& connection_id, const RefreshOutcome& outcome,
                                std::chrono::steady_clock::time_point now) {
  if (outcome.kind == RefreshOutcome::Kind::kFresh) {
    backoff_.erase(connection_id);
    return;
  }
  // Not refreshed (provider down, broken, no refresh token, unknown provider): wait longer
  // each time; 30 s, 1 min, 2 min, ... up to 30 min.
  auto& entry = backoff_[connection_id];
  entry.failures = std::min(entry.failures + 1, 16);
  const auto wait = std::min<std::chrono::seconds>(std::chrono::seconds(30) * (1 << std::min(entry.failures - 1, 6)),
                                                   std::chrono::duration_cast<std::chrono::seconds>(kMaxBackoff));
  entry.next_try = now + wait;
  if (!outcome.message.empty()) {
    // The provider's words (already escaped by the token client) or ours: escaped once more
    // costs nothing and keeps the line one line whatever produced the message.
    log::app().warning("refresh loop: connection " + connection_id + " not refreshed: " + log::escape(outcome.message));
  }
}

}  // namespace hydra::broker
