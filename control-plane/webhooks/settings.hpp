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
  /// HYDRA_WEBHOOK_MAX_PER_CUSTOMER: one customer's deliveries in flight at once, across every
  /// control plane (default half the workers, at least 1): one customer's slow endpoints never
  /// take every worker. An endpoint has at most one in flight.
  int max_per_customer = 2;
  /// HYDRA_WEBHOOK_RETRY_SCHEDULE: seconds before each attempt.
  std::vector<int> retry_schedule = defaultRetrySchedule();
  /// HYDRA_WEBHOOK_TIMEOUT_SECONDS: one attempt, connect to last byte read.
  int timeout_seconds = 15;
  /// HYDRA_WEBHOOK_RESOLVE_TIMEOUT_SECONDS: looking up the URL's host name, before the attempt's
  /// clock starts; a name not resolved by then is a failed attempt, retried.
  int resolve_timeout_seconds = 5;
  /// HYDRA_WEBHOOK_ALLOW_LOOPBACK and HYDRA_WEBHOOK_ALLOWED_CIDRS.
  UrlRules url_rules;
  /// HYDRA_WEBHOOK_CA_FILE: a PEM bundle trusted instead of the system's CAs (empty: system).
  std::string ca_file;
};

}  // namespace hydra::cp::webhooks
