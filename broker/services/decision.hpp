#pragma once
// The broker's rules, as a pure function of what one lookup found (from the database or from
// memory) and the clock, so each rule is unit-tested without a database.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/crypto/sealed_secret.hpp"

namespace hydra::broker {

struct FetchQuery {
  std::string instance_id, provider;
  std::optional<std::string> name, capability;
};

/// A granted connection of the asked provider (and name) of the key's instance.
struct Candidate {
  std::string connection_id, name, auth_type, status;
  std::optional<std::string> error_message;
  std::string capabilities_json;          // the grant's capabilities, a JSON array
  std::vector<std::string> capabilities;  // the same, parsed
  crypto::SealedSecret sealed;            // only when it is the one candidate
};

struct Lookup {
  bool key_found = false;  // an unrevoked key with this hash exists (its instance too)
  std::string proxy_key_id, key_instance_id, customer_id;
  std::optional<std::int64_t> key_expires_micros;  // Unix microseconds
  std::vector<Candidate> candidates;
};

struct Decision {
  int status = 200;    // 200: release; otherwise the HTTP status of the refusal
  std::string reason;  // for the audit trail and the response detail
  const Candidate* chosen = nullptr;
};

/// `now_micros`: the broker's clock, Unix microseconds; expiry is decided here, at each request.
Decision decide(const Lookup& lookup, const FetchQuery& query, std::int64_t now_micros);

}  // namespace hydra::broker
