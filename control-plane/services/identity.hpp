#pragma once
// Customers, their API keys and their instances: the small identity model around connections.

#include <optional>
#include <string>
#include <vector>

#include "control-plane/model/resources.hpp"
#include "shared/db/pool.hpp"

namespace hydra::cp {

class IdentityService {
 public:
  explicit IdentityService(hydra::db::Pool& pool) : pool_(pool) {}

  model::Customer createCustomer(const std::string& name);

  /// The returned key carries its secret: the only time it exists outside the caller.
  model::ApiKey createApiKey(const std::string& customer_id, const std::string& name);
  std::vector<model::ApiKey> listApiKeys(const std::string& customer_id);
  void revokeApiKey(const std::string& customer_id, const std::string& key_id);

  model::Instance createInstance(const std::string& customer_id, const std::string& name);
  std::vector<model::Instance> listInstances(const std::string& customer_id);
  /// Disabling narrows access (the kill switch), as deleting and revokeProxyKey do: their routes
  /// answer after the revocation wait (handlers/narrowing.hpp).
  model::Instance updateInstance(const std::string& customer_id, const std::string& instance_id,
                                 const model::InstanceUpdate& input);
  void deleteInstance(const std::string& customer_id, const std::string& instance_id);

  /// The returned key carries its secret: the only time it exists outside the caller.
  model::ProxyKey createProxyKey(const std::string& customer_id, const std::string& instance_id,
                                 const model::ProxyKeyCreate& input);
  std::vector<model::ProxyKey> listProxyKeys(const std::string& customer_id, const std::string& instance_id);
  void revokeProxyKey(const std::string& customer_id, const std::string& instance_id, const std::string& key_id);

 private:
  hydra::db::Pool& pool_;
};

}  // namespace hydra::cp
