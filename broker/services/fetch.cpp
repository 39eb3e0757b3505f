#include "broker/services/fetch.hpp"

#include "shared/crypto/random.hpp"
#include "shared/db/bytea.hpp"
#include "shared/http/errors.hpp"
#include "shared/http/server.hpp"
#include "shared/log/log.hpp"

namespace hydra::broker {
namespace {

constexpr const char* kCannotOpen = "Stored credentials cannot be opened; the operator has been alerted";

Candidate candidateFrom(const pqxx::row& row) {
  Candidate c;
  c.connection_id = row["connection_id"].c_str();
  c.name = row["name"].c_str();
  c.auth_type = row["auth_type"].c_str();
  c.status = row["status"].c_str();
  if (!row["error_message"].is_null()) c.error_message = row["error_message"].c_str();
  c.capabilities_json = row["capabilities"].c_str();
  c.capability_granted = row["capability_granted"].as<bool>();
  c.sealed.key_id = row["key_id"].c_str();
  const pqxx::binarystring ciphertext(row["ciphertext"]);
  c.sealed.ciphertext.assign(ciphertext.begin(), ciphertext.end());
  return c;
}

}  // namespace

Lookup FetchService::lookup(const std::string& proxy_key, const FetchQuery& query) {
  const auto hash_param = hydra::db::byteaParam(crypto::tokenHash(proxy_key));
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_prepared("fetch_lookup", hash_param, query.instance_id, query.provider,
                                       query.name ? query.name->c_str() : nullptr,
                                       query.capability ? query.capability->c_str() : nullptr);
    Lookup found;
    if (rows.empty()) return found;
    found.key_live = true;
    found.proxy_key_id = rows[0]["proxy_key_id"].c_str();
    found.key_instance_id = rows[0]["key_instance_id"].c_str();
    found.customer_id = rows[0]["customer_id"].c_str();
    for (const auto& row : rows) {
      if (!row["connection_id"].is_null()) found.candidates.push_back(candidateFrom(row));
    }
    return found;
  });
}

void FetchService::refuse(AuditRecord record, const char* outcome, const std::string& reason,
                          const http::ApiError& error) {
  record.outcome = outcome;
  record.reason = reason;
  audit_.record(record);
  throw error;
}

Released FetchService::fetch(const FetchQuery& query, const std::optional<std::string>& proxy_key,
                             const std::string& peer) {
  AuditRecord record;
  record.instance_id = query.instance_id;
  record.provider = query.provider;
  record.name = query.name;
  record.capability = query.capability;
  record.request_id = http::currentRequestId();
  record.peer = peer;
  if (!proxy_key) refuse(record, "denied", "no proxy key presented", http::ApiError(401, "Not authenticated"));

  const auto found = lookup(*proxy_key, query);
  if (found.key_live) {
    record.proxy_key_id = found.proxy_key_id;
    record.customer_id = found.customer_id;
  }
  const auto decision = decide(found, query);
  if (found.candidates.size() == 1) record.connection_id = found.candidates.front().connection_id;
  if (decision.status != 200) refuse(record, "denied", decision.reason, http::ApiError(decision.status, decision.reason));

  const auto& chosen = *decision.chosen;
  Botan::secure_vector<std::uint8_t> plaintext;
  try {
    plaintext = opener_.open(chosen.sealed, crypto::connectionAad(found.customer_id, chosen.connection_id));
  } catch (const crypto::UnknownKeyError&) {
    log::app().error("ALARM: connection " + chosen.connection_id + " is sealed to a key this broker does not hold");
    refuse(record, "error", "ciphertext is under an unknown key id", http::ApiError(500, kCannotOpen));
  } catch (const crypto::OpenError&) {
    // The row's ciphertext does not authenticate for this row: someone changed the database.
    log::app().error("ALARM: the ciphertext of connection " + chosen.connection_id +
                     " failed authentication (tampered with, or moved from another row)");
    refuse(record, "error", "ciphertext failed authentication (possible tampering)", http::ApiError(500, kCannotOpen));
  }
  std::string credentials(plaintext.begin(), plaintext.end());
  if (chosen.auth_type == "oauth2") {
    // Fresh enough, or refreshed first; and never the refresh token or the client secret.
    try {
      credentials = releasableCredentials(
          refresher_.freshForFetch({chosen.connection_id, found.customer_id, query.provider, record}, credentials));
    } catch (const http::ApiError& e) {
      refuse(record, e.status() == 503 ? "error" : "denied", e.detail(), e);
    }
  }

  record.outcome = "allowed";
  record.reason = "granted";
  record.marks_use = true;
  audit_.record(record);  // durable before anything is released
  return {std::move(credentials), chosen.capabilities_json};
}

}  // namespace hydra::broker
