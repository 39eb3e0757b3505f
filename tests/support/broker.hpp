#pragma once
// The real hydracore-broker for the end-to-end tests: its key files in a private temporary
// folder, `serve` on a free port, and BrokerStack, the deployment every broker test starts
// from (control plane and broker each logging in as its own database role, as in production).

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
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

/// The audit signing key all test brokers share (made once per test process with `keygen
/// --audit-key`), and its verifier key.
struct AuditKeyFiles {
  std::string signing_key, verifier_key;
};
const AuditKeyFiles& testAuditKey();
/// A new, empty folder for a broker's audit journal (removed when the test process ends).
std::string newAuditDir();

/// `hydracore-broker serve` on 127.0.0.1 with a free port.
class Broker : public Service {
 public:
  /// `private_keys`: the HYDRA_BROKER_PRIVATE_KEYS files, current first. Each call names a new
  /// audit journal folder (HYDRA_AUDIT_DIR) and the test audit key.
  static Environment environment(const std::string& database_url, const std::vector<std::string>& private_keys);
  Broker(const std::string& database_url, const std::vector<std::string>& private_keys);
  explicit Broker(const Environment& env);

  /// The key id it announced as current ("current key <id>").
  std::string currentKeyId() const;
};

/// The key id a control plane announced it seals to ("sealing to broker key <id>").
std::string sealingKeyId(const ControlPlane& control_plane);

/// What a runtime holds: its instance and one proxy key of it, and with runtime identity on
/// (issue 17) its certificate for its customer and instance (empty otherwise).
struct Runtime {
  std::string instance_id, key_id, proxy_key;
  std::string cert_file, key_file;
};

/// GET /internal/v1/instances/<instance_id>/connections?<query> on `broker`, with
/// `Authorization: Bearer <proxy_key>` unless `proxy_key` is empty.
Response fetchFrom(const HttpClient& broker, const std::string& instance_id, const std::string& proxy_key,
                   const std::string& query);
/// The same as runtime `r`: its instance and key, and its certificate if it has one (`broker`
/// must then speak HTTPS).
Response fetchFrom(const HttpClient& broker, const Runtime& r, const std::string& query);

class RuntimePki;  // tests/support/runtime_pki.hpp

/// Whether a BrokerStack's broker checks runtime identity (issue 17): HTTPS, a runtime CA and
/// a trust domain, and a certificate for each runtime the stack makes.
enum class RuntimeIdentity { Off, On };

/// Stack with the control plane as hydracore_control_plane (sealing to the test key) and the
/// broker as hydracore_broker holding the test key, and shortcuts for the runtime's calls.
class BrokerStack : public Stack {
 public:
  BrokerStack() : BrokerStack(Environment{}) {}
  /// `settings`: added to (or replacing) the broker's environment, e.g. HYDRA_* tunables;
  /// `control_plane_settings`: the same for the control plane's.
  explicit BrokerStack(const Environment& settings, const Environment& control_plane_settings = {});
  /// With RuntimeIdentity::On the broker serves HTTPS and checks runtime certificates of a
  /// throwaway runtime PKI (`pki`); every Runtime the stack makes carries a certificate for its
  /// customer and instance, which fetch() presents. `settings` are added after the PKI's.
  explicit BrokerStack(RuntimeIdentity identity, const Environment& settings = {},
                       const Environment& control_plane_settings = {});

  /// An environment like the broker's, with a journal folder of its own (to start another broker).
  Environment brokerEnvironment() const;
  /// A client of a broker of this stack on `port`: over HTTPS (verifying the broker's
  /// certificate, presenting none) with runtime identity on, plain HTTP otherwise.
  HttpClient clientOf(std::uint16_t port) const;

  TempDir key_dir;
  KeyFiles keys;
  std::shared_ptr<const RuntimePki> pki;  // null with runtime identity off
  Environment broker_settings;  // what the constructor was given (declared before broker: it starts with them)
  Environment broker_env;       // what the broker was started with (HYDRA_AUDIT_DIR: its journal)
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
  Response fetch(const Runtime& r, const std::string& query) const { return fetchFrom(runtime, r, query); }

  /// Waits (up to 15 s) until PostgreSQL holds every record of the broker's journal (the broker
  /// ships it in the background).
  void awaitShipped() const;
  /// GET <tenant>/audit-events?<query> as the tenant, once everything is shipped; expects 200.
  Response auditEvents(const Tenant& tenant, const std::string& query = "limit=500") const;
  /// GET <tenant>/connections/<id> as the tenant; expects 200.
  Response connection(const Tenant& tenant, const std::string& connection_id) const;

 private:
  /// The certificate of `customer_id`'s instance (issued once per instance), or none without pki.
  std::pair<std::string, std::string> certificateOf(const std::string& customer_id, const std::string& instance_id) const;

  mutable std::mutex certificates_mutex_;
  mutable std::map<std::string, std::pair<std::string, std::string>> certificates_;  // by instance id
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

/// What the control plane does after a change that narrows access: waits out the brokers'
/// staleness bound (HYDRA_AUTHZ_STALENESS_MS, default 200 ms), after which every later fetch sees
/// the change. Tests that write to the database directly call it before they fetch.
void waitOutStaleness();

/// Waits (up to 15 s) until PostgreSQL holds the audit record of every request in
/// `request_ids`: the broker ships its journal there in the background. Throws if it does not.
void awaitShipped(const TestDatabase& db, const std::vector<std::string>& request_ids);

/// The lines of a journal folder's segments, in order (complete lines only).
std::vector<std::string> journalLines(const std::string& audit_dir);

/// The stored (key_id, ciphertext as lower-case hex) of a connection, read as superuser.
struct StoredSecret {
  std::string key_id, ciphertext_hex;
};
StoredSecret storedSecret(const TestDatabase& db, const std::string& connection_id);

}  // namespace hydra::test
