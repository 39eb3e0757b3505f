#pragma once
// The runtime's identity as its certificate states it: a SPIFFE id (one URI SAN) of the form
//   spiffe://<trust domain>/hydracore/customers/<customer id>/instances/<instance id>
// with lower-case canonical UUIDs. This format is the contract with whoever issues runtime
// certificates (SPIRE, cert-manager, Vault PKI, scripts/runtime-cert.sh). Parsing is strict:
// anything that is not exactly this shape is refused, never read leniently.

#include <string>
#include <string_view>
#include <variant>

namespace hydra::broker::identity {

struct SpiffeId {
  std::string trust_domain, customer_id, instance_id;
};

/// Why a text is not such a SPIFFE id, in words for a refusal's detail.
struct Malformed {
  std::string why;
};

std::variant<SpiffeId, Malformed> parseSpiffeId(std::string_view uri);

/// A SPIFFE trust domain: lower-case letters, digits, '.', '-', '_'; 1..255 characters.
bool validTrustDomain(std::string_view trust_domain);

}  // namespace hydra::broker::identity
