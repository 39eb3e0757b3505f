#pragma once
// The broker's rules, as a pure function of what one lookup found (from the database or from
// memory) and the clock, so each rule is unit-tested without a database.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/identity/runtime_identity.hpp"
#include "shared/crypto/sealed_secret.hpp"
#include "shared/net/address.hpp"

namespace hydra::broker {

struct FetchQuery {
  /// What the credentials are for: released to the runtime (the fetch route), or used by the
  /// broker itself for a call it makes (the proxy route), which proxy-only grants allow.
  enum class Use { kRelease, kProxy };
  std::string instance_id, provider;
  std::optional<std::string> name, capability;
  Use use = Use::kRelease;
};

/// At most `requests` proxied calls per `per_seconds` (schema/0019).
struct GrantRateLimit {
  std::int64_t requests = 0, per_seconds = 0;
};

/// A granted connection of the asked provider (and name) of the key's instance.
struct Candidate {
  std::string connection_id, name, auth_type, status;
  std::optional<std::string> error_message;
  std::string capabilities_json;          // the grant's capabilities, a JSON array
  std::vector<std::string> capabilities;  // the same, parsed
  std::optional<std::int64_t> grant_expires_micros;  // Unix microseconds; none: no expiry
  bool proxy_only = false;                           // the grant never releases the credentials
  std::optional<GrantRateLimit> rate_limit;          // for the proxy; none: unlimited
  std::string metadata_json;                         // the connection's metadata; empty: none
  crypto::SealedSecret sealed;            // only when it is the one candidate
};

struct Lookup {
  bool key_found = false;  // an unrevoked key with this hash exists (its instance too)
  std::string proxy_key_id, key_instance_id, customer_id;
  std::optional<std::int64_t> key_expires_micros;     // Unix microseconds
  std::optional<std::vector<net::Cidr>> allowed_cidrs;  // none: the key works from anywhere
  bool instance_disabled = false;
  std::vector<Candidate> candidates;
};

/// What a decision reads besides the lookup: the clock, where the request came from and, with
/// runtime identity on, who its certificate says is asking.
struct Circumstances {
  std::int64_t now_micros = 0;          // the broker's clock, Unix microseconds
  std::optional<net::Address> client;  // none: not an address (a garbled X-Forwarded-For)
  const identity::RuntimeIdentity* runtime = nullptr;  // none: runtime identity is off
};

struct Decision {
  int status = 200;    // 200: release; otherwise the HTTP status of the refusal
  std::string reason;  // for the audit trail and the response detail
  const Candidate* chosen = nullptr;
};

/// Expiries and source networks are decided here, at each request, whether the lookup came
/// from the database or from memory.
Decision decide(const Lookup& lookup, const FetchQuery& query, const Circumstances& now);

}  // namespace hydra::broker
