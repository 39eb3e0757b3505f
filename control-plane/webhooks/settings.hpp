#pragma once
// How this control plane delivers webhooks (HYDRA_WEBHOOK_*, read once in config.cpp).

#include <string>
#include <vector>

#include "control-plane/webhooks/endpoint_url.hpp"
#include "control-plane/webhooks/retry_policy.hpp"

namespace hydra::cp::webhooks {

struct Settings {
  /// HYDRA_WEBHOOK_WORKERS: deliveries in flight at once in this process; 0 = this process
  /// serves the API only and leaves delivery to the others.
  int workers = 4;
  /// HYDRA_WEBHOOK_RETRY_SCHEDULE: seconds before each attempt.
  std::vector<int> retry_schedule = defaultRetrySchedule();
  /// HYDRA_WEBHOOK_TIMEOUT_SECONDS: one attempt, connect to last byte read.
  int timeout_seconds = 15;
  /// HYDRA_WEBHOOK_ALLOW_LOOPBACK and HYDRA_WEBHOOK_ALLOWED_CIDRS.
  UrlRules url_rules;
  /// HYDRA_WEBHOOK_CA_FILE: a PEM bundle trusted instead of the system's CAs (empty: system).
  std::string ca_file;
};

}  // namespace hydra::cp::webhooks
