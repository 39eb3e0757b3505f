#pragma once
// The webhook tests (issue 10): hydra-webhook-receiver (tests/support/webhook_receiver.cpp) as a
// child process, the control plane settings that let webhooks reach it, and WebhookStack, the
// deployment most webhook tests start from.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/api.hpp"

namespace hydra::test {

std::string webhookReceiverBinary();

/// One request the receiver got, and what it made of it.
struct ReceivedWebhook {
  std::string path, webhook_id, webhook_timestamp, webhook_signature, body, content_type, host;
  bool verified = false;             // a signature of a configured secret, a fresh timestamp
  std::vector<int> matched_secrets;  // which configured secrets signed it
  long long received_ms = 0;         // wall clock, milliseconds since the epoch
  int answered = 0;                  // the status it answered
};

/// hydra-webhook-receiver on free loopback ports.
class WebhookReceiver {
 public:
  /// `args`: e.g. --tls-cert/--tls-key to serve https.
  explicit WebhookReceiver(const std::vector<std::string>& args = {});

  std::uint16_t port() const { return port_; }
  /// "<scheme>://<host>:<port><path>"
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const;

  /// Configures `path` (see webhook_receiver.cpp): `secrets` verify its deliveries; `settings`
  /// are more JSON members, e.g. R"("mode":"fail","times":2)".
  void configure(const std::string& path, const std::vector<std::string>& secrets,
                 const std::string& settings = "") const;
  /// Everything received on `path` (every path when empty), in arrival order.
  std::vector<ReceivedWebhook> received(const std::string& path = "") const;
  /// Waits until `path` has received at least `n` requests; returns them (maybe fewer on timeout).
  std::vector<ReceivedWebhook> await(const std::string& path, std::size_t n,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  int stop() { return child_.terminate(); }
  std::string log() const { return child_.out() + child_.err(); }

 private:
  ChildProcess child_;
  std::string scheme_;
  std::uint16_t port_ = 0;        // deliveries
  std::uint16_t admin_port_ = 0;  // configuration and what was received (plain http)
};

/// Control plane settings for tests: plain http to loopback and loopback addresses allowed (the
/// receiver listens on 127.0.0.1), retries after 1 s and 1 s (three attempts), 3 s per attempt.
/// `extra` adds or replaces entries.
Environment webhookSettings(const Environment& extra = {});

/// A webhook endpoint as created: its id and the secret shown once.
struct WebhookEndpoint {
  std::string id, secret, path;
};

/// A control plane with `settings`, a receiver and a tenant.
class WebhookStack : public Stack {
 public:
  explicit WebhookStack(const Environment& settings = webhookSettings()) : Stack("hydracore_control_plane", settings) {}

  WebhookReceiver receiver;
  Tenant tenant = newTenant();

  /// POST .../webhook-endpoints for the receiver's `path` (`members`: more body members, e.g.
  /// R"("events":["grant.created"])"), and configures the path with the new secret and
  /// `receiver_settings`. Expects 201.
  WebhookEndpoint addEndpoint(const std::string& path, const std::string& members = "",
                              const std::string& receiver_settings = "") const {
    return addEndpoint(tenant, path, members, receiver_settings);
  }
  /// The same for another customer's endpoint.
  WebhookEndpoint addEndpoint(const Tenant& owner, const std::string& path, const std::string& members = "",
                              const std::string& receiver_settings = "") const;
  /// GET .../webhook-endpoints/<id>/deliveries?<query>; expects 200.
  Response deliveries(const std::string& endpoint_id, const std::string& query = "limit=500") const;
  /// The one delivery of the endpoint for `webhook_id`; throws if there is none.
  rapidjson::Document delivery(const std::string& endpoint_id, const std::string& webhook_id) const;
  /// Polls the delivery until its state is `state` (true) or `timeout` passes (false).
  bool awaitState(const std::string& endpoint_id, const std::string& webhook_id, const std::string& state,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
};

/// The parsed body of a delivery (throws if it is not JSON).
rapidjson::Document payloadOf(const ReceivedWebhook& r);

}  // namespace hydra::test
