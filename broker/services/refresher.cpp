#include "broker/services/refresher.hpp"

#include <algorithm>
#include <iterator>
#include <system_error>
#include <thread>

#include <rapidjson/document.h>

#include "broker/oauth/token_client.hpp"
#include "shared/crypto/random.hpp"
#include "shared/db/bytea.hpp"
#include "shared/http/errors.hpp"
#include "shared/json/reader.hpp"
#include "shared/json/writer.hpp"
#include "shared/log/log.hpp"
#include "shared/oauth/token_fields.hpp"

namespace hydra::broker {
namespace {

using Kind = RefreshOutcome::Kind;
using Clock = std::chrono::steady_clock;

// One exchange with the token endpoint, connect to last byte. Not cut short by a fetch's
// budget: a request already at the provider is always heard out (see refreshShared).
constexpr auto kExchangeTimeout = std::chrono::seconds(30);
constexpr int kUnavailableRetryAfterSeconds = 5;
constexpr auto kUnavailableRetryAfter = std::chrono::seconds(kUnavailableRetryAfterSeconds);

rapidjson::Document parse(const std::string& credentials_json) {
  rapidjson::Document doc;
  // Our own serialisation, so valid; full precision so numbers come back unchanged.
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(credentials_json.c_str(), credentials_json.size());
  if (!doc.IsObject()) doc.SetObject();
  return doc;
}

std::optional<std::time_t> expiresAt(const rapidjson::Document& doc) {
  const auto it = doc.FindMember("expires_at");
  if (it == doc.MemberEnd()) return std::nullopt;
  if (it->value.IsNumber()) return static_cast<std::time_t>(it->value.GetDouble());
  if (it->value.IsString()) return hydra::oauth::parseTime(std::string_view(it->value.GetString(), it->value.GetStringLength()));
  return std::nullopt;
}

// Due: the access token expires within `window`, or there is none to return.
bool isDue(const rapidjson::Document& doc, std::chrono::seconds window) {
  if (json::stringMember(doc, "access_token").empty()) return true;
  const auto expires = expiresAt(doc);
  return expires && *expires - std::time(nullptr) <= window.count();
}

}  // namespace

std::string releasableCredentials(const std::string& credentials_json) {
  auto doc = parse(credentials_json);
  doc.EraseMember("refresh_token");
  doc.EraseMember("client_secret");
  return json::toString(doc);
}

void Refresher::whenFresh(const RefreshTarget& target, std::string credentials_json, std::function<void(Fresh)> done) {
  const auto doc = parse(credentials_json);
  if (!isDue(doc, settings_.skew)) return done(std::move(credentials_json));
  if (json::stringMember(doc, "refresh_token").empty()) {
    // Nothing to refresh with: only an access token that has really expired changes anything
    // (the locked path marks the connection expired).
    const auto expires = expiresAt(doc);
    if (!expires || *expires > std::time(nullptr)) return done(std::move(credentials_json));
  } else if (providers_.find(target.provider) == nullptr) {
    log::app().warning("connection " + target.connection_id + ": no token endpoint is configured for provider '" +
                       log::escape(target.provider, 64) + "'; returning its credentials as they are");
    return done(std::move(credentials_json));
  }
  join(target, std::move(credentials_json), std::move(done));
}

void Refresher::whenRejected(RefreshTarget target, std::string credentials_json, std::function<void(Fresh)> done) {
  const auto doc = parse(credentials_json);
  if (json::stringMember(doc, "refresh_token").empty() || providers_.find(target.provider) == nullptr) {
    return done(std::move(credentials_json));
  }
  target.rejected_access_token = json::stringMember(doc, "access_token");
  join(target, std::move(credentials_json), std::move(done));
}

void Refresher::join(const RefreshTarget& target, std::string credentials_json, std::function<void(Fresh)> done) {
  // Every fetch of this connection would otherwise start a new attempt against a provider
  // that just failed.
  if (recentlyUnavailable(target.connection_id)) {
    return done(answer({Kind::kUnavailable, "", "the provider failed moments ago"}, credentials_json));
  }
  std::unique_lock<std::mutex> lock(mutex_);
  auto* attempt = attemptFor(target, settings_.skew);
  if (attempt == nullptr) {
    lock.unlock();
    return done(answer({Kind::kUnavailable, "", "the refresh could not start"}, credentials_json));
  }
  if (attempt->result.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    attempt->waiters.push_back({Clock::time_point::max(), std::move(credentials_json), std::move(done)});
    return;  // its thread is answering its waiters right now: this fetch is one of them
  }
  // Nobody waits past the bound counted from the attempt's start: a fetch arriving while an
  // old attempt still runs answers at once.
  const auto deadline = attempt->started + settings_.fetch_wait;
  if (deadline <= Clock::now()) {
    lock.unlock();
    return done(answer({Kind::kUnavailable, "", "the provider has not answered yet"}, credentials_json));
  }
  attempt->waiters.push_back({deadline, std::move(credentials_json), std::move(done)});
  waits_changed_.notify_one();
}

bool Refresher::dueForRefresh(const std::string& credentials_json) const {
  return isDue(parse(credentials_json), settings_.skew);
}

RefreshOutcome Refresher::refreshAhead(const RefreshTarget& target) {
  // The loop has no caller waiting: it waits for the attempt to end, however long.
  std::shared_future<RefreshOutcome> result;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto* attempt = attemptFor(target, settings_.ahead);
    if (attempt == nullptr) return {Kind::kUnavailable, "", "the refresh could not start"};
    result = attempt->result;
  }
  return result.get();
}

RefreshCounters Refresher::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counters_;
}

Refresher::~Refresher() {
  // Attempts run on threads of their own: let them finish (each is bounded) and answer their
  // waiters before the pools and the journal they use go away.
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [&] { return in_flight_.empty(); });
  stopping_ = true;
  waits_changed_.notify_one();
  lock.unlock();
  timer_.join();
}

bool Refresher::recentlyUnavailable(const std::string& connection_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = unavailable_until_.find(connection_id);
  if (it == unavailable_until_.end()) return false;
  if (it->second > Clock::now()) return true;
  unavailable_until_.erase(it);
  return false;
}

void Refresher::backOff(const std::string& connection_id) {
  unavailable_until_[connection_id] = Clock::now() + kUnavailableRetryAfter;
}

Refresher::Attempt* Refresher::attemptFor(const RefreshTarget& target, std::chrono::seconds due_within) {
  if (const auto it = in_flight_.find(target.connection_id); it != in_flight_.end()) return &it->second;
  // The attempt runs on its own thread: once a request is at the provider, its answer (a
  // rotated refresh token, maybe) must be stored even if every fetch that waited has stopped
  // waiting. Abandoning it would lose the new token and resend the old one.
  auto task = std::make_shared<std::packaged_task<RefreshOutcome()>>(
      [this, target, due_within] { return refreshLocked(target, due_within); });
  auto& attempt = in_flight_[target.connection_id];
  attempt.result = task->get_future().share();
  attempt.started = Clock::now();
  try {
    std::thread([this, task, id = target.connection_id] {
      (*task)();  // never throws: the task keeps what its function threw for the waiters
      attemptEnded(id);
    }).detach();
    return &attempt;
  } catch (const std::system_error& e) {
    // Nothing may stay in flight for ever: the next fetch tries again.
    in_flight_.erase(target.connection_id);
    ++counters_.threads_not_started;
    log::app().error("connection " + target.connection_id + ": cannot start a refresh attempt (" + e.what() + "), " +
                     std::to_string(counters_.threads_not_started) + " so far");
    idle_.notify_all();
    return nullptr;
  }
}

void Refresher::attemptEnded(const std::string& connection_id) {
  std::shared_future<RefreshOutcome> result;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    result = in_flight_.at(connection_id).result;  // only this thread erases it
  }
  RefreshOutcome outcome;
  try {
    outcome = result.get();
  } catch (const std::exception& e) {
    // The database (or anything else) rather than the provider: the same rule applies.
    outcome = {Kind::kUnavailable, "", "the refresh could not run"};
    log::app().warning("connection " + connection_id + ": refresh failed: " + log::escape(e.what()));
  }
  std::unique_lock<std::mutex> lock(mutex_);
  switch (outcome.kind) {
    case Kind::kFresh: ++counters_.refreshed; break;
    case Kind::kUnchanged: ++counters_.unchanged; break;
    case Kind::kBroken: ++counters_.broken; break;
    case Kind::kUnavailable: ++counters_.unavailable; break;
  }
  if (outcome.kind == Kind::kUnavailable) backOff(connection_id);
  // Answered outside the lock; fetches that joined meanwhile are answered in the next round.
  // The attempt leaves in_flight_ only when nobody waits on it, so the destructor, which waits
  // for in_flight_ to empty, never runs while an answer is being given.
  while (true) {
    auto waiters = std::move(in_flight_.at(connection_id).waiters);
    in_flight_.at(connection_id).waiters.clear();
    if (waiters.empty()) break;
    lock.unlock();
    for (auto& waiter : waiters) waiter.done(answer(outcome, waiter.old_credentials));
    lock.lock();
  }
  in_flight_.erase(connection_id);
  idle_.notify_all();
}

void Refresher::endLateWaits() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    auto earliest = Clock::time_point::max();
    for (const auto& [id, attempt] : in_flight_) {
      for (const auto& waiter : attempt.waiters) earliest = std::min(earliest, waiter.deadline);
    }
    waits_changed_.wait_until(lock, earliest);
    std::vector<Waiter> late;
    const auto now = Clock::now();
    for (auto& [id, attempt] : in_flight_) {
      auto& waiters = attempt.waiters;
      const auto first_late = std::stable_partition(waiters.begin(), waiters.end(),
                                                    [&](const Waiter& w) { return w.deadline > now; });
      if (first_late == waiters.end()) continue;
      // The provider is slow: fetches of this connection stop waiting on it for a while.
      backOff(id);
      std::move(first_late, waiters.end(), std::back_inserter(late));
      waiters.erase(first_late, waiters.end());
    }
    lock.unlock();
    for (auto& waiter : late) {
      waiter.done(answer({Kind::kUnavailable, "", "the refresh is taking longer than a fetch may wait"},
                         waiter.old_credentials));
    }
    lock.lock();
  }
}

Refresher::Fresh Refresher::answer(const RefreshOutcome& outcome, const std::string& old_credentials) {
  switch (outcome.kind) {
    case Kind::kFresh:
    case Kind::kUnchanged:
      return outcome.credentials_json;
    case Kind::kBroken:
      return http::ApiError(409, outcome.message);
    case Kind::kUnavailable:
      break;
  }
  // The provider is down for now: the old token is still good if it has not actually expired.
  const auto doc = parse(old_credentials);
  const auto expires = expiresAt(doc);
  if (!json::stringMember(doc, "access_token").empty() && expires && *expires > std::time(nullptr)) return old_credentials;
  return http::ApiError(503, "The provider's token endpoint is unavailable: " + outcome.message,
                        kUnavailableRetryAfterSeconds);
}

RefreshOutcome Refresher::refreshLocked(const RefreshTarget& target, std::chrono::seconds due_within) {
  RefreshOutcome outcome;
  bool attempted = false;
  bool granted = false;  // the provider issued new tokens
  // One budget for waiting on another broker's refresh of this row and for our own retries.
  const auto deadline = Clock::now() + settings_.budget;
  try {
    pool_.run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      // The provider is called inside this transaction (it holds the row); what it commits,
      // the new refresh token above all, must be durable before anything is returned.
      // Set explicitly for this transaction, whatever the server's defaults: the session is
      // idle in transaction while the provider answers (a retry and a whole exchange), and a
      // server-wide idle_in_transaction_session_timeout ending it between the provider's
      // answer and the commit would lose a rotated refresh token.
      const auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               settings_.budget + kExchangeTimeout + std::chrono::seconds(30)).count();
      tx.exec("SET LOCAL statement_timeout = '30s'; SET LOCAL synchronous_commit = on; SET LOCAL lock_timeout = '" +
              std::to_string(settings_.budget.count() * 1000) + "ms'; SET LOCAL idle_in_transaction_session_timeout = '" +
              std::to_string(idle_ms) + "ms'");
      pqxx::result rows;
      try {
        rows = tx.exec_prepared("secret_lock_for_refresh", target.connection_id);
      } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() != "55P03") throw;  // lock_not_available: another broker is still at it
        outcome = {Kind::kUnavailable, "", "another broker is refreshing this connection"};
        return;
      }
      if (rows.empty()) {
        outcome = {Kind::kBroken, "", "The connection no longer exists"};
        return;
      }
      const auto& row = rows[0];
      // Read the status after the lock, in a statement of its own: the locking statement's
      // snapshot predates a broker that marked the connection broken while we waited.
      const auto current = tx.exec_prepared1("connection_status", target.connection_id);
      if (std::string(current["status"].c_str()) != "active") {
        outcome = {Kind::kBroken, "", "Connection is " + std::string(current["status"].c_str()) + ": " +
                                          (current["error_message"].is_null() ? "" : current["error_message"].c_str())};
        return;
      }
      // Re-read under the lock: another broker may have refreshed (and rotated) meanwhile.
      crypto::SealedSecret sealed;
      sealed.key_id = row["key_id"].c_str();
      const pqxx::binarystring ciphertext(row["ciphertext"]);
      sealed.ciphertext.assign(ciphertext.begin(), ciphertext.end());
      const auto aad = crypto::connectionAad(target.customer_id, target.connection_id);
      const auto plaintext = opener_.open(sealed, aad);
      const std::string stored(plaintext.begin(), plaintext.end());
      auto doc = parse(stored);
      outcome = {Kind::kUnchanged, stored, ""};
      const bool rejected =
          target.rejected_access_token && json::stringMember(doc, "access_token") == *target.rejected_access_token;
      if (!isDue(doc, due_within) && !rejected) return;

      const auto refresh_token = json::stringMember(doc, "refresh_token");
      if (refresh_token.empty()) {
        const auto expires = expiresAt(doc);
        if (expires && *expires <= std::time(nullptr)) {
          const std::string message = "Connection credentials have expired and there is no refresh token";
          tx.exec_prepared("connection_mark_expired", target.connection_id, message);
          tx.commit();
          outcome = {Kind::kBroken, "", message};
        }
        return;
      }
      const auto* provider = providers_.find(target.provider);
      if (provider == nullptr) return;
      // The connection's own OAuth client (customer-brought app) wins over the operator's, as a
      // pair: never one's id with the other's secret.
      const bool own_client = !json::stringMember(doc, "client_id").empty();
      const oauth::ClientCredentials client{own_client ? json::stringMember(doc, "client_id") : provider->client_id,
                                            own_client ? json::stringMember(doc, "client_secret") : provider->client_secret};

      attempted = true;
      auto backoff = std::chrono::milliseconds(250);
      while (true) {
        if (Clock::now() >= deadline) {
          outcome = {Kind::kUnavailable, "", "no time left to ask the provider"};
          return;
        }
        try {
          const auto grant = oauth::requestRefresh(*provider, client, refresh_token, kExchangeTimeout);
          granted = true;
          json::setStringMember(doc, "access_token", grant.access_token);
          if (!grant.token_type.empty()) json::setStringMember(doc, "token_type", grant.token_type);
          if (grant.refresh_token) json::setStringMember(doc, "refresh_token", *grant.refresh_token);
          std::optional<std::string> expires_at;
          doc.EraseMember("expires_at");
          if (grant.expires_in) {
            expires_at = hydra::oauth::formatTime(std::time(nullptr) + static_cast<std::time_t>(*grant.expires_in));
            json::setStringMember(doc, "expires_at", *expires_at);
          }
          const auto updated = json::toString(doc);
          const auto fresh = sealer_.seal(updated, aad);
          tx.exec_prepared("secret_store_refreshed", target.connection_id, fresh.key_id, hydra::db::byteaParam(fresh.ciphertext));
          tx.exec_prepared("connection_set_expiry", target.connection_id, expires_at);
          tx.commit();
          outcome = {Kind::kFresh, updated, ""};
          return;
        } catch (const oauth::RefreshRejected& e) {
          // We hold the row, so the refused refresh token is still the stored one: the
          // connection is broken until the customer replaces its credentials.
          // e.what() holds the provider's words escaped and bounded (token_client.hpp).
          const std::string message = "Token refresh failed: " + std::string(e.what());
          tx.exec_prepared("connection_mark_error", target.connection_id, message);
          tx.commit();
          outcome = {Kind::kBroken, "", message};
          return;
        } catch (const oauth::ClientRejected& e) {
          if (own_client && e.error == "invalid_client") {
            // The customer's own OAuth app was refused: their configuration, not the
            // operator's, so the connection is broken until they replace its credentials.
            const std::string message = "Token refresh failed: the provider refused the connection's own OAuth client: " +
                                        std::string(e.what());
            tx.exec_prepared("connection_mark_error", target.connection_id, message);
            tx.commit();
            outcome = {Kind::kBroken, "", message};
            return;
          }
          // The operator's OAuth client is misconfigured: not the customer's grant's fault.
          log::app().error("connection " + target.connection_id + ": the token endpoint of provider '" +
                           log::escape(target.provider, 64) + "' refused the OAuth client: " + e.what());
          outcome = {Kind::kUnavailable, "", std::string("the provider refused the OAuth client: ") + e.what()};
          return;
        } catch (const oauth::RefreshUnavailable& e) {
          // Retry only what proved the token unused, and only within the budget.
          const bool may_retry = !(e.maybe_consumed && provider->rotates_refresh_tokens);
          if (!may_retry || Clock::now() + backoff >= deadline) {
            outcome = {Kind::kUnavailable, "", e.what()};
            return;  // rolled back: nothing changed
          }
          std::this_thread::sleep_for(backoff);
          backoff *= 2;
        }
      }
    }, hydra::db::Pool::Retry::kNever);  // the provider was maybe called: never twice
  } catch (const std::exception& e) {
    if (attempted) {
      if (granted) {
        // The provider may have rotated the refresh token we could not store: say so loudly.
        log::app().error("ALARM: connection " + target.connection_id +
                         ": the provider issued new tokens but storing them failed (" + log::escape(e.what()) +
                         "); if it rotates refresh tokens, the customer may have to reconnect");
      }
      recordAttempt(target, {Kind::kUnavailable, "", granted ? "refreshed at the provider, but storing the new tokens failed"
                                                             : "the refresh failed"});
    }
    throw;
  }
  if (attempted) recordAttempt(target, outcome);
  return outcome;
}

void Refresher::recordAttempt(const RefreshTarget& target, const RefreshOutcome& outcome) {
  auto record = target.context;
  record.customer_id = target.customer_id;
  record.connection_id = target.connection_id;
  record.provider = target.provider;
  record.outcome = outcome.kind == Kind::kFresh ? "refreshed" : "refresh_failed";
  record.reason = outcome.kind == Kind::kFresh ? "access token refreshed" : outcome.message;
  if (record.request_id.empty()) {
    const auto id = crypto::randomBytes(8);
    record.request_id = "refresh-" + crypto::hex(id.data(), id.size());
  }
  try {
    journal_.appendAndWait(record);
  } catch (const std::exception& e) {
    // The attempt's outcome (new tokens already committed, maybe) still reaches its waiters;
    // a lost record is said loudly instead.
    std::uint64_t failed = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      failed = ++counters_.records_failed;
    }
    log::app().error("connection " + target.connection_id + ": the audit record of a refresh attempt (" +
                     record.outcome + ") could not be written: " + log::escape(e.what()) + "; " +
                     std::to_string(failed) + " so far");
  }
}

}  // namespace hydra::broker
