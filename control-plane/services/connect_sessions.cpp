#include "control-plane/services/connect_sessions.hpp"

#include <algorithm>

#include "control-plane/connect/secrets.hpp"
#include "control-plane/db/rows.hpp"
#include "control-plane/services/existence.hpp"
#include "shared/crypto/random.hpp"
#include "shared/db/bytea.hpp"
#include "shared/db/timestamps.hpp"
#include "shared/http/errors.hpp"
#include "shared/json/writer.hpp"

namespace hydra::cp {
namespace {

model::ConnectSettings settingsFrom(const pqxx::row& row) {
  return {model::stringsFromJson(row["allowed_redirect_urls"].c_str()), hydra::db::rfc3339(row["updated_at"])};
}

std::vector<std::string> allowList(pqxx::transaction_base& tx, const std::string& customer_id) {
  const auto rows = tx.exec_prepared("connect_settings_get", customer_id);
  if (rows.empty()) return {};
  return model::stringsFromJson(rows[0]["allowed_redirect_urls"].c_str());
}

void valueError(http::Problems& problems, std::vector<http::LocPart> loc, const std::string& msg) {
  problems.add(std::move(loc), "Value error, " + msg, "value_error");
}

}  // namespace

model::ConnectSettings ConnectSessionService::settings(const std::string& customer_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_prepared("connect_settings_get", customer_id);
    if (rows.empty()) return model::ConnectSettings{};
    return settingsFrom(rows[0]);
  });
}

model::ConnectSettings ConnectSessionService::putSettings(const std::string& customer_id,
                                                          const model::ConnectSettings& input) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    requireCustomerExists(tx, customer_id);
    json::Writer w;
    w.strings(input.allowed_redirect_urls);
    auto out = settingsFrom(tx.exec_prepared1("connect_settings_put", customer_id, w.str()));
    tx.commit();
    return out;
  });
}

model::ConnectSession ConnectSessionService::create(const std::string& customer_id,
                                                    const model::ConnectSessionCreate& input) {
  if (options_.public_url.empty()) {
    throw http::ApiError(501, "The connect flow is off on this control plane: HYDRA_PUBLIC_URL is not set");
  }
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    requireCustomerExists(tx, customer_id);
    http::Problems problems;
    const auto provider = tx.exec_prepared("connect_provider_get", input.provider);
    if (provider.empty()) {
      valueError(problems, {"body", "provider"}, "provider " + input.provider + " does not support the connect flow");
      problems.throwIfAny();
    }
    std::optional<std::vector<std::string>> client_scopes;
    if (input.oauth_client_id) {
      const auto client = tx.exec_prepared("oauth_client_get", customer_id, *input.oauth_client_id);
      if (client.empty()) {
        valueError(problems, {"body", "oauth_client_id"}, "no OAuth client of this customer has this id");
      } else if (input.provider != client[0]["provider"].c_str()) {
        valueError(problems, {"body", "oauth_client_id"}, "this OAuth client is for another provider");
      } else {
        client_scopes = model::stringsFromJson(client[0]["scopes"].c_str());
      }
    } else if (provider[0]["shared_client_id"].is_null()) {
      valueError(problems, {"body", "oauth_client_id"},
                 "provider " + input.provider + " has no shared OAuth client here: give an oauth_client_id");
    }
    if (input.connection_id) {
      const auto connection = tx.exec_prepared("connection_get", customer_id, *input.connection_id);
      if (connection.empty()) {
        valueError(problems, {"body", "connection_id"}, "no connection of this customer has this id");
      } else if (input.provider != connection[0]["provider"].c_str() ||
                 std::string("oauth2") != connection[0]["auth_type"].c_str()) {
        valueError(problems, {"body", "connection_id"}, "the connection is not an oauth2 connection of this provider");
      }
    }
    for (std::size_t i = 0; i < input.grants.size(); ++i) {
      // Another customer's instance looks exactly like one that does not exist.
      if (tx.exec_prepared("instance_exists", customer_id, input.grants[i].instance_id).empty()) {
        valueError(problems, {"body", "grants", static_cast<int>(i), "instance_id"}, "no instance of this customer has this id");
      }
    }
    const auto allowed = allowList(tx, customer_id);
    for (const auto& [key, url] : {std::pair<const char*, const std::optional<std::string>&>{"success_url", input.success_url},
                                   {"error_url", input.error_url}}) {
      if (url && std::find(allowed.begin(), allowed.end(), *url) == allowed.end()) {
        valueError(problems, {"body", key},
                   "not in this customer's allowed_redirect_urls (PUT .../connect-settings); the match is exact");
      }
    }
    problems.throwIfAny();
    if (input.name && !tx.exec_prepared("connection_name_taken", customer_id, input.provider, *input.name).empty()) {
      throw http::ApiError(409, "A connection with this provider and name already exists");
    }

    std::string scopes_json;
    if (input.scopes) {
      json::Writer w;
      w.strings(*input.scopes);
      scopes_json = w.str();
    } else if (client_scopes && !client_scopes->empty()) {
      json::Writer w;
      w.strings(*client_scopes);
      scopes_json = w.str();
    } else {
      scopes_json = provider[0]["default_scopes"].c_str();
    }
    // The link's token is its only credential; the database keeps its SHA-256.
    const auto token = connect::newRandomValue();
    const auto opt = [](const std::optional<std::string>& v) { return v ? v->c_str() : nullptr; };
    auto session = db::connectSessionFrom(tx.exec_prepared1(
        "connect_session_insert", customer_id, hydra::db::byteaParam(crypto::tokenHash(token)), input.provider,
        opt(input.name), opt(input.connection_id), opt(input.oauth_client_id), scopes_json, opt(input.metadata_json),
        model::grantsToJson(input.grants), opt(input.success_url), opt(input.error_url),
        static_cast<long long>(options_.session_lifetime.count())));
    tx.commit();
    session.connect_url = options_.public_url + "/connect/" + token;
    return session;
  });
}

model::ConnectSession ConnectSessionService::get(const std::string& customer_id, const std::string& session_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_prepared("connect_session_get", customer_id, session_id);
    if (rows.empty()) throw http::notFound("Connect session");
    return db::connectSessionFrom(rows[0]);
  });
}

}  // namespace hydra::cp
