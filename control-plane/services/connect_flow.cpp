#include "control-plane/services/connect_flow.hpp"

#include <rapidjson/document.h>

#include "control-plane/connect/secrets.hpp"
#include "control-plane/connect/urls.hpp"
#include "control-plane/db/rows.hpp"
#include "control-plane/model/connect.hpp"
#include "control-plane/services/webhook_outbox.hpp"
#include "control-plane/webhooks/events.hpp"
#include "shared/crypto/random.hpp"
#include "shared/db/bytea.hpp"
#include "shared/db/timestamps.hpp"
#include "shared/json/writer.hpp"
#include "shared/log/log.hpp"

namespace hydra::cp {
namespace {

using hydra::db::byteaParam;

std::string hashParam(const std::string& secret) { return byteaParam(crypto::tokenHash(secret)); }

LinkState stateOf(const std::string& status) {
  if (status == "pending") return LinkState::kOk;
  if (status == "expired") return LinkState::kExpired;
  return LinkState::kUsed;
}

// An OAuth error code as RFC 6749 allows it (%x20-21 / %x23-5B / %x5D-7E), narrowed to what
// may go into a URL and a log unquoted; anything else becomes "provider_error".
std::string errorCode(const std::string& raw) {
  std::string out;
  for (const char c : raw.substr(0, 64)) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') out += c;
  }
  return out.empty() || out.size() != std::min<std::size_t>(raw.size(), 64) ? "provider_error" : out;
}

// A rate limit as grant_insert takes it (as services/connections.cpp passes it).
std::pair<std::optional<long long>, std::optional<long long>> rateLimitParams(const std::optional<model::RateLimit>& limit) {
  if (!limit) return {};
  return {limit->requests, limit->per_seconds};
}

void insertGrant(pqxx::work& tx, const std::string& customer_id, const std::string& connection_id,
                 const model::GrantCreate& g) {
  const auto limit = rateLimitParams(g.rate_limit);
  auto created = db::grantFrom(tx.exec_prepared1("grant_insert", customer_id, connection_id, g.instance_id,
                                                 g.capabilities_json, g.expiry.at, g.expiry.in_seconds, g.proxy_only,
                                                 limit.first, limit.second));
  emitWebhookEvent(tx, customer_id, webhooks::events::kGrantCreated, model::toJson(created));
}

}  // namespace

std::string ConnectFlow::cookiePath() const { return connect::cookiePath(public_url_); }

LinkPage ConnectFlow::view(const std::string& token) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    LinkPage page;
    const auto rows = tx.exec_prepared("connect_session_by_token", hashParam(token));
    if (rows.empty()) return page;
    const auto& row = rows[0];
    page.state = stateOf(row["status"].c_str());
    page.customer_name = row["customer_name"].c_str();
    page.provider = row["provider"].c_str();
    rapidjson::Document descriptions;
    if (!row["scope_descriptions"].is_null()) descriptions.Parse(row["scope_descriptions"].c_str());
    for (auto& scope : model::stringsFromJson(row["scopes"].c_str())) {
      std::optional<std::string> words;
      if (descriptions.IsObject()) {
        const auto it = descriptions.FindMember(scope.c_str());
        if (it != descriptions.MemberEnd() && it->value.IsString()) words = it->value.GetString();
      }
      page.scopes.emplace_back(std::move(scope), std::move(words));
    }
    if (!row["authorization_url"].is_null()) page.form_targets.push_back(connect::origin(row["authorization_url"].c_str()));
    if (!row["error_url"].is_null()) page.form_targets.push_back(connect::origin(row["error_url"].c_str()));
    return page;
  });
}

ContinueResult ConnectFlow::begin(const std::string& token) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    ContinueResult out;
    const auto rows = tx.exec_prepared("connect_session_by_token", hashParam(token));
    if (rows.empty()) return out;
    const auto& row = rows[0];
    out.state = stateOf(row["status"].c_str());
    if (out.state != LinkState::kOk) return out;
    const std::string session_id = row["id"].c_str();
    std::string client_id;
    if (!row["oauth_client_id"].is_null() && !row["own_client_id"].is_null()) {
      client_id = row["own_client_id"].c_str();
    } else if (row["oauth_client_id"].is_null() && !row["shared_client_id"].is_null()) {
      client_id = row["shared_client_id"].c_str();
    }
    if (client_id.empty() || row["authorization_url"].is_null()) {
      // The registry lost the provider's shared client (or the provider) since the link was made.
      tx.exec_prepared("connect_session_fail", session_id, "no_oauth_client");
      tx.commit();
      out.no_client = true;
      return out;
    }
    const auto state = connect::newRandomValue();
    out.cookie = connect::newRandomValue();
    // Whoever comes second (a double click, a second tab) changes nothing and is told so.
    if (tx.exec_prepared("connect_session_begin", session_id, hashParam(state), hashParam(out.cookie)).empty()) {
      out.state = LinkState::kUsed;
      return out;
    }
    std::string scope;
    for (const auto& s : model::stringsFromJson(row["scopes"].c_str())) scope += (scope.empty() ? "" : " ") + s;
    std::vector<std::pair<std::string, std::string>> params{
        {"response_type", "code"}, {"client_id", client_id}, {"redirect_uri", redirectUri()},
        {"scope", scope},          {"state", state}};
    if (row["pkce"].as<bool>()) {
      params.emplace_back("code_challenge", connect::pkceChallenge(connect::pkceVerifier(out.cookie, state)));
      params.emplace_back("code_challenge_method", "S256");
    }
    if (!row["oauth_client_id"].is_null() && !row["authorization_params"].is_null()) {
      // Validated at creation: an object of strings, none of the names above.
      rapidjson::Document extra;
      extra.Parse(row["authorization_params"].c_str());
      if (extra.IsObject()) {
        for (const auto& m : extra.GetObject()) {
          if (m.value.IsString()) params.emplace_back(m.name.GetString(), m.value.GetString());
        }
      }
    }
    out.location = connect::withQuery(row["authorization_url"].c_str(), params);
    tx.commit();
    return out;
  });
}

CancelResult ConnectFlow::cancel(const std::string& token) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    CancelResult out;
    const auto rows = tx.exec_prepared("connect_session_by_token", hashParam(token));
    if (rows.empty()) return out;
    out.state = stateOf(rows[0]["status"].c_str());
    if (out.state != LinkState::kOk) return out;
    if (tx.exec_prepared("connect_session_cancel", rows[0]["id"].c_str()).empty()) {
      out.state = LinkState::kUsed;
      return out;
    }
    tx.commit();
    if (!rows[0]["error_url"].is_null()) {
      out.location = connect::withQuery(rows[0]["error_url"].c_str(), {{"error", "access_denied"}});
    }
    return out;
  });
}

void ConnectFlow::fail(const std::string& session_id, const std::string& error) {
  pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_prepared("connect_session_fail", session_id, error);
    tx.commit();
  });
}

CallbackResult ConnectFlow::callback(const CallbackInput& in) {
  using Kind = CallbackResult::Kind;
  const auto refused = [](int status, std::string message) {
    CallbackResult r;
    r.kind = Kind::kRefused;
    r.status = status;
    r.message = std::move(message);
    return r;
  };
  if (!in.state || in.state->empty() || in.state->size() > 512) {
    return refused(400, "The provider sent the browser back without the sign-in's state.");
  }
  std::string session_id;
  try {
    return pool_.run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto rows = tx.exec_prepared("connect_session_by_state", hashParam(*in.state));
      if (rows.empty()) return refused(400, "This sign-in is not known here (the link may have been tampered with).");
      const auto& row = rows[0];
      session_id = row["id"].c_str();
      const std::string customer_id = row["customer_id"].c_str();
      // A replay (the callback again, after the code was stored or the session ended) changes nothing.
      if (std::string("authorizing") != row["status"].c_str()) {
        return refused(410, "This sign-in was already completed or cancelled; start again from a new link.");
      }
      const auto failWith = [&](int status, const std::string& error, std::string message) {
        tx.exec_prepared("connect_session_fail", session_id, error);
        tx.commit();
        return refused(status, std::move(message));
      };
      // The state alone is no proof: the browser that pressed Continue must be this one (the
      // cookie), or a code of someone else's account could be planted in this session.
      if (!in.cookie || !crypto::constantTimeEquals(hashParam(*in.cookie), row["browser_hash"].c_str())) {
        return failWith(400, "browser_mismatch", "This browser did not start this sign-in; start again from the link.");
      }
      if (row["expired"].as<bool>()) return failWith(410, "expired", "This sign-in link has expired.");
      const auto error_url = row["error_url"].is_null() ? std::optional<std::string>() : row["error_url"].c_str();
      if (in.error) {
        const auto code = errorCode(*in.error);
        std::string error = code;
        if (in.error_description) error += ": " + log::escape(*in.error_description, 900);
        tx.exec_prepared("connect_session_fail", session_id, error);
        tx.commit();
        CallbackResult r;
        r.kind = Kind::kDenied;
        r.status = 400;
        r.message = code == "access_denied" ? "Access was not granted." : "The provider refused: " + code + ".";
        if (error_url) r.location = connect::withQuery(*error_url, {{"error", code}});
        r.session_id = session_id;
        return r;
      }
      if (!in.code || in.code->empty() || in.code->size() > 4096) {
        return failWith(400, "invalid_request: the provider sent no code", "The provider sent no authorization code.");
      }
      json::Writer payload;
      payload.beginObject().key("code").string(*in.code);
      if (row["pkce"].as<bool>()) payload.key("code_verifier").string(connect::pkceVerifier(*in.cookie, *in.state));
      payload.key("redirect_uri").string(redirectUri()).endObject();

      std::optional<std::string> connection_id;
      if (!row["connection_name"].is_null()) {
        const auto metadata = row["metadata_json"].is_null() ? nullptr : row["metadata_json"].c_str();
        auto created = db::connectionFrom(tx.exec_prepared1("connection_insert_pending", customer_id,
                                                            row["provider"].c_str(), row["connection_name"].c_str(),
                                                            row["scopes"].c_str(), metadata));
        connection_id = created.id;
        emitWebhookEvent(tx, customer_id, webhooks::events::kConnectionCreated, model::toJson(created));
        for (const auto& grant : model::grantsFromJson(row["grants"].c_str())) {
          // An instance deleted since the link was made has nothing to be granted.
          if (tx.exec_prepared("instance_exists", customer_id, grant.instance_id).empty()) continue;
          insertGrant(tx, customer_id, created.id, grant);
        }
      }
      const auto sealed = sealer_.seal(payload.str(), crypto::connectSessionAad(customer_id, session_id));
      tx.exec_prepared("connect_session_exchange", session_id, sealed.key_id, byteaParam(sealed.ciphertext),
                       connection_id);
      tx.commit();
      CallbackResult r;
      r.kind = Kind::kWaiting;
      r.status = 200;
      r.session_id = session_id;
      return r;
    });
  } catch (const pqxx::unique_violation&) {
    // The new connection's name was taken while the user was at the provider.
    fail(session_id, "name_taken: a connection with this provider and name exists");
    return refused(409, "A connection with this name already exists; ask for a new link.");
  }
}

FlowStatus ConnectFlow::status(const std::string& session_id, const std::optional<std::string>& cookie) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    FlowStatus out;
    const auto rows = tx.exec_prepared("connect_session_status", session_id);
    if (rows.empty() || !cookie || rows[0]["browser_hash"].is_null() ||
        !crypto::constantTimeEquals(hashParam(*cookie), rows[0]["browser_hash"].c_str())) {
      return out;
    }
    const auto& row = rows[0];
    out.found = true;
    out.status = row["status"].c_str();
    out.connection_id = hydra::db::textOrNull(row["connection_id"]);
    out.error = hydra::db::textOrNull(row["error"]);
    out.ended = out.status == "connected" || out.status == "failed" || out.status == "expired";
    if (out.status == "connected" && !row["success_url"].is_null() && out.connection_id) {
      out.location = connect::withQuery(row["success_url"].c_str(), {{"connection_id", *out.connection_id}});
    } else if ((out.status == "failed" || out.status == "expired") && !row["error_url"].is_null()) {
      const auto code = out.status == "expired" ? std::string("expired") : errorCode(out.error.value_or("").substr(0, out.error.value_or("").find(':')));
      out.location = connect::withQuery(row["error_url"].c_str(), {{"error", code}});
    }
    return out;
  });
}

}  // namespace hydra::cp
