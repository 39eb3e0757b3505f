#include <doctest/doctest.h>

#include "broker/services/decision.hpp"

using hydra::broker::Candidate;
using hydra::broker::decide;
using hydra::broker::FetchQuery;
using hydra::broker::Lookup;

namespace {

const std::string kInstance = "0473b088-4267-4c93-bd9f-82b8ef17caa1";

constexpr std::int64_t kNow = 1'800'000'000'000'000;  // Unix microseconds

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
  CHECK(decide(Lookup{}, query(), kNow).status == 401);

  auto other_instance = liveKeyWith({connection("a")});
  other_instance.key_instance_id = "11111111-1111-1111-1111-111111111111";
  CHECK(decide(other_instance, query(), kNow).status == 403);

  CHECK(decide(liveKeyWith({}), query(), kNow).status == 404);

  const auto ambiguous = decide(liveKeyWith({connection("a@x"), connection("b@x")}), query(), kNow);
  CHECK(ambiguous.status == 409);
  CHECK(ambiguous.reason.find("'a@x', 'b@x'") != std::string::npos);

  const auto missing_capability = decide(liveKeyWith({connection("a", "active", {"read_mail"})}), query("send_mail"), kNow);
  CHECK(missing_capability.status == 403);
  CHECK(missing_capability.reason.find("send_mail") != std::string::npos);

  auto broken = connection("a", "error");
  broken.error_message = "invalid_grant: token revoked";
  const auto refused = decide(liveKeyWith({broken}), query(), kNow);
  CHECK(refused.status == 409);
  CHECK(refused.reason.find("invalid_grant: token revoked") != std::string::npos);
  CHECK(decide(liveKeyWith({connection("a", "expired")}), query(), kNow).status == 409);
}

TEST_CASE("decide releases exactly the one granted connection") {
  const auto found = liveKeyWith({connection("a")});
  const auto allowed = decide(found, query("send_mail"), kNow);
  CHECK(allowed.status == 200);
  REQUIRE(allowed.chosen != nullptr);
  CHECK(allowed.chosen->connection_id == "id-a");
}

TEST_CASE("decide reads a proxy key's expiry against the clock at each request") {
  auto found = liveKeyWith({connection("a")});
  found.key_expires_micros = kNow + 1;
  CHECK(decide(found, query(), kNow).status == 200);
  CHECK(decide(found, query(), kNow + 1).status == 401);  // expires_at itself is already too late
  CHECK(decide(found, query(), kNow + 3'600'000'000).status == 401);
  found.key_expires_micros.reset();
  CHECK(decide(found, query(), kNow + 3'600'000'000).status == 200);
}

TEST_CASE("decide without a capability asked releases; with one, only if the grant has it") {
  const auto found = liveKeyWith({connection("a", "active", {"send_mail", "read_mail"})});
  CHECK(decide(found, query(), kNow).status == 200);
  CHECK(decide(found, query("read_mail"), kNow).status == 200);
  CHECK(decide(found, query("delete_mail"), kNow).status == 403);
  CHECK(decide(liveKeyWith({connection("b", "active", {})}), query("send_mail"), kNow).status == 403);
}
