#pragma once
// The real hydracore-broker for the end-to-end tests: its key files in a private temporary
// folder, `serve` on a free port, and BrokerStack, the deployment every broker test starts
// from (control plane and broker each logging in as its own database role, as in production).

#include <string>
#include <vector>

#include "tests/support/api.hpp"

namespace hydra::test {

std::string brokerBinary();
RunResult runBroker(const std::vector<std::string>& args, const Environment& env,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// A folder of our own under /tmp (mode 0700), removed with its content.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(const std::string& file) const { return dir_ + "/" + file; }

 private:
  std::string dir_;
};

/// A broker key pair as files: the private key with mode 0600, as `serve` demands.
struct KeyFiles {
  std::string private_key, public_key;
};
/// The committed test pair (tests/data, what ControlPlane seals to by default), the private
/// key copied into `dir` with mode 0600 (git keeps no file modes).
KeyFiles testKeyFiles(const TempDir& dir);
/// A fresh pair written by `hydracore-broker keygen` as <name>-private.pem and <name>-public.pem.
KeyFiles newKeyFiles(const TempDir& dir, const std::string& name);

/// `hydracore-broker serve` on 127.0.0.1 with a free port.
class Broker : public Service {
 public:
  /// `private_keys`: the HYDRA_BROKER_PRIVATE_KEYS files, current first.
  static Environment environment(const std::string& database_url, const std::vector<std::string>& private_keys);
  Broker(const std::string& database_url, const std::vector<std::string>& private_keys);
  explicit Broker(const Environment& env);

  /// The key id it announced as current ("current key <id>").
  std::string currentKeyId() const;
};

/// The key id a control plane announced it seals to ("sealing to broker key <id>").
std::string sealingKeyId(const ControlPlane& control_plane);

/// What a runtime holds: its instance and one proxy key of it.
struct Runtime {
  std::string instance_id, key_id, proxy_key;
};

/// GET /internal/v1/instances/<instance_id>/connections?<query> on `broker`, with
/// `Authorization: Bearer <proxy_key>` unless `proxy_key` is empty.
Response fetchFrom(const HttpClient& broker, const std::string& instance_id, const std::string& proxy_key,
                   const std::string& query);

/// Stack with the control plane as hydracore_control_plane (sealing to the test key) and the
/// broker as hydracore_broker holding the test key, and shortcuts for the runtime's calls.
class BrokerStack : public Stack {
 public:
  BrokerStack() : BrokerStack(Environment{}) {}
  /// `settings`: added to (or replacing) the broker's environment, e.g. HYDRA_* tunables;
  /// `control_plane_settings`: the same for the control plane's.
  explicit BrokerStack(const Environment& settings, const Environment& control_plane_settings = {});

  /// The environment the broker was started with (to start another one like it).
  Environment brokerEnvironment() const;

  TempDir key_dir;
  KeyFiles keys;
  Environment broker_settings;  // what the constructor was given (declared before broker: it starts with them)
  Broker broker;
  HttpClient runtime;  // talks to the broker

  /// POST .../instances/<instance_id>/proxy-keys with `body`; expects 201.
  Runtime newProxyKey(const Tenant& tenant, const std::string& instance_id, const std::string& body = "") const;
  /// A new instance of `tenant` and a proxy key of it.
  Runtime newRuntime(const Tenant& tenant, const std::string& name = "runtime") const;
  /// The connection granted to a new runtime with `capabilities`; returns the runtime.
  Runtime grantedRuntime(const Tenant& tenant, const std::string& connection_id,
                         const std::string& capabilities = R"(["send_mail"])") const;

  /// fetchFrom(runtime, ...).
  Response fetch(const std::string& instance_id, const std::string& proxy_key, const std::string& query) const {
    return fetchFrom(runtime, instance_id, proxy_key, query);
  }
  Response fetch(const Runtime& r, const std::string& query) const {
    return fetch(r.instance_id, r.proxy_key, query);
  }

  /// GET <tenant>/audit-events?<query> as the tenant; expects 200.
  Response auditEvents(const Tenant& tenant, const std::string& query = "limit=500") const;
  /// GET <tenant>/connections/<id> as the tenant; expects 200.
  Response connection(const Tenant& tenant, const std::string& connection_id) const;
};

/// "" if `r` is a refusal with `status`: a body of exactly {"detail": "<non-empty string>"},
/// no credentials, and WWW-Authenticate: Bearer on a 401. Otherwise what is wrong, so that
/// CHECK(refusal(r, 404) == "") prints it.
std::string refusal(const Response& r, int status);

/// The X-Request-Id header of a response (throws if it has none).
std::string requestId(const Response& r);
/// The event of an audit-events response whose request_id is `request_id`; throws if none.
const rapidjson::Value& eventFor(const Response& events, const std::string& request_id);
/// A string member, or "null" when it is JSON null (for CHECKs on nullable fields).
std::string textOrNull(const rapidjson::Value& value, const char* key);

/// The stored (key_id, ciphertext as lower-case hex) of a connection, read as superuser.
struct StoredSecret {
  std::string key_id, ciphertext_hex;
};
StoredSecret storedSecret(const TestDatabase& db, const std::string& connection_id);

}  // namespace hydra::test
