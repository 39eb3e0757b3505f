#include "broker/services/decision.hpp"

#include <algorithm>

namespace hydra::broker {

namespace {

bool expiredAt(const std::optional<std::int64_t>& expires_micros, std::int64_t now_micros) {
  return expires_micros && *expires_micros <= now_micros;
}

}  // namespace

Decision decide(const Lookup& lookup, const FetchQuery& query, const Circumstances& now) {
  if (!lookup.key_found || expiredAt(lookup.key_expires_micros, now.now_micros)) {
    return {401, "Invalid, expired or revoked proxy key"};
  }
  // The certificate is the runtime's identity, which the control plane cannot issue; the key
  // and the rows it reaches are the control plane's to write. Both must name this instance,
  // and the certificate's customer must own it.
  if (now.runtime && now.runtime->instance_id != query.instance_id) {
    return {403, "The runtime certificate is for instance " + now.runtime->instance_id + ", not " + query.instance_id};
  }
  if (lookup.key_instance_id != query.instance_id) return {403, "This proxy key belongs to another instance"};
  if (now.runtime && now.runtime->customer_id != lookup.customer_id) {
    return {403, "The runtime certificate is for customer " + now.runtime->customer_id +
                     ", but the instance belongs to another customer"};
  }
  // A key bound to networks is useless elsewhere, stolen or not.
  if (lookup.allowed_cidrs && !(now.client && net::containsAny(*lookup.allowed_cidrs, *now.client))) {
    return {403, "Proxy key not allowed from this address"};
  }
  if (lookup.instance_disabled) return {403, "Instance disabled"};

  const auto& found = lookup.candidates;
  if (found.empty()) {
    return {404, "No connection of provider '" + query.provider + "'" +
                     (query.name ? " named '" + *query.name + "'" : std::string()) + " is granted to this instance"};
  }
  if (found.size() > 1) {
    std::string names;
    for (const auto& c : found) names += (names.empty() ? "" : ", ") + ("'" + c.name + "'");
    return {409, "Several connections of provider '" + query.provider +
                     "' are granted to this instance; pass name= to choose one of: " + names};
  }
  const auto& connection = found.front();
  if (expiredAt(connection.grant_expires_micros, now.now_micros)) return {403, "The grant has expired"};
  const auto& granted = connection.capabilities;
  if (query.capability && std::find(granted.begin(), granted.end(), *query.capability) == granted.end()) {
    return {403, "The grant does not include capability '" + *query.capability + "'"};
  }
  // After the expiry and the capability, which say more precisely why a call is not allowed at
  // all, and before the connection's status: a proxy-only grant never releases its credentials
  // (the broker's own use of them for a proxied call is what it is for),
  // whatever state they are in, and the runtime is told where they can be used instead. Memory
  // keeps only allowed answers (fromMemory goes to the database on any refusal), so this is
  // always decided on the database's current row.
  if (connection.proxy_only && query.use == FetchQuery::Use::kRelease) {
    const auto proxy = "/internal/v1/instances/" + query.instance_id + "/proxy/" + query.provider + "/...";
    return {403, "This grant is proxy-only: its credentials are never released; call the provider through " + proxy};
  }
  // The runtime must not get credentials known to be broken.
  if (connection.status == "error") {
    return {409, "Connection is in error: " + connection.error_message.value_or("unknown error")};
  }
  if (connection.status == "expired") return {409, "Connection credentials have expired"};
  // Made by the connect flow at the callback (schema/0025): its tokens are not in yet.
  if (connection.status == "pending") {
    return {409, "Connection is pending: the end user's authorisation has not been exchanged for tokens yet "
                 "(its connect session is still exchanging, or failed)"};
  }
  // A status this broker does not know is not a working connection.
  if (connection.status != "active") return {409, "Connection is " + connection.status};
  return {200, "granted", &connection};
}

}  // namespace hydra::broker
