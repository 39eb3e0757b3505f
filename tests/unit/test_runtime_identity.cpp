// Runtime identity (issue 17): the SPIFFE id parser and the certificate rules every runtime
// route applies (broker/identity/), on certificates as the TLS acceptor records them.
#include <doctest/doctest.h>

#include "broker/identity/runtime_identity.hpp"
#include "broker/identity/spiffe_id.hpp"

using namespace hydra::broker::identity;
using hydra::http::ApiError;
using hydra::http::ClientCertificate;

namespace {

const std::string kCustomer = "3f1c2a9e-5b7d-4e21-9c4f-0a1b2c3d4e5f";
const std::string kInstance = "0473b088-4267-4c93-bd9f-82b8ef17caa1";
const std::string kGood = "spiffe://hydracore.test/hydracore/customers/" + kCustomer + "/instances/" + kInstance;
constexpr std::int64_t kNow = 1'800'000'000;

std::string malformedWhy(const std::string& uri) {
  const auto parsed = parseSpiffeId(uri);
  const auto* malformed = std::get_if<Malformed>(&parsed);
  return malformed ? malformed->why : "(parsed)";
}

ClientCertificate certificate(std::vector<std::string> uris = {kGood}) {
  ClientCertificate c;
  c.chain = ClientCertificate::Chain::verified;
  c.uris = std::move(uris);
  c.not_before = kNow - 60;
  c.not_after = kNow + 3600;
  c.sha256 = std::string(32, '\x01');
  return c;
}

// The refusal's status and detail, or "allowed".
std::string verdict(const RuntimeCheck& check) {
  if (const auto* refusal = std::get_if<ApiError>(&check)) {
    return std::to_string(refusal->status()) + " " + refusal->detail();
  }
  return std::holds_alternative<RuntimeIdentity>(check) ? "allowed" : "not required";
}

const RuntimeIdentityPolicy kPolicy("hydracore.test");

RuntimeCheck checked(const ClientCertificate& c, std::int64_t now = kNow) { return kPolicy.check(&c, now); }

}  // namespace

TEST_CASE("spiffe id: the contract's form parses into trust domain, customer and instance") {
  const auto parsed = parseSpiffeId(kGood);
  REQUIRE(std::holds_alternative<SpiffeId>(parsed));
  const auto& id = std::get<SpiffeId>(parsed);
  CHECK(id.trust_domain == "hydracore.test");
  CHECK(id.customer_id == kCustomer);
  CHECK(id.instance_id == kInstance);
}

TEST_CASE("spiffe id: every other spelling is refused, with what is wrong") {
  const std::string path = "/hydracore/customers/" + kCustomer + "/instances/" + kInstance;
  CHECK(malformedWhy("SPIFFE://hydracore.test" + path) == "it does not start with spiffe://");
  CHECK(malformedWhy("https://hydracore.test" + path) == "it does not start with spiffe://");
  CHECK(malformedWhy("spiffe://hydracore.test") == "it has no path");
  for (const auto& authority : {"", "Hydracore.test", "hydracore.test:443", "user@hydracore.test", "hydra%2ecore"}) {
    CAPTURE(authority);
    CHECK(malformedWhy(std::string("spiffe://") + authority + path) ==
          "its trust domain is not a valid SPIFFE trust domain");
  }
  const std::string upper_customer = "3F1C2A9E-5B7D-4E21-9C4F-0A1B2C3D4E5F";
  for (const auto& bad_path : {
           "/hydracore/customers/" + upper_customer + "/instances/" + kInstance,  // not canonical
           "/hydracore/customers/" + kCustomer + "/instances/" + kInstance + "/",
           "/hydracore/customers/" + kCustomer + "/instances/" + kInstance + "/extra",
           "/hydracore/customers/" + kCustomer + "/instances/" + kInstance + "?x=1",
           "/hydracore/customers/" + kCustomer + "/instances/" + kInstance + "#f",
           "/hydracore/customers/" + kCustomer + "//instances/" + kInstance,
           "/hydracore/customers/" + kCustomer,
           "/hydracore/instances/" + kInstance + "/customers/" + kCustomer,
           "/hydracore/customers/" + kCustomer.substr(1) + "/instances/" + kInstance,
           "/hydracore/customers/" + kCustomer.substr(0, 35) + "g/instances/" + kInstance,
           "/hydracore/customers/%33" + kCustomer.substr(1) + "/instances/" + kInstance,
           "/hydracore/customers/../customers/" + kCustomer + "/instances/" + kInstance,
           "/other/customers/" + kCustomer + "/instances/" + kInstance,
       }) {
    CAPTURE(bad_path);
    CHECK(malformedWhy("spiffe://hydracore.test" + bad_path).find("its path is not") == 0);
  }
}

TEST_CASE("spiffe id: trust domains as SPIFFE allows them") {
  CHECK(validTrustDomain("hydracore.test"));
  CHECK(validTrustDomain("prod-eu_1.example.com"));
  CHECK_FALSE(validTrustDomain(""));
  CHECK_FALSE(validTrustDomain("Example.com"));
  CHECK_FALSE(validTrustDomain("example.com:8443"));
  CHECK_FALSE(validTrustDomain("exa mple"));
  CHECK_FALSE(validTrustDomain(std::string(256, 'a')));
}

TEST_CASE(
    "runtime identity: a verified certificate with one SPIFFE id of the trust domain proves its customer and "
    "instance") {
  const auto check = checked(certificate());
  REQUIRE(std::holds_alternative<RuntimeIdentity>(check));
  const auto& id = std::get<RuntimeIdentity>(check);
  CHECK(id.customer_id == kCustomer);
  CHECK(id.instance_id == kInstance);
  CHECK(id.certificate_sha256 == std::string(32, '\x01'));
}

TEST_CASE("runtime identity: each broken rule is refused with its reason") {
  CHECK(verdict(kPolicy.check(nullptr, kNow)).find("401 A runtime certificate is required") == 0);

  auto untrusted = certificate();
  untrusted.chain = ClientCertificate::Chain::untrusted;
  untrusted.chain_problem = "unable to get local issuer certificate";
  CHECK(verdict(checked(untrusted)) ==
        "403 The runtime certificate does not chain to the runtime CA (unable to get local issuer certificate)");

  auto expired = certificate();
  expired.chain = ClientCertificate::Chain::expired;
  CHECK(verdict(checked(expired)) == "403 The runtime certificate has expired");
  // Valid at the handshake, expired since: a kept-alive connection does not outlive it.
  CHECK(verdict(checked(certificate(), kNow + 3601)) == "403 The runtime certificate has expired");
  auto early = certificate();
  early.chain = ClientCertificate::Chain::not_yet_valid;
  CHECK(verdict(checked(early)) == "403 The runtime certificate is not yet valid");
  CHECK(verdict(checked(certificate(), kNow - 61)) == "403 The runtime certificate is not yet valid");

  CHECK(verdict(checked(certificate({}))) ==
        "403 The runtime certificate must carry exactly one URI SAN (a SPIFFE id); it has 0");
  CHECK(verdict(checked(certificate({kGood, kGood}))) ==
        "403 The runtime certificate must carry exactly one URI SAN (a SPIFFE id); it has 2");
  CHECK(verdict(checked(certificate({"spiffe://hydracore.test/x"})))
            .find("403 The runtime certificate's SPIFFE id is malformed: its path is not") == 0);
  const auto other_domain = "spiffe://other.test/hydracore/customers/" + kCustomer + "/instances/" + kInstance;
  CHECK(verdict(checked(certificate({other_domain}))) ==
        "403 The runtime certificate's SPIFFE id is of trust domain 'other.test', not 'hydracore.test'");
}

TEST_CASE("runtime identity: off, nothing is asked of the certificate") {
  CHECK(std::holds_alternative<NotRequired>(checkThisRequest(std::nullopt)));
}
