#include "control-plane/services/oauth_clients.hpp"

#include "control-plane/db/rows.hpp"
#include "control-plane/services/existence.hpp"
#include "shared/db/bytea.hpp"
#include "shared/http/errors.hpp"

namespace hydra::cp {

model::OAuthClient OAuthClientService::create(const std::string& customer_id, const model::OAuthClientCreate& input) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    requireCustomerExists(tx, customer_id);
    const std::string id = tx.exec_prepared1("oauth_client_new_id")[0].c_str();
    // Sealed here, before anything is written: the plaintext goes no further than this frame.
    const auto sealed = sealer_.seal(input.client_secret, crypto::oauthClientAad(customer_id, id));
    const auto params = input.authorization_params_json ? input.authorization_params_json->c_str() : nullptr;
    auto created = db::oauthClientFrom(tx.exec_prepared1("oauth_client_insert", id, customer_id, input.provider,
                                                         input.client_id, sealed.key_id,
                                                         hydra::db::byteaParam(sealed.ciphertext), input.scopes_json,
                                                         params));
    tx.commit();
    return created;
  });
}

model::OAuthClient OAuthClientService::get(const std::string& customer_id, const std::string& id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_prepared("oauth_client_get", customer_id, id);
    if (rows.empty()) throw http::notFound("OAuth client");
    return db::oauthClientFrom(rows[0]);
  });
}

OAuthClientPage OAuthClientService::list(const std::string& customer_id, const std::optional<std::string>& provider,
                                         long long limit, long long offset) {
  return pool_.run([&](pqxx::connection& c) {
    // One snapshot for the page and its total, as connections are listed.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    const auto filter = provider ? provider->c_str() : nullptr;
    OAuthClientPage page;
    page.clients = db::all(tx.exec_prepared("oauth_client_list", customer_id, filter, limit, offset), db::oauthClientFrom);
    page.total = tx.exec_prepared1("oauth_client_count", customer_id, filter)[0].as<long long>();
    return page;
  });
}

void OAuthClientService::remove(const std::string& customer_id, const std::string& id) {
  pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_prepared("connect_session_fail_by_client", customer_id, id);
    if (tx.exec_prepared("oauth_client_delete", customer_id, id).empty()) throw http::notFound("OAuth client");
    tx.commit();
  });
}

}  // namespace hydra::cp
