#include <doctest/doctest.h>

#include "broker/services/decision.hpp"

using hydra::broker::Candidate;
using hydra::broker::decide;
using hydra::broker::FetchQuery;
using hydra::broker::Lookup;

namespace {

const std::string kInstance = "0473b088-4267-4c93-bd9f-82b8ef17caa1";

constexpr std::int64_t kNow = 1'800'000'000'000'000;  // Unix microseconds

/// A request at `micros` from 10.1.2.3.
hydra::broker::Circumstances at(std::int64_t micros, const char* client = "10.1.2.3") {
  return {micros, hydra::net::parseAddress(client)};
}

Candidate connection(const std::string& name, const std::string& status = "active",
                     std::vector<std::string> capabilities = {"send_mail"}) {
  Candidate c;
  c.connection_id = "id-" + name;
  c.name = name;
  c.status = status;
  c.capabilities = std::move(capabilities);
  return c;
}

Lookup liveKeyWith(std::vector<Candidate> candidates) {
  Lookup found;
  found.key_found = true;
  found.key_instance_id = kInstance;
  found.candidates = std::move(candidates);
  return found;
}

FetchQuery query(std::optional<std::string> capability = std::nullopt) {
  return {kInstance, "gmail", std::nullopt, std::move(capability)};
}

}  // namespace

TEST_CASE("decide follows the order of the rules: key, instance, grant, ambiguity, capability, status") {
  CHECK(decide(Lookup{}, query(), at(kNow)).status == 401);

  auto other_instance = liveKeyWith({connection("a")});
  other_instance.key_instance_id = "11111111-1111-1111-1111-111111111111";
  CHECK(decide(other_instance, query(), at(kNow)).status == 403);

  CHECK(decide(liveKeyWith({}), query(), at(kNow)).status == 404);

  const auto ambiguous = decide(liveKeyWith({connection("a@x"), connection("b@x")}), query(), at(kNow));
  CHECK(ambiguous.status == 409);
  CHECK(ambiguous.reason.find("'a@x', 'b@x'") != std::string::npos);

  const auto missing_capability = decide(liveKeyWith({connection("a", "active", {"read_mail"})}), query("send_mail"), at(kNow));
  CHECK(missing_capability.status == 403);
  CHECK(missing_capability.reason.find("send_mail") != std::string::npos);

  auto broken = connection("a", "error");
  broken.error_message = "invalid_grant: token revoked";
  const auto refused = decide(liveKeyWith({broken}), query(), at(kNow));
  CHECK(refused.status == 409);
  CHECK(refused.reason.find("invalid_grant: token revoked") != std::string::npos);
  CHECK(decide(liveKeyWith({connection("a", "expired")}), query(), at(kNow)).status == 409);
}

TEST_CASE("decide releases exactly the one granted connection") {
  const auto found = liveKeyWith({connection("a")});
  const auto allowed = decide(found, query("send_mail"), at(kNow));
  CHECK(allowed.status == 200);
  REQUIRE(allowed.chosen != nullptr);
  CHECK(allowed.chosen->connection_id == "id-a");
}

TEST_CASE("decide reads a proxy key's expiry against the clock at each request") {
  auto found = liveKeyWith({connection("a")});
  found.key_expires_micros = kNow + 1;
  CHECK(decide(found, query(), at(kNow)).status == 200);
  CHECK(decide(found, query(), at(kNow + 1)).status == 401);  // expires_at itself is already too late
  CHECK(decide(found, query(), at(kNow + 3'600'000'000)).status == 401);
  found.key_expires_micros.reset();
  CHECK(decide(found, query(), at(kNow + 3'600'000'000)).status == 200);
}

TEST_CASE("decide without a capability asked releases, with one, only if the grant has it") {
  const auto found = liveKeyWith({connection("a", "active", {"send_mail", "read_mail"})});
  CHECK(decide(found, query(), at(kNow)).status == 200);
  CHECK(decide(found, query("read_mail"), at(kNow)).status == 200);
  CHECK(decide(found, query("delete_mail"), at(kNow)).status == 403);
  CHECK(decide(liveKeyWith({connection("b", "active", {})}), query("send_mail"), at(kNow)).status == 403);
}

TEST_CASE("decide refuses a network-bound key from elsewhere, before anything about the instance is told") {
  auto found = liveKeyWith({connection("a")});
  found.allowed_cidrs = std::vector<hydra::net::Cidr>{*hydra::net::parseCidr("10.0.0.0/8"),
                                                       *hydra::net::parseCidr("2001:db8::/32")};
  CHECK(decide(found, query(), at(kNow, "10.9.9.9")).status == 200);
  CHECK(decide(found, query(), at(kNow, "::ffff:10.9.9.9")).status == 200);  // IPv4-mapped is IPv4
  CHECK(decide(found, query(), at(kNow, "2001:db8::7")).status == 200);
  const auto outside = decide(found, query(), at(kNow, "192.168.1.1"));
  CHECK(outside.status == 403);
  CHECK(outside.reason == "Proxy key not allowed from this address");
  CHECK(decide(found, query(), at(kNow, "2001:db9::1")).status == 403);
  CHECK(decide(found, query(), {kNow, std::nullopt}).status == 403);  // unknown source: refused
  found.instance_disabled = true;
  CHECK(decide(found, query(), at(kNow, "192.168.1.1")).reason == "Proxy key not allowed from this address");
  CHECK(decide(found, query(), at(kNow, "10.9.9.9")).reason == "Instance disabled");
}

TEST_CASE("decide refuses a disabled instance and an expired grant, reading the clock at each request") {
  auto found = liveKeyWith({connection("a")});
  found.instance_disabled = true;
  CHECK(decide(found, query(), at(kNow)).status == 403);
  CHECK(decide(found, query(), at(kNow)).reason == "Instance disabled");
  found.instance_disabled = false;
  found.candidates.front().grant_expires_micros = kNow + 10;
  CHECK(decide(found, query(), at(kNow + 9)).status == 200);
  const auto expired = decide(found, query(), at(kNow + 10));
  CHECK(expired.status == 403);
  CHECK(expired.reason == "The grant has expired");
}

TEST_CASE("decide with runtime identity: the certificate must name the path's instance, then the key's customer") {
  const std::string customer = "3f1c2a9e-5b7d-4e21-9c4f-0a1b2c3d4e5f";
  auto found = liveKeyWith({connection("a")});
  found.customer_id = customer;
  hydra::broker::identity::RuntimeIdentity runtime{customer, kInstance, "sha"};
  auto with = [&](const hydra::broker::identity::RuntimeIdentity& id) {
    auto circumstances = at(kNow);
    circumstances.runtime = &id;
    return decide(found, query(), circumstances);
  };
  CHECK(with(runtime).status == 200);

  // An invalid key is told as such first, whatever the certificate.
  CHECK(decide(Lookup{}, query(), [&] { auto c = at(kNow); c.runtime = &runtime; return c; }()).status == 401);

  auto other_instance = runtime;
  other_instance.instance_id = "11111111-1111-1111-1111-111111111111";
  const auto wrong_instance = with(other_instance);
  CHECK(wrong_instance.status == 403);
  CHECK(wrong_instance.reason ==
        "The runtime certificate is for instance 11111111-1111-1111-1111-111111111111, not " + kInstance);

  // The certificate names the path's instance, the key another one: the key's rule.
  found.key_instance_id = "22222222-2222-2222-2222-222222222222";
  CHECK(with(runtime).reason == "This proxy key belongs to another instance");
  found.key_instance_id = kInstance;

  auto other_customer = runtime;
  other_customer.customer_id = "44444444-4444-4444-4444-444444444444";
  const auto wrong_customer = with(other_customer);
  CHECK(wrong_customer.status == 403);
  CHECK(wrong_customer.reason == "The runtime certificate is for customer 44444444-4444-4444-4444-444444444444, "
                                 "but the instance belongs to another customer");
}

TEST_CASE("decide never releases through a proxy-only grant, and says where to call instead") {
  auto proxied = connection("a");
  proxied.proxy_only = true;
  const auto refused = decide(liveKeyWith({proxied}), query("send_mail"), at(kNow));
  CHECK(refused.status == 403);
  CHECK(refused.chosen == nullptr);
  CHECK(refused.reason.find("proxy-only") != std::string::npos);
  CHECK(refused.reason.find("/internal/v1/instances/" + kInstance + "/proxy/gmail/") != std::string::npos);
  // Without a capability asked too, and whatever the connection's state: never released.
  CHECK(decide(liveKeyWith({proxied}), query(), at(kNow)).status == 403);
  auto broken = proxied;
  broken.status = "error";
  broken.error_message = "invalid_grant";
  const auto broken_refused = decide(liveKeyWith({broken}), query(), at(kNow));
  CHECK(broken_refused.status == 403);
  CHECK(broken_refused.reason.find("proxy-only") != std::string::npos);
  // The more precise refusals come first: an expired grant, a capability it lacks.
  auto expired = proxied;
  expired.grant_expires_micros = kNow;
  CHECK(decide(liveKeyWith({expired}), query(), at(kNow)).reason == "The grant has expired");
  CHECK(decide(liveKeyWith({proxied}), query("delete_mail"), at(kNow)).reason.find("delete_mail") != std::string::npos);
  // A rate limit alone changes nothing about the fetch: it is the proxy's.
  auto limited = connection("a");
  limited.rate_limit = hydra::broker::GrantRateLimit{600, 60};
  CHECK(decide(liveKeyWith({limited}), query("send_mail"), at(kNow)).status == 200);
}

TEST_CASE("decide lets the proxy use a proxy-only grant, and refuses it what it refuses the fetch") {
  auto proxied = connection("a");
  proxied.proxy_only = true;
  auto use = query();
  use.use = FetchQuery::Use::kProxy;
  const auto lookup = liveKeyWith({proxied});
  const auto allowed = decide(lookup, use, at(kNow));
  CHECK(allowed.status == 200);
  REQUIRE(allowed.chosen != nullptr);
  CHECK(allowed.chosen->connection_id == proxied.connection_id);
  // The rest still holds: an expired grant, a broken connection, a disabled instance.
  auto expired = proxied;
  expired.grant_expires_micros = kNow;
  CHECK(decide(liveKeyWith({expired}), use, at(kNow)).reason == "The grant has expired");
  auto broken = proxied;
  broken.status = "error";
  broken.error_message = "invalid_grant";
  CHECK(decide(liveKeyWith({broken}), use, at(kNow)).status == 409);
  auto disabled = liveKeyWith({proxied});
  disabled.instance_disabled = true;
  CHECK(decide(disabled, use, at(kNow)).reason == "Instance disabled");
}

TEST_CASE("decide refuses a pending connection (the connect flow's, before its tokens) to the fetch and the proxy") {
  for (const auto use : {FetchQuery::Use::kRelease, FetchQuery::Use::kProxy}) {
    auto q = query();
    q.use = use;
    const auto refused = decide(liveKeyWith({connection("a", "pending")}), q, at(kNow));
    CHECK(refused.status == 409);
    CHECK(refused.chosen == nullptr);
    CHECK(refused.reason.find("pending") != std::string::npos);
  }
  // A status this broker does not know is refused too, never released.
  CHECK(decide(liveKeyWith({connection("a", "suspended")}), query(), at(kNow)).status == 409);
}
