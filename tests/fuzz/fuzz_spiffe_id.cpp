// The SPIFFE id parser (broker/identity/spiffe_id.cpp) on any URI SAN a client certificate may
// carry: refused or parsed, never a crash; what parses is exactly the contract's form again.
#include "broker/identity/spiffe_id.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace identity = hydra::broker::identity;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto uri = hydra::fuzz::text(data, size);
  const auto parsed = identity::parseSpiffeId(uri);
  if (const auto* id = std::get_if<identity::SpiffeId>(&parsed)) {
    FUZZ_CHECK(identity::validTrustDomain(id->trust_domain));
    FUZZ_CHECK(uri == "spiffe://" + id->trust_domain + "/hydracore/customers/" + id->customer_id + "/instances/" +
                          id->instance_id);
  } else {
    FUZZ_CHECK(!std::get<identity::Malformed>(parsed).why.empty());
  }
  return 0;
}
