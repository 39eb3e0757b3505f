#include "tests/support/broker.hpp"

#include "tests/support/runtime_pki.hpp"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>
#include <filesystem>
#include <regex>
#include <stdexcept>

namespace hydra::test {
namespace {

/// The first capture of `pattern` in `log`; throws naming `what` if it is not there.
std::string capture(const std::string& log, const std::regex& pattern, const std::string& what) {
  std::smatch match;
  if (!std::regex_search(log, match, pattern)) throw std::runtime_error("no " + what + " in the log:\n" + log);
  return match[1].str();
}

}  // namespace

std::string brokerBinary() { return binaryUnderTest("HYDRA_TEST_BROKER_BIN", HYDRA_BROKER_BIN); }

RunResult runBroker(const std::vector<std::string>& args, const Environment& env, std::chrono::milliseconds timeout) {
  return run(brokerBinary(), args, env, timeout);
}

TempDir::TempDir() {
  std::string pattern = "/tmp/hydra-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

KeyFiles testKeyFiles(const TempDir& dir) {
  namespace fs = std::filesystem;
  KeyFiles keys{dir.path("test-broker-private.pem"), testDataPath("test-broker-public.pem")};
  fs::copy_file(testDataPath("test-broker-private.pem"), keys.private_key);
  fs::permissions(keys.private_key, fs::perms::owner_read | fs::perms::owner_write);
  return keys;
}

KeyFiles newKeyFiles(const TempDir& dir, const std::string& name) {
  KeyFiles keys{dir.path(name + "-private.pem"), dir.path(name + "-public.pem")};
  const auto made = runBroker({"keygen", "--private-key", keys.private_key, "--public-key", keys.public_key}, {});
  if (made.exit_code != 0) throw std::runtime_error("hydracore-broker keygen failed: " + made.err);
  return keys;
}

namespace {

const TempDir& processDir() {
  static const TempDir dir;
  return dir;
}

}  // namespace

const AuditKeyFiles& testAuditKey() {
  static const AuditKeyFiles keys = [] {
    AuditKeyFiles made{processDir().path("audit-signing.pem"), processDir().path("audit-verifier.txt")};
    const auto run = runBroker({"keygen", "--audit-key", made.signing_key, "--verifier-key", made.verifier_key}, {});
    if (run.exit_code != 0) throw std::runtime_error("hydracore-broker keygen --audit-key failed: " + run.err);
    return made;
  }();
  return keys;
}

std::string newAuditDir() {
  static std::atomic<int> count{0};
  return processDir().path("audit-" + std::to_string(++count));
}

Environment Broker::environment(const std::string& database_url, const std::vector<std::string>& private_keys) {
  std::string keys;
  for (const auto& path : private_keys) keys += (keys.empty() ? "" : ",") + path;
  return {
      {"HYDRA_DATABASE_URL", database_url},
      {"HYDRA_LISTEN", "127.0.0.1:0"},
      {"HYDRA_BROKER_PRIVATE_KEYS", keys},
      {"HYDRA_AUDIT_DIR", newAuditDir()},
      {"HYDRA_AUDIT_SIGNING_KEY", testAuditKey().signing_key},
  };
}

Broker::Broker(const std::string& database_url, const std::vector<std::string>& private_keys)
    : Broker(environment(database_url, private_keys)) {}

Broker::Broker(const Environment& env) : Service(brokerBinary(), "broker", env) {}

std::string Broker::currentKeyId() const {
  static const std::regex current(R"(current key ([^,\s]+))");
  return capture(log(), current, "current key");
}

std::string sealingKeyId(const ControlPlane& control_plane) {
  static const std::regex sealing(R"(sealing to broker key (\S+))");
  return capture(control_plane.log(), sealing, "sealing key");
}

BrokerStack::BrokerStack(const Environment& settings, const Environment& control_plane_settings)
    : BrokerStack(RuntimeIdentity::Off, settings, control_plane_settings) {}

BrokerStack::BrokerStack(RuntimeIdentity identity, const Environment& settings,
                         const Environment& control_plane_settings)
    : Stack("hydracore_control_plane", control_plane_settings),
      keys(testKeyFiles(key_dir)),
      pki(identity == RuntimeIdentity::On ? std::make_shared<const RuntimePki>() : nullptr),
      broker_settings(withSettings(pki ? pki->brokerSettings() : Environment{}, settings)),
      broker_env(brokerEnvironment()),
      broker(broker_env),
      runtime(clientOf(broker.port())) {}

HttpClient BrokerStack::clientOf(std::uint16_t port) const {
  return pki ? HttpClient(port, ClientTls{pki->serverCa(), "", ""}) : HttpClient(port);
}

std::pair<std::string, std::string> BrokerStack::certificateOf(const std::string& customer_id,
                                                               const std::string& instance_id) const {
  if (!pki) return {};
  const std::lock_guard<std::mutex> lock(certificates_mutex_);
  auto& files = certificates_[instance_id];
  if (files.first.empty()) {
    const auto issued = pki->issue(customer_id, instance_id);
    files = {issued.cert, issued.key};
  }
  return files;
}

Environment BrokerStack::brokerEnvironment() const {
  auto env = Broker::environment(db.urlAs("hydracore_broker"), {keys.private_key});
  for (const auto& [name, value] : broker_settings) env[name] = value;
  return env;
}

Runtime BrokerStack::newProxyKey(const Tenant& tenant, const std::string& instance_id, const std::string& body) const {
  const auto r = as(tenant, "POST", tenant.path() + "/instances/" + instance_id + "/proxy-keys", body);
  expectStatus(r, 201, "create proxy key");
  const auto [cert_file, key_file] = certificateOf(tenant.id, instance_id);
  return {instance_id, text(r.json, "id"), text(r.json, "proxy_key"), cert_file, key_file};
}

Runtime BrokerStack::newRuntime(const Tenant& tenant, const std::string& name) const {
  return newProxyKey(tenant, createInstance(tenant, name));
}

Runtime BrokerStack::grantedRuntime(const Tenant& tenant, const std::string& connection_id,
                                    const std::string& capabilities) const {
  auto r = newRuntime(tenant);
  createGrant(tenant, connection_id, r.instance_id, capabilities);
  return r;
}

Response fetchFrom(const HttpClient& broker, const std::string& instance_id, const std::string& proxy_key,
                   const std::string& query) {
  return broker.request("GET", "/internal/v1/instances/" + instance_id + "/connections?" + query, "",
                         proxy_key.empty() ? Headers{} : bearer(proxy_key));
}

Response fetchFrom(const HttpClient& broker, const Runtime& r, const std::string& query) {
  if (r.cert_file.empty()) return fetchFrom(broker, r.instance_id, r.proxy_key, query);
  return fetchFrom(broker.withClientCertificate(r.cert_file, r.key_file), r.instance_id, r.proxy_key, query);
}

void BrokerStack::awaitShipped() const {
  const auto dir = broker_env.at("HYDRA_AUDIT_DIR");
  std::ifstream origin_file(dir + "/origin");
  std::string origin;
  std::getline(origin_file, origin);
  const auto journaled = journalLines(dir).size();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (db.exec("SELECT count(*) FROM audit_events WHERE journal_id = $1", origin)[0][0].as<std::size_t>() < journaled) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("the broker's journal was not shipped");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Response BrokerStack::auditEvents(const Tenant& tenant, const std::string& query) const {
  awaitShipped();
  auto r = as(tenant, "GET", tenant.path() + "/audit-events?" + query);
  expectStatus(r, 200, "list audit events");
  return r;
}

Response BrokerStack::connection(const Tenant& tenant, const std::string& connection_id) const {
  auto r = as(tenant, "GET", tenant.path() + "/connections/" + connection_id);
  expectStatus(r, 200, "get connection");
  return r;
}

std::string refusal(const Response& r, int status) {
  const auto got = std::to_string(r.status) + " " + r.body;
  if (r.status != status) return "expected " + std::to_string(status) + ", got " + got;
  try {
    if (errorDetail(r).empty()) return "empty detail: " + got;
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  if (status == 401 && r.header("WWW-Authenticate") != "Bearer") {
    return "401 without WWW-Authenticate: Bearer (got '" + r.header("WWW-Authenticate").value_or("") + "')";
  }
  return "";
}

std::string requestId(const Response& r) {
  const auto id = r.header("X-Request-Id");
  if (!id || id->empty()) throw std::runtime_error("no X-Request-Id in the response: " + r.body);
  return *id;
}

const rapidjson::Value& eventFor(const Response& events, const std::string& request_id) {
  for (const auto* event : items(member(events.json, "events"))) {
    if (text(*event, "request_id") == request_id) return *event;
  }
  throw std::runtime_error("no audit event with request_id " + request_id + " in " + events.body);
}

std::string textOrNull(const rapidjson::Value& value, const char* key) {
  return member(value, key).IsNull() ? "null" : text(value, key);
}

void waitOutStaleness() { std::this_thread::sleep_for(std::chrono::milliseconds(200)); }

void awaitShipped(const TestDatabase& db, const std::vector<std::string>& request_ids) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  std::string array = "{";
  for (const auto& id : request_ids) array += (array.size() > 1 ? "," : "") + id;
  array += "}";
  while (true) {
    const auto shipped =
        db.exec("SELECT count(DISTINCT request_id) FROM audit_events WHERE request_id = ANY($1::text[])", array)[0][0]
            .as<std::size_t>();
    if (shipped == request_ids.size()) return;
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("only " + std::to_string(shipped) + " of " + std::to_string(request_ids.size()) +
                               " audit records reached PostgreSQL");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::string> journalLines(const std::string& audit_dir) {
  std::vector<std::string> segments;
  for (const auto& entry : std::filesystem::directory_iterator(audit_dir)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("segment-", 0) == 0) segments.push_back(entry.path().string());
  }
  std::sort(segments.begin(), segments.end());
  std::vector<std::string> lines;
  for (const auto& path : segments) {
    std::ifstream in(path, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::size_t start = 0, nl; (nl = content.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines.push_back(content.substr(start, nl - start));
    }
  }
  return lines;
}

StoredSecret storedSecret(const TestDatabase& db, const std::string& connection_id) {
  const auto rows = db.exec("SELECT key_id, encode(ciphertext, 'hex') FROM connection_secrets WHERE connection_id = $1",
                            connection_id);
  if (rows.size() != 1) throw std::runtime_error("no connection_secrets row for " + connection_id);
  return {rows[0][0].c_str(), rows[0][1].c_str()};
}

}  // namespace hydra::test
