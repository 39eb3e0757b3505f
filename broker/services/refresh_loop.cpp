#include "broker/services/refresh_loop.hpp"

#include <algorithm>

#include "shared/log/log.hpp"

namespace hydra::broker {
namespace {

constexpr int kBatch = 100;
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
    return tx.exec_prepared("connection_list_refresh_due", refresher_.settings().ahead.count(), kBatch, providers_,
                            backingOff(now));
  });
  for (const auto& row : due) {
    if (stopping()) return;  // shutting down: start nothing new
    RefreshTarget target{row["id"].c_str(), row["customer_id"].c_str(), row["provider"].c_str(), {}};
    RefreshOutcome outcome;
    try {
      outcome = refresher_.refreshAhead(target);
    } catch (const std::exception& e) {
      outcome = {RefreshOutcome::Kind::kUnavailable, "", e.what()};
    }
    if (outcome.kind == RefreshOutcome::Kind::kFresh) {
      backoff_.erase(target.connection_id);
      continue;
    }
    // Not refreshed (provider down, broken, no refresh token, unknown provider): wait longer
    // each time; 30 s, 1 min, 2 min, ... up to 30 min.
    auto& entry = backoff_[target.connection_id];
    entry.failures = std::min(entry.failures + 1, 16);
    const auto wait = std::min<std::chrono::seconds>(std::chrono::seconds(30) * (1 << std::min(entry.failures - 1, 6)),
                                                     std::chrono::duration_cast<std::chrono::seconds>(kMaxBackoff));
    entry.next_try = now + wait;
    if (!outcome.message.empty()) {
      log::app().warning("refresh loop: connection " + target.connection_id + " not refreshed: " + outcome.message);
    }
  }
}

}  // namespace hydra::broker
