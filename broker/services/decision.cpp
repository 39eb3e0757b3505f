#include "broker/services/decision.hpp"

#include <algorithm>

namespace hydra::broker {

Decision decide(const Lookup& lookup, const FetchQuery& query, std::int64_t now_micros) {
  const bool expired = lookup.key_expires_micros && *lookup.key_expires_micros <= now_micros;
  if (!lookup.key_found || expired) return {401, "Invalid, expired or revoked proxy key"};
  if (lookup.key_instance_id != query.instance_id) return {403, "This proxy key belongs to another instance"};

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
  const auto& granted = connection.capabilities;
  if (query.capability && std::find(granted.begin(), granted.end(), *query.capability) == granted.end()) {
    return {403, "The grant does not include capability '" + *query.capability + "'"};
  }
  // The runtime must not get credentials known to be broken.
  if (connection.status == "error") {
    return {409, "Connection is in error: " + connection.error_message.value_or("unknown error")};
  }
  if (connection.status == "expired") return {409, "Connection credentials have expired"};
  return {200, "granted", &connection};
}

}  // namespace hydra::broker
