#pragma once
// The webhook event types. Each is written to the outbox in the transaction of the change it
// describes: by the services (services/webhook_outbox.hpp), except connection.status_changed and
// connect_session.*, which triggers of the schema write (0014, 0025), the broker's changes included.

#include <string>
#include <vector>

namespace hydra::cp::webhooks::events {

constexpr const char* kConnectionCreated = "connection.created";
constexpr const char* kConnectionUpdated = "connection.updated";
constexpr const char* kConnectionDeleted = "connection.deleted";
constexpr const char* kConnectionStatusChanged = "connection.status_changed";
constexpr const char* kGrantCreated = "grant.created";
constexpr const char* kGrantUpdated = "grant.updated";  // capabilities, expiry, proxy_only or rate limit (PATCH)
constexpr const char* kGrantDeleted = "grant.deleted";
constexpr const char* kProxyKeyCreated = "proxy_key.created";
constexpr const char* kProxyKeyRevoked = "proxy_key.revoked";
constexpr const char* kInstanceUpdated = "instance.updated";  // name or kill switch (PATCH)
constexpr const char* kInstanceDeleted = "instance.deleted";
constexpr const char* kConnectSessionConnected = "connect_session.connected";  // the broker has the tokens
constexpr const char* kConnectSessionFailed = "connect_session.failed";

/// Every type, in the order the API lists them.
inline const std::vector<std::string>& all() {
  static const std::vector<std::string> kAll{kConnectionCreated, kConnectionUpdated, kConnectionDeleted,
                                             kConnectionStatusChanged, kGrantCreated, kGrantUpdated,
                                             kGrantDeleted, kProxyKeyCreated, kProxyKeyRevoked,
                                             kInstanceUpdated, kInstanceDeleted, kConnectSessionConnected,
                                             kConnectSessionFailed};
  return kAll;
}

}  // namespace hydra::cp::webhooks::events
