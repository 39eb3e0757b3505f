#pragma once
// Runtime identity (HYDRA_RUNTIME_CA_FILE): which customer and instance a request's client
// certificate proves. The certificate rules live here only, so every runtime route applies the
// same ones: present, chaining to the runtime CA, within its validity at this request (a
// kept-alive connection does not outlive its certificate), exactly one URI SAN, a SPIFFE id of
// the configured trust domain (spiffe_id.hpp). What the identity must then match (the path's
// instance, the proxy key's, the customer sealed into the ciphertext) is decided with the
// rows a request reads (services/decision.cpp, services/fetch.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "shared/http/client_certificate.hpp"
#include "shared/http/errors.hpp"

namespace hydra::broker::identity {

struct RuntimeIdentity {
  std::string customer_id, instance_id;
  std::string certificate_sha256;  // two certificates of one identity are still two
};

/// Identity off: nothing is asked of the client's certificate.
struct NotRequired {};

/// What a request shows: identity off, the identity its certificate proves, or the refusal
/// (401 without a certificate, 403 saying which rule the certificate breaks).
using RuntimeCheck = std::variant<NotRequired, RuntimeIdentity, http::ApiError>;

class RuntimeIdentityPolicy {
 public:
  /// `trust_domain`: HYDRA_RUNTIME_TRUST_DOMAIN, already checked with validTrustDomain.
  explicit RuntimeIdentityPolicy(std::string trust_domain) : trust_domain_(std::move(trust_domain)) {}

  RuntimeCheck check(const http::ClientCertificate* certificate, std::int64_t now_seconds) const;

 private:
  std::string trust_domain_;
};

/// The check of the request being handled on this thread, against its connection's
/// certificate: NotRequired when `policy` is off. Every runtime route's first step.
RuntimeCheck checkThisRequest(const std::optional<RuntimeIdentityPolicy>& policy);

}  // namespace hydra::broker::identity
