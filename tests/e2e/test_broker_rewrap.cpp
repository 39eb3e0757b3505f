// Key rotation (issue 3, "Key rotation"): the control plane seals to key A, then to key B;
// a broker given B,A opens both; `hydracore-broker rewrap` (as the broker's role) moves every
// ciphertext to B and reports counts; afterwards a broker holding only B opens everything.
#include <doctest/doctest.h>

#include <map>
#include <memory>

#include "shared/crypto/open.hpp"
#include "shared/crypto/private_key_file.hpp"
#include "tests/support/broker.hpp"

using namespace hydra::test;

namespace {

/// What a connection was created with, by name.
using Expected = std::map<std::string, std::string>;

/// A BrokerStack whose control plane has sealed to the test key (A) so far, and that can
/// restart the control plane sealing to another public key.
struct Rotation {
  BrokerStack s;
  Tenant t = s.newTenant();
  Runtime runtime = s.newRuntime(t);
  std::string key_a = sealingKeyId(s.server);
  Expected expected;
  std::map<std::string, std::string> ids;  // name -> connection id
  std::unique_ptr<ControlPlane> restarted;

  /// Stops the control plane and starts it again sealing to `public_key`; returns its key id.
  std::string restartControlPlane(const std::string& public_key) {
    if (restarted) {
      restarted->stop();
    } else {
      s.server.stop();
    }
    auto env = ControlPlane::environment(s.db.urlAs("hydracore_control_plane"));
    env["HYDRA_BROKER_PUBLIC_KEY"] = public_key;
    restarted = std::make_unique<ControlPlane>(env);
    return sealingKeyId(*restarted);
  }
  /// A gmail connection `name` with distinct credentials, granted to the runtime, through
  /// whichever control plane runs now.
  void create(const std::string& name) {
    const HttpClient cp(restarted ? restarted->port() : s.server.port());
    const auto credentials = R"({"token":"ROTATION-)" + name + R"("})";
    const auto made = cp.request("POST", t.path() + "/connections", connectionBody("gmail", name, credentials), t.auth());
    const auto id = text(expectStatus(made, 201, "create connection").json, "id");
    const auto grant = cp.request("POST", t.path() + "/connections/" + id + "/grants",
                                  R"({"capabilities":[],"instance_id":")" + runtime.instance_id + R"("})", t.auth());
    expectStatus(grant, 201, "create grant");
    expected[name] = credentials;
    ids[name] = id;
  }
  /// Every expected connection opens on a broker holding `private_keys`, exactly.
  void checkBrokerOpensAll(const std::vector<std::string>& private_keys, const std::string& current_key) {
    Broker broker(s.db.urlAs("hydracore_broker"), private_keys);
    CHECK(broker.currentKeyId() == current_key);
    const HttpClient http(broker.port());
    for (const auto& entry : expected) {
      const auto& name = std::get<0>(entry);
      const auto& credentials = std::get<1>(entry);
      CAPTURE(name);
      const auto r = fetchFrom(http, runtime.instance_id, runtime.proxy_key, "provider=gmail&name=" + name);
      REQUIRE_MESSAGE(r.status == 200, r.body);
      CHECK(sameJson(member(r.json, "credentials"), credentials));
    }
  }
  RunResult rewrap(const std::vector<std::string>& private_keys) const {
    return runBroker({"rewrap"}, Broker::environment(s.db.urlAs("hydracore_broker"), private_keys));
  }
  /// connection name -> its stored secret.
  std::map<std::string, StoredSecret> stored() const {
    std::map<std::string, StoredSecret> out;
    for (const auto& [name, id] : ids) out[name] = storedSecret(s.db, id);
    return out;
  }
};

std::string report(long rewrapped, const std::string& key, long changed, long unknown, long failed) {
  return "rewrap: " + std::to_string(rewrapped) + " rewrapped to " + key + ", " + std::to_string(changed) +
         " changed meanwhile, " + std::to_string(unknown) + " under an unknown key, " + std::to_string(failed) +
         " failed to open, " + std::to_string(unknown + failed) + " still not under the current key\n";
}

}  // namespace

TEST_CASE("broker: rewrap moves every ciphertext from key A to key B, after which A can be dropped") {
  Rotation r;
  CHECK(r.s.broker.currentKeyId() == r.key_a);  // both binaries name a key the same way
  for (const auto* name : {"a1", "a2", "a3"}) r.create(name);
  // A customer's own OAuth client (the connect flow): its secret is sealed to the broker too.
  const auto client = r.s.as(r.t, "POST", r.t.path() + "/oauth-clients",
                             R"({"provider":"gmail","client_id":"own","client_secret":"ROTATION-client-secret"})");
  const auto client_id = text(expectStatus(client, 201, "create oauth client").json, "id");
  const auto b = newKeyFiles(r.s.key_dir, "b");
  const auto key_b = r.restartControlPlane(b.public_key);
  REQUIRE(key_b != r.key_a);
  for (const auto* name : {"b1", "b2"}) r.create(name);

  const auto before = r.stored();
  for (const auto* name : {"a1", "a2", "a3"}) CHECK(before.at(name).key_id == r.key_a);
  for (const auto* name : {"b1", "b2"}) CHECK(before.at(name).key_id == key_b);

  r.checkBrokerOpensAll({b.private_key, r.s.keys.private_key}, key_b);

  const auto first = r.rewrap({b.private_key, r.s.keys.private_key});
  CAPTURE(first.err);
  CHECK(first.exit_code == 0);
  CHECK(first.out == report(4, key_b, 0, 0, 0));  // three connections' credentials, the client's secret

  const auto after = r.stored();
  for (const auto& entry : after) {
    const auto& name = std::get<0>(entry);
    const auto& secret = std::get<1>(entry);
    CAPTURE(name);
    CHECK(secret.key_id == key_b);
    // Re-encrypted where it was under A, untouched where it already was under B.
    CHECK((secret.ciphertext_hex != before.at(name).ciphertext_hex) == (name[0] == 'a'));
  }
  CHECK(r.s.db.exec("SELECT count(*) FROM connection_secrets WHERE key_id <> $1", key_b)[0][0].as<int>() == 0);
  // The client's secret opens with B alone, for its row.
  const auto sealed = r.s.db.exec("SELECT secret_key_id, secret_ciphertext FROM oauth_clients WHERE id = $1", client_id);
  REQUIRE(sealed.size() == 1);
  CHECK(std::string(sealed[0][0].c_str()) == key_b);
  std::vector<Botan::secure_vector<std::uint8_t>> only_b;
  only_b.push_back(hydra::crypto::readPrivateKeyPem(b.private_key));
  const pqxx::binarystring ciphertext(sealed[0][1]);
  const auto secret = hydra::crypto::Opener(std::move(only_b))
                          .open({key_b, std::vector<std::uint8_t>(ciphertext.begin(), ciphertext.end())},
                                hydra::crypto::oauthClientAad(r.t.id, client_id));
  CHECK(std::string(secret.begin(), secret.end()) == "ROTATION-client-secret");

  r.checkBrokerOpensAll({b.private_key}, key_b);

  const auto again = r.rewrap({b.private_key, r.s.keys.private_key});
  CHECK(again.exit_code == 0);
  CHECK(again.out == report(0, key_b, 0, 0, 0));
  CHECK(r.stored().at("a1").ciphertext_hex == after.at("a1").ciphertext_hex);

  for (const auto& output : {first.out, first.err, again.out, again.err}) {
    CHECK(output.find("ROTATION-") == std::string::npos);
  }
}

TEST_CASE("broker: rewrap counts what is under an unknown key or fails to open, exits 1, and rewraps the rest") {
  Rotation r;
  for (const auto* name : {"ok1", "ok2", "tampered"}) r.create(name);
  // Flip the last byte (the tag) of one ciphertext.
  r.s.db.exec("UPDATE connection_secrets SET ciphertext = set_byte(ciphertext, length(ciphertext) - 1, "
              "get_byte(ciphertext, length(ciphertext) - 1) # 1) WHERE connection_id = $1",
              r.ids.at("tampered"));
  const auto c = newKeyFiles(r.s.key_dir, "c");
  const auto key_c = r.restartControlPlane(c.public_key);
  r.create("under-c");
  // Rotation to B starts: the broker is given B,A (C is lost) and serves while rewrap runs.
  const auto b = newKeyFiles(r.s.key_dir, "b");
  Broker broker(r.s.db.urlAs("hydracore_broker"), {b.private_key, r.s.keys.private_key});
  const auto key_b = broker.currentKeyId();
  const HttpClient http(broker.port());
  const auto fetch = [&](const std::string& name) {
    return fetchFrom(http, r.runtime.instance_id, r.runtime.proxy_key, "provider=gmail&name=" + name);
  };
  CHECK(fetch("ok1").status == 200);
  const auto before = r.stored();

  const auto first = r.rewrap({b.private_key, r.s.keys.private_key});
  CAPTURE(first.err);
  CHECK(first.exit_code == 1);
  CHECK(first.out == report(2, key_b, 0, 1, 1));
  const auto after = r.stored();
  CHECK(after.at("ok1").key_id == key_b);
  CHECK(after.at("ok2").key_id == key_b);
  // What could not be opened is left exactly as it was.
  CHECK(after.at("under-c").key_id == key_c);
  CHECK(after.at("under-c").ciphertext_hex == before.at("under-c").ciphertext_hex);
  CHECK(after.at("tampered").key_id == r.key_a);
  CHECK(after.at("tampered").ciphertext_hex == before.at("tampered").ciphertext_hex);

  // The broker serves the rewrapped rows and refuses the other two with a 500, no crash.
  CHECK(fetch("ok1").status == 200);
  CHECK(refusal(fetch("under-c"), 500) == "");
  CHECK(refusal(fetch("tampered"), 500) == "");
  CHECK(broker.running());
  CHECK(fetch("ok2").status == 200);

  const auto again = r.rewrap({b.private_key, r.s.keys.private_key});
  CHECK(again.exit_code == 1);
  CHECK(again.out == report(0, key_b, 0, 1, 1));

  // Given key C too, the row under it is rewrapped; the tampered one never is.
  const auto with_c = r.rewrap({b.private_key, r.s.keys.private_key, c.private_key});
  CHECK(with_c.exit_code == 1);
  CHECK(with_c.out == report(1, key_b, 0, 0, 1));
  CHECK(storedSecret(r.s.db, r.ids.at("under-c")).key_id == key_b);
  CHECK(fetch("under-c").status == 200);
}
