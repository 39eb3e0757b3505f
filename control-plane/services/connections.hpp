#pragma once
// Connections and their grants. Credentials are sealed to the broker's public key before
// they reach the database; this service can never read them back.

#include <optional>
#include <string>
#include <vector>

#include "control-plane/model/resources.hpp"
#include "shared/crypto/seal.hpp"
#include "shared/db/pool.hpp"

namespace hydra::cp {

struct ConnectionFilter {
  std::optional<std::string> provider, status;
  long long limit = 50, offset = 0;
};

struct ConnectionPage {
  std::vector<model::Connection> connections;
  long long total = 0;  // all matches, not just this page
};

class ConnectionService {
 public:
  ConnectionService(hydra::db::Pool& pool, const crypto::Sealer& sealer) : pool_(pool), sealer_(sealer) {}

  model::Connection create(const std::string& customer_id, const model::ConnectionCreate& input);
  model::Connection get(const std::string& customer_id, const std::string& connection_id);
  ConnectionPage list(const std::string& customer_id, const ConnectionFilter& filter);
  /// Updates, removals and revoked grants narrow access: their routes answer after the
  /// revocation wait (handlers/narrowing.hpp).
  model::Connection update(const std::string& customer_id, const std::string& connection_id,
                           const model::ConnectionUpdate& input);
  void remove(const std::string& customer_id, const std::string& connection_id);

  model::Grant grant(const std::string& customer_id, const std::string& connection_id, const model::GrantCreate& input);
  std::vector<model::Grant> grants(const std::string& customer_id, const std::string& connection_id);
  model::Grant updateGrant(const std::string& customer_id, const std::string& connection_id, const std::string& grant_id,
                           const model::GrantUpdate& input);
  void revokeGrant(const std::string& customer_id, const std::string& connection_id, const std::string& grant_id);

 private:
  /// Seals and writes the credentials with `statement` (connection_secret_insert or _replace).
  void storeCredentials(pqxx::work& tx, const char* statement, const std::string& customer_id, const std::string& connection_id,
                        const std::string& credentials_json) const;

  hydra::db::Pool& pool_;
  const crypto::Sealer& sealer_;
};

}  // namespace hydra::cp
