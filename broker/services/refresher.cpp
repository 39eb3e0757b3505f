#include "broker/services/refresher.hpp"

#include <thread>

#include <rapidjson/document.h>

#include "broker/oauth/token_client.hpp"
#include "shared/crypto/random.hpp"
#include "shared/db/bytea.hpp"
#include "shared/http/errors.hpp"
#include "shared/json/writer.hpp"
#include "shared/log/log.hpp"
#include "shared/oauth/token_fields.hpp"

namespace hydra::broker {
namespace {

using Kind = RefreshOutcome::Kind;
using Clock = std::chrono::steady_clock;

constexpr auto kAttemptTimeout = std::chrono::seconds(5);
constexpr int kUnavailableRetryAfterSeconds = 5;

rapidjson::Document parse(const std::string& credentials_json) {
  rapidjson::Document doc;
  // Our own serialisation, so valid; full precision so numbers come back unchanged.
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(credentials_json.c_str(), credentials_json.size());
  if (!doc.IsObject()) doc.SetObject();
  return doc;
}

std::string text(const rapidjson::Document& doc, const char* field) {
  const auto it = doc.FindMember(field);
  if (it == doc.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
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
  if (text(doc, "access_token").empty()) return true;
  const auto expires = expiresAt(doc);
  return expires && *expires - std::time(nullptr) <= window.count();
}

void setString(rapidjson::Document& doc, const char* field, const std::string& value) {
  doc.EraseMember(field);
  doc.AddMember(rapidjson::Value(field, doc.GetAllocator()),
                rapidjson::Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), doc.GetAllocator()),
                doc.GetAllocator());
}

}  // namespace

std::string releasableCredentials(const std::string& credentials_json) {
  auto doc = parse(credentials_json);
  doc.EraseMember("refresh_token");
  doc.EraseMember("client_secret");
  return json::toString(doc);
}

std::string Refresher::freshForFetch(const RefreshTarget& target, const std::string& credentials_json) {
  const auto doc = parse(credentials_json);
  if (!isDue(doc, settings_.skew)) return credentials_json;
  if (text(doc, "refresh_token").empty()) {
    // Nothing to refresh with: only an access token that has really expired changes anything
    // (the locked path marks the connection expired).
    const auto expires = expiresAt(doc);
    if (!expires || *expires > std::time(nullptr)) return credentials_json;
  } else if (providers_.find(target.provider) == nullptr) {
    log::app().warning("connection " + target.connection_id + ": no token endpoint is configured for provider '" +
                       target.provider + "'; returning its credentials as they are");
    return credentials_json;
  }
  RefreshOutcome outcome;
  try {
    outcome = refreshShared(target, settings_.skew);
  } catch (const http::ApiError& e) {
    if (e.status() != 503) throw;
    outcome = {Kind::kUnavailable, "", e.detail()};  // the database, not the provider: same rule
  }
  switch (outcome.kind) {
    case Kind::kFresh:
    case Kind::kUnchanged:
      return outcome.credentials_json;
    case Kind::kBroken:
      throw http::ApiError(409, outcome.message);
    case Kind::kUnavailable:
      break;
  }
  // The provider is down for now: the old token is still good if it has not actually expired.
  const auto expires = expiresAt(doc);
  if (!text(doc, "access_token").empty() && expires && *expires > std::time(nullptr)) return credentials_json;
  throw http::ApiError(503, "The provider's token endpoint is unavailable: " + outcome.message,
                       kUnavailableRetryAfterSeconds);
}

RefreshOutcome Refresher::refreshAhead(const RefreshTarget& target) { return refreshShared(target, settings_.ahead); }

RefreshOutcome Refresher::refreshShared(const RefreshTarget& target, std::chrono::seconds due_within) {
  std::promise<RefreshOutcome> mine;
  std::shared_future<RefreshOutcome> shared;
  bool leader = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = in_flight_.find(target.connection_id);
    if (it != in_flight_.end()) {
      shared = it->second;
    } else {
      shared = mine.get_future().share();
      in_flight_.emplace(target.connection_id, shared);
      leader = true;
    }
  }
  if (leader) {
    try {
      mine.set_value(refreshLocked(target, due_within));
    } catch (...) {
      mine.set_exception(std::current_exception());
    }
    std::lock_guard<std::mutex> lock(mutex_);
    in_flight_.erase(target.connection_id);
  }
  return shared.get();
}

RefreshOutcome Refresher::refreshLocked(const RefreshTarget& target, std::chrono::seconds due_within) {
  RefreshOutcome outcome;
  bool attempted = false;
  // One budget for waiting on another broker's refresh of this row and for our own attempts,
  // so a fetch answers in bounded time even while the provider is failing.
  const auto deadline = Clock::now() + settings_.budget;
  pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    // The provider is called inside this transaction (it holds the row); what it commits,
    // the new refresh token above all, must be durable before anything is returned.
    tx.exec("SET LOCAL statement_timeout = '30s'; SET LOCAL synchronous_commit = on; SET LOCAL lock_timeout = '" +
            std::to_string(settings_.budget.count() * 1000) + "ms'");
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
    if (std::string(row["status"].c_str()) != "active") {
      outcome = {Kind::kBroken, "", "Connection is " + std::string(row["status"].c_str()) + ": " +
                                        (row["error_message"].is_null() ? "" : row["error_message"].c_str())};
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
    if (!isDue(doc, due_within)) return;

    const auto refresh_token = text(doc, "refresh_token");
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
    // The connection's own OAuth client (customer-brought app) wins over the operator's.
    const oauth::ClientCredentials client{
        text(doc, "client_id").empty() ? provider->client_id : text(doc, "client_id"),
        text(doc, "client_secret").empty() ? provider->client_secret : text(doc, "client_secret")};

    attempted = true;
    auto backoff = std::chrono::milliseconds(250);
    while (true) {
      const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (remaining < std::chrono::milliseconds(500)) {
        outcome = {Kind::kUnavailable, "", "no time left to ask the provider"};
        return;
      }
      try {
        const auto grant = oauth::requestRefresh(*provider, client, refresh_token, std::min<std::chrono::milliseconds>(remaining, kAttemptTimeout));
        setString(doc, "access_token", grant.access_token);
        if (!grant.token_type.empty()) setString(doc, "token_type", grant.token_type);
        if (grant.refresh_token) setString(doc, "refresh_token", *grant.refresh_token);
        std::optional<std::string> expires_at;
        doc.EraseMember("expires_at");
        if (grant.expires_in) {
          expires_at = hydra::oauth::formatTime(std::time(nullptr) + static_cast<std::time_t>(*grant.expires_in));
          setString(doc, "expires_at", *expires_at);
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
        const std::string message = std::string("Token refresh failed: ") + e.what();
        tx.exec_prepared("connection_mark_error", target.connection_id, message);
        tx.commit();
        outcome = {Kind::kBroken, "", message};
        return;
      } catch (const oauth::ClientRejected& e) {
        // The operator's OAuth client is misconfigured: not the customer's grant's fault.
        log::app().error("connection " + target.connection_id + ": the token endpoint of provider '" + target.provider +
                         "' refused the OAuth client: " + e.what());
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
  });
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
  record.marks_use = false;
  if (record.request_id.empty()) {
    const auto id = crypto::randomBytes(8);
    record.request_id = "refresh-" + crypto::hex(id.data(), id.size());
  }
  audit_.record(record);
}

}  // namespace hydra::broker
