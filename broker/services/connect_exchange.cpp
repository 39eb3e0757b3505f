#include "broker/services/connect_exchange.hpp"

#include <algorithm>
#include <stdexcept>

#include <pqxx/pqxx>

#include "broker/db/listen_retry.hpp"
#include "broker/oauth/token_client.hpp"
#include "broker/providers/publish.hpp"
#include "broker/services/connect_payload.hpp"
#include "shared/db/bytea.hpp"
#include "shared/log/log.hpp"

namespace hydra::broker {
namespace {

constexpr const char* kChannel = "hydra_connect";
constexpr auto kMaxRetryWait = std::chrono::seconds(2);
constexpr std::size_t kMaxLoggedError = 1024;

// Why a session failed, in words the customer reads (the session's error, the connection's
// error_message): ours, or the provider's escaped and bounded by the token client. Never a
// secret: no code, verifier, token or client secret is ever part of one.
struct Failed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

crypto::SealedSecret sealedOf(const pqxx::field& key_id, const pqxx::field& ciphertext) {
  crypto::SealedSecret sealed;
  sealed.key_id = key_id.c_str();
  const pqxx::binarystring bytes(ciphertext);
  sealed.ciphertext.assign(bytes.begin(), bytes.end());
  return sealed;
}

std::string openText(const crypto::Opener& opener, const crypto::SealedSecret& sealed, const std::string& aad,
                     const std::string& what) {
  try {
    const auto plaintext = opener.open(sealed, aad);
    return {plaintext.begin(), plaintext.end()};
  } catch (const crypto::UnknownKeyError&) {
    throw Failed(what + " is sealed to a key this broker does not hold (" + log::escape(sealed.key_id, 64) + ")");
  } catch (const crypto::OpenError&) {
    throw Failed(what + " cannot be opened: it was changed or moved from another row");
  }
}

SealedCode parseCode(const std::string& text) {
  try {
    return parseSealedCode(text);
  } catch (const std::invalid_argument& e) {
    throw Failed(e.what());
  }
}

}  // namespace

ConnectExchange::ConnectExchange(std::string database_url, hydra::db::Pool& pool, const crypto::Opener& opener,
                                 const crypto::Sealer& sealer, const providers::ProviderRegistry& providers,
                                 audit::Journal& journal, ConnectExchangeSettings settings)
    : url_(std::move(database_url)), pool_(pool), opener_(opener), sealer_(sealer), providers_(providers),
      journal_(journal), settings_(settings), thread_([this] { run(); }) {}

ConnectExchange::~ConnectExchange() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();  // an exchange under way ends first: each request is bounded
}

bool ConnectExchange::stopping() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

void ConnectExchange::run() {
  db::ListenRetry retry(std::min<std::chrono::milliseconds>(kMaxRetryWait, settings_.poll));
  while (!stopping()) {
    bool listened = false;
    try {
      listen(listened);
    } catch (const std::exception& e) {
      // Without a listening connection the poll still finds every session, only later.
      if (retry.failed(listened)) {
        log::app().warning(std::string("connect exchange: ") + log::escape(e.what()) + "; looking for sessions by polling");
      }
    }
    drain();
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, retry.nextWait(), [&] { return stopping_; });
  }
}

void ConnectExchange::listen(bool& listened) {
  pqxx::connection connection(url_);
  bool notified = false;
  // The payload is a session id; any session waiting is claimed, so only the wake-up counts.
  class Receiver : public pqxx::notification_receiver {
   public:
    Receiver(pqxx::connection_base& c, bool& notified) : notification_receiver(c, kChannel), notified_(notified) {}
    void operator()(const std::string&, int) override { notified_ = true; }

   private:
    bool& notified_;
  } receiver(connection, notified);
  listened = true;
  publishOnce();
  log::app().information("connect exchange: listening on " + std::string(kChannel));
  auto next_poll = std::chrono::steady_clock::now();
  while (!stopping()) {
    // Sessions made while nobody listened (or whose notification was lost) are found here.
    if (notified || std::chrono::steady_clock::now() >= next_poll) {
      notified = false;
      drain();
      next_poll = std::chrono::steady_clock::now() + settings_.poll;
    }
    // At most a second at a time, so that stopping is noticed soon.
    connection.await_notification(1, 0);
  }
}

void ConnectExchange::publishOnce() {
  if (published_) return;
  // Start-up only: the registry does not change while the broker runs.
  const auto written = pool_.run([&](pqxx::connection& c) { return providers::publishConnectProviders(c, providers_); });
  published_ = true;
  log::app().information("connect exchange: " + std::to_string(written) + " provider(s) published for the connect flow");
}

void ConnectExchange::drain() {
  try {
    publishOnce();
    while (!stopping()) {
      const auto outcome = exchangeOne();
      draining_failed_ = false;
      if (!outcome) return;
      record(*outcome);
    }
  } catch (const std::exception& e) {
    // The database is away (or refused a statement): the session stays exchanging, and the
    // next look tries again. Said once per run of failures, not at every look.
    if (!draining_failed_) log::app().warning(std::string("connect exchange: ") + log::escape(e.what()));
    draining_failed_ = true;
  }
}

std::optional<ConnectExchange::Outcome> ConnectExchange::exchangeOne() {
  bool granted = false;  // the provider issued tokens for the session's code
  std::string session_id;
  try {
    return exchangeLocked(granted, session_id);
  } catch (const std::exception& e) {
    if (granted) {
      // The code is used up: the next look fails the session, and the user must connect again.
      log::app().error("ALARM: connect session " + session_id + ": the provider issued tokens but storing them failed (" +
                       log::escape(e.what()) + "); the end user will have to connect again");
    }
    throw;
  }
}

std::optional<ConnectExchange::Outcome> ConnectExchange::exchangeLocked(bool& granted, std::string& session_id) {
  return pool_.run([&](pqxx::connection& c) -> std::optional<Outcome> {
    pqxx::work tx(c);
    // The provider is called inside this transaction, which holds the session's row: every
    // attempt and its backoff, plus room for the statements.
    const auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             settings_.exchange_timeout * settings_.attempts +
                             settings_.first_backoff * (1 << std::max(settings_.attempts, 1)) + std::chrono::seconds(30))
                             .count();
    tx.exec("SET LOCAL statement_timeout = '30s'; SET LOCAL lock_timeout = '10s'; SET LOCAL synchronous_commit = on;"
            " SET LOCAL idle_in_transaction_session_timeout = '" + std::to_string(idle_ms) + "ms'");
    const auto rows = tx.exec_prepared("connect_session_claim");
    if (rows.empty()) return std::nullopt;
    const auto& session = rows[0];
    Outcome out;
    out.session_id = session["id"].c_str();
    session_id = out.session_id;
    out.customer_id = session["customer_id"].c_str();
    out.provider = session["provider"].c_str();
    if (!session["connection_id"].is_null()) out.connection_id = session["connection_id"].c_str();

    try {
      const auto* provider = providers_.find(out.provider);
      if (provider == nullptr) throw Failed("provider '" + log::escape(out.provider, 64) + "' is not in the broker's registry");
      if (session["code_key_id"].is_null()) throw Failed("the session holds no code");
      const auto code = parseCode(openText(opener_, sealedOf(session["code_key_id"], session["code_ciphertext"]),
                                           crypto::connectSessionAad(out.customer_id, out.session_id),
                                           "the session's code"));
      // The customer's own OAuth client, or the operator's shared one: as a pair, never one's id
      // with the other's secret.
      std::optional<oauth::ClientCredentials> own_client;
      oauth::ClientCredentials client{provider->client_id, provider->client_secret};
      if (!session["oauth_client_id"].is_null()) {
        const std::string client_row_id = session["oauth_client_id"].c_str();
        const auto found = tx.exec_prepared("oauth_client_for_exchange", client_row_id, out.customer_id);
        if (found.empty()) throw Failed("the session's OAuth client no longer exists");
        if (out.provider != found[0]["provider"].c_str()) throw Failed("the session's OAuth client is for another provider");
        own_client = oauth::ClientCredentials{
            found[0]["client_id"].c_str(),
            openText(opener_, sealedOf(found[0]["secret_key_id"], found[0]["secret_ciphertext"]),
                     crypto::oauthClientAad(out.customer_id, client_row_id), "the OAuth client's secret")};
        client = *own_client;
      } else if (provider->client_secret.empty()) {
        throw Failed("provider '" + out.provider + "' has no shared OAuth client in the broker's registry");
      }
      if (!out.connection_id) throw Failed("the session names no connection");
      const auto connection = tx.exec_prepared("connection_lock_for_exchange", *out.connection_id, out.customer_id);
      if (connection.empty()) throw Failed("the session's connection no longer exists");
      if (out.provider != connection[0]["provider"].c_str()) throw Failed("the session's connection is of another provider");
      tx.exec_prepared("secret_lock_for_exchange", *out.connection_id);

      oauth::TokenGrant grant;
      auto backoff = settings_.first_backoff;
      for (int attempt = 1;; ++attempt) {
        try {
          grant = oauth::requestAuthorizationCode(*provider, client, code.code, code.code_verifier, code.redirect_uri,
                                                  settings_.exchange_timeout);
          granted = true;
          break;
        } catch (const oauth::RefreshRejected& e) {
          throw Failed(std::string("the provider refused the authorization code: ") + e.what());
        } catch (const oauth::ClientRejected& e) {
          throw Failed(std::string("the provider refused the OAuth client: ") + e.what());
        } catch (const oauth::RefreshUnavailable& e) {
          // A code is single-use: a retry after a lost answer is refused (invalid_grant), and
          // the session fails as it would have anyway.
          if (attempt >= settings_.attempts || stopping()) {
            throw Failed("the provider's token endpoint is unavailable (" + std::to_string(attempt) +
                         " attempts): " + e.what());
          }
          std::this_thread::sleep_for(backoff);
          backoff *= 2;
        }
      }
      std::optional<std::string> expires_at;
      const auto credentials = exchangedCredentials(grant, own_client, std::time(nullptr), expires_at);
      const auto sealed = sealer_.seal(credentials, crypto::connectionAad(out.customer_id, *out.connection_id));
      tx.exec_prepared("secret_store_exchanged", *out.connection_id, sealed.key_id, hydra::db::byteaParam(sealed.ciphertext));
      tx.exec_prepared("connection_mark_connected", *out.connection_id, expires_at);
      tx.exec_prepared("connect_session_end", out.session_id, "connected", std::optional<std::string>());
      out.connected = true;
      out.reason = std::string("authorization code exchanged") + (own_client ? " with the customer's OAuth client" : "");
    } catch (const Failed& e) {
      out.reason = boundedSessionError(e.what());
      tx.exec_prepared("connect_session_end", out.session_id, "failed", out.reason);
      if (out.connection_id) tx.exec_prepared("connection_mark_connect_failed", *out.connection_id, out.reason);
    }
    tx.commit();
    return out;
  }, hydra::db::Pool::Retry::kNever);  // the provider was maybe called: never twice
}

void ConnectExchange::record(const Outcome& outcome) {
  hydra::audit::AuditRecord record;
  record.customer_id = outcome.customer_id;
  record.connection_id = outcome.connection_id;
  record.provider = outcome.provider;
  record.outcome = outcome.connected ? "connected" : "connect_failed";
  record.reason = outcome.reason;
  record.request_id = "connect-" + outcome.session_id;
  if (outcome.connected) {
    log::app().information("connect session " + outcome.session_id + ": connection " + *outcome.connection_id + " connected");
  } else {
    log::app().warning("connect session " + outcome.session_id + " failed: " + log::escape(outcome.reason, kMaxLoggedError));
  }
  try {
    journal_.appendAndWait(record);
  } catch (const std::exception& e) {
    // The session's outcome is committed already; a lost record is said loudly instead.
    log::app().error("connect session " + outcome.session_id + ": the audit record of the exchange (" + record.outcome +
                     ") could not be written: " + log::escape(e.what()));
  }
}

}  // namespace hydra::broker
