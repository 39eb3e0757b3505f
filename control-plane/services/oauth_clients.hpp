#pragma once
// Customers' own OAuth clients for the connect flow. The client secret is sealed to the
// broker's public key before it reaches the database (AAD: crypto::oauthClientAad); the
// control plane's role cannot even read the ciphertext back.

#include <optional>
#include <string>
#include <vector>

#include "control-plane/model/connect.hpp"
#include "shared/crypto/seal.hpp"
#include "shared/db/pool.hpp"

namespace hydra::cp {

struct OAuthClientPage {
  std::vector<model::OAuthClient> clients;
  long long total = 0;
};

class OAuthClientService {
 public:
  OAuthClientService(hydra::db::Pool& pool, const crypto::Sealer& sealer) : pool_(pool), sealer_(sealer) {}

  model::OAuthClient create(const std::string& customer_id, const model::OAuthClientCreate& input);
  model::OAuthClient get(const std::string& customer_id, const std::string& id);
  OAuthClientPage list(const std::string& customer_id, const std::optional<std::string>& provider, long long limit,
                       long long offset);
  /// Sessions still to start with this client fail (error "oauth_client_deleted").
  void remove(const std::string& customer_id, const std::string& id);

 private:
  hydra::db::Pool& pool_;
  const crypto::Sealer& sealer_;
};

}  // namespace hydra::cp
