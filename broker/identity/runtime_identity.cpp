#include "broker/identity/runtime_identity.hpp"

#include <chrono>

#include "broker/identity/spiffe_id.hpp"

namespace hydra::broker::identity {
namespace {

http::ApiError forbidden(const std::string& detail) { return http::ApiError(403, detail); }

}  // namespace

RuntimeCheck RuntimeIdentityPolicy::check(const http::ClientCertificate* certificate, std::int64_t now_seconds) const {
  using Chain = http::ClientCertificate::Chain;
  if (certificate == nullptr) {
    return http::ApiError(401, "A runtime certificate is required: present a client certificate from the runtime CA");
  }
  // Validity is checked against this request's clock as well as at the handshake.
  if (certificate->chain == Chain::expired || certificate->not_after < now_seconds) {
    return forbidden("The runtime certificate has expired");
  }
  if (certificate->chain == Chain::not_yet_valid || certificate->not_before > now_seconds) {
    return forbidden("The runtime certificate is not yet valid");
  }
  if (certificate->chain != Chain::verified) {
    return forbidden("The runtime certificate does not chain to the runtime CA (" + certificate->chain_problem + ")");
  }
  if (certificate->uris.size() != 1) {
    return forbidden("The runtime certificate must carry exactly one URI SAN (a SPIFFE id); it has " +
                     std::to_string(certificate->uris.size()));
  }
  const auto parsed = parseSpiffeId(certificate->uris.front());
  if (const auto* malformed = std::get_if<Malformed>(&parsed)) {
    return forbidden("The runtime certificate's SPIFFE id is malformed: " + malformed->why);
  }
  const auto& id = std::get<SpiffeId>(parsed);
  if (id.trust_domain != trust_domain_) {
    return forbidden("The runtime certificate's SPIFFE id is of trust domain '" + id.trust_domain + "', not '" +
                     trust_domain_ + "'");
  }
  return RuntimeIdentity{id.customer_id, id.instance_id, certificate->sha256};
}

RuntimeCheck checkThisRequest(const std::optional<RuntimeIdentityPolicy>& policy) {
  if (!policy) return NotRequired{};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return policy->check(http::currentClientCertificate().get(),
                       std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

}  // namespace hydra::broker::identity
