#pragma once
// The broker's rules, as a pure function of what one lookup found, so each rule is
// unit-tested without a database.

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
  std::string capabilities_json;  // the grant's capabilities, a JSON array
  bool capability_granted = false;
  crypto::SealedSecret sealed;
};

struct Lookup {
  bool key_live = false;  // the key exists, is not revoked or expired, its instance exists
  std::string proxy_key_id, key_instance_id, customer_id;
  std::vector<Candidate> candidates;
};

struct Decision {
  int status = 200;    // 200: release; otherwise the HTTP status of the refusal
  std::string reason;  // for the audit trail and the response detail
  const Candidate* chosen = nullptr;
};

Decision decide(const Lookup& lookup, const FetchQuery& query);

}  // namespace hydra::broker
