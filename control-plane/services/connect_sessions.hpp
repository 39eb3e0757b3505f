#pragma once
// The API side of the connect flow: a customer's redirect allow-list and the sessions (links)
// their developers create and then watch. The pages the links lead to are connect_flow.hpp's.

#include <chrono>
#include <string>

#include "control-plane/model/connect.hpp"
#include "shared/db/pool.hpp"

namespace hydra::cp {

struct ConnectSettingsOptions {
  std::string public_url;  // HYDRA_PUBLIC_URL; "": the flow is off
  std::chrono::seconds session_lifetime{1800};
};

class ConnectSessionService {
 public:
  ConnectSessionService(hydra::db::Pool& pool, ConnectSettingsOptions options) : pool_(pool), options_(std::move(options)) {}

  model::ConnectSettings settings(const std::string& customer_id);
  model::ConnectSettings putSettings(const std::string& customer_id, const model::ConnectSettings& input);

  /// 501 when HYDRA_PUBLIC_URL is unset; 422 for a provider without a connect_providers row, a
  /// client, connection or instance not the customer's (or not the provider's), no client at all
  /// (no oauth_client_id and no shared client), a redirect URL not on the allow-list; 409 when
  /// the new connection's name is taken. The answer carries the link, shown only here.
  model::ConnectSession create(const std::string& customer_id, const model::ConnectSessionCreate& input);
  model::ConnectSession get(const std::string& customer_id, const std::string& session_id);

 private:
  hydra::db::Pool& pool_;
  const ConnectSettingsOptions options_;
};

}  // namespace hydra::cp
