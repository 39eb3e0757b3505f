// Operations (issue 9): readiness, metrics, request ids, JSON logs, and the broker's process
// protections, on the real binaries.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/broker.hpp"
#include "tests/support/raw_http.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

void takeDown(const TestDatabase& db) {
  execAdmin("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS false");
  execAdmin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db.name() + "'");
}

void bringBack(const TestDatabase& db) { execAdmin("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS true"); }

std::vector<std::string> missing(const Response& r) {
  std::vector<std::string> out;
  if (!r.is_json || !r.json.IsObject() || !r.json.HasMember("missing")) return out;
  for (const auto* item : items(member(r.json, "missing"))) out.emplace_back(item->GetString());
  return out;
}

std::string lastSegment(const std::string& dir) {
  std::vector<std::string> segments;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("segment-", 0) == 0) segments.push_back(entry.path().string());
  }
  std::sort(segments.begin(), segments.end());
  return segments.back();
}

// The value of a sample line `name{labels}` of a Prometheus text exposition, or -1.
double sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

// The port `service` logged "<what> listening on" (logged just after it started serving).
std::uint16_t loggedPort(const Service& service, const std::string& what) {
  const std::regex pattern(what + R"( listening on 127\.0\.0\.1:(\d+))");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    const auto log = service.log();
    std::smatch match;
    if (std::regex_search(log, match, pattern)) return static_cast<std::uint16_t>(std::stoi(match[1].str()));
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("no '" + what + " listening' in " + log);
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace

TEST_CASE("operations: /readyz is 200 when the database answers and the schema is current, else 503 naming what") {
  Stack s("hydracore_control_plane");
  auto r = s.http.request("GET", "/readyz");
  CHECK(r.status == 200);
  CHECK(sameJson(r.json, R"({"status":"ready","checks":{"database":"ok","schema":"ok"}})"));
  CHECK(s.http.request("GET", "/healthz").status == 200);

  // A migration this binary knows is not applied: the schema is behind.
  s.db.exec("DELETE FROM schema_migrations WHERE name = '0016_operations.sql'");
  r = s.http.request("GET", "/readyz");
  CHECK(r.status == 503);
  CHECK(missing(r) == std::vector<std::string>{"schema"});
  CHECK(text(member(r.json, "checks"), "schema") == "migrations not applied: 0016_operations.sql");
  s.db.exec("INSERT INTO schema_migrations (name) VALUES ('0016_operations.sql')");
  // A migration of a later release (migrations only add): still ready, as a rolling upgrade needs.
  s.db.exec("INSERT INTO schema_migrations (name) VALUES ('9999_next_release.sql')");
  CHECK(s.http.request("GET", "/readyz").status == 200);

  takeDown(s.db);
  r = s.http.request("GET", "/readyz");
  CHECK(r.status == 503);
  CHECK(missing(r) == std::vector<std::string>{"database", "schema"});
  CHECK(text(member(r.json, "checks"), "database") == "unreachable");
  CHECK(r.body.find("postgres") == std::string::npos);  // no connection string, host or user
  CHECK(r.body.find(s.db.name()) == std::string::npos);
  CHECK(s.http.request("GET", "/healthz").status == 200);  // alive all the same
  bringBack(s.db);
  CHECK(s.http.request("GET", "/readyz").status == 200);
}

TEST_CASE("operations: the broker's /readyz also needs its keys and a writable audit journal") {
  BrokerStack s;
  auto r = s.runtime.request("GET", "/readyz");
  CHECK(r.status == 200);
  CHECK(sameJson(r.json,
                 R"({"status":"ready","checks":{"database":"ok","schema":"ok","keys":"ok","audit_journal":"ok"}})"));

  const auto tenant = s.newTenant();
  const auto runtime = s.grantedRuntime(tenant, s.createConnection(tenant, "gmail", "inbox"));
  REQUIRE(s.fetch(runtime, "provider=gmail").status == 200);
  // The journal cannot grow: the next record fails, and readiness says so.
  const auto segment = lastSegment(s.broker_env.at("HYDRA_AUDIT_DIR"));
  rlimit limit{static_cast<rlim_t>(fs::file_size(segment)), RLIM_INFINITY};
  REQUIRE(prlimit(s.broker.pid(), RLIMIT_FSIZE, &limit, nullptr) == 0);
  CHECK(s.fetch(runtime, "provider=gmail").status == 503);
  r = s.runtime.request("GET", "/readyz");
  CHECK(r.status == 503);
  CHECK(missing(r) == std::vector<std::string>{"audit_journal"});
  limit.rlim_cur = RLIM_INFINITY;
  REQUIRE(prlimit(s.broker.pid(), RLIMIT_FSIZE, &limit, nullptr) == 0);
  CHECK(s.fetch(runtime, "provider=gmail").status == 200);
  CHECK(s.runtime.request("GET", "/readyz").status == 200);
}

TEST_CASE("operations: /metrics speaks the Prometheus text format, by route template, without ids") {
  BrokerStack s;
  const auto tenant = s.newTenant();
  const auto runtime = s.grantedRuntime(tenant, s.createConnection(tenant, "gmail", "inbox"));
  REQUIRE(s.fetch(runtime, "provider=gmail").status == 200);
  REQUIRE(s.fetch(runtime, "provider=gmail&capability=delete_everything").status == 403);
  REQUIRE(s.fetch(runtime.instance_id, "hcp_garbage", "provider=gmail").status == 401);
  REQUIRE(s.as(tenant, "GET", tenant.path() + "/connections").status == 200);

  for (const auto* http : {&s.http, &s.runtime}) {
    const auto r = http->request("GET", "/metrics");
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type") == "text/plain; version=0.0.4");
    CHECK(r.body.find("# TYPE http_requests_total counter") != std::string::npos);
    CHECK(r.body.find("# TYPE http_request_duration_seconds histogram") != std::string::npos);
    CHECK(r.body.find("db_pool_connections{pool=\"main\",state=\"in_use\"}") != std::string::npos);
    CHECK(r.body.find("db_pool_waiting{pool=\"main\"}") != std::string::npos);
    // No id and no concrete path anywhere: customers, instances, keys, connections.
    CHECK_FALSE(std::regex_search(r.body, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-")));
    CHECK(r.body.find(tenant.id) == std::string::npos);
    CHECK(r.body.find(runtime.instance_id) == std::string::npos);
  }
  const auto cp = s.http.request("GET", "/metrics").body;
  CHECK(sample(cp, R"(http_requests_total{method="GET",route="/v1/customers/:customer_id/connections",status="200"})") == 1);
  const auto broker = s.runtime.request("GET", "/metrics").body;
  const std::string fetch_route = "/internal/v1/instances/:instance_id/connections";
  CHECK(sample(broker, "http_requests_total{method=\"GET\",route=\"" + fetch_route + "\",status=\"200\"}") == 1);
  CHECK(sample(broker, "http_request_duration_seconds_count{method=\"GET\",route=\"" + fetch_route + "\"}") == 3);
  CHECK(sample(broker, R"(broker_decisions_total{outcome="allowed",reason="granted"})") == 1);
  CHECK(sample(broker, R"(broker_decisions_total{outcome="denied",reason="capability_not_granted"})") == 1);
  CHECK(sample(broker, R"(broker_decisions_total{outcome="denied",reason="unauthenticated"})") == 1);
  CHECK(sample(broker, R"(audit_records_total{result="durable"})") >= 3);
  CHECK(sample(broker, R"(audit_journal_sync_seconds_count)") >= 1);
  CHECK(sample(broker, R"(broker_token_refreshes_total{outcome="refreshed"})") == 0);
  CHECK(broker.find("db_pool_connections{pool=\"refresh\",state=\"size\"}") != std::string::npos);
}

TEST_CASE("operations: HYDRA_METRICS_LISTEN moves /metrics to a listener of its own") {
  BrokerStack s(Environment{{"HYDRA_METRICS_LISTEN", "127.0.0.1:0"}});
  const auto port = loggedPort(s.broker, "metrics");
  HttpClient metrics(port);
  CHECK(metrics.request("GET", "/metrics").status == 200);
  const auto r = metrics.request("GET", "/metrics");  // counts the first
  CHECK(r.status == 200);
  CHECK(r.body.find(R"(http_requests_total{method="GET",route="/metrics",status="200"} 1)") != std::string::npos);
  CHECK(r.body.find("broker_decisions_total") != std::string::npos);
  CHECK(metrics.request("GET", "/healthz").status == 404);  // only /metrics there
  CHECK(s.runtime.request("GET", "/metrics").status == 404);  // not on the runtime address
  const auto doc = s.runtime.request("GET", "/openapi.json");
  CHECK(member(doc.json, "paths").HasMember("/metrics") == false);
}

TEST_CASE("operations: X-Request-Id is taken when well formed, returned, and written into the audit record") {
  BrokerStack s;
  const auto tenant = s.newTenant();
  const auto runtime = s.grantedRuntime(tenant, s.createConnection(tenant, "gmail", "inbox"));
  const auto path = "/internal/v1/instances/" + runtime.instance_id + "/connections?provider=gmail";
  auto headers = bearer(runtime.proxy_key);
  headers.emplace_back("X-Request-Id", "lb-7f3a9c-trace");
  const auto kept = s.runtime.request("GET", path, "", headers);
  CHECK(kept.status == 200);
  CHECK(requestId(kept) == "lb-7f3a9c-trace");
  headers.back().second = "has spaces in it";
  const auto replaced = s.runtime.request("GET", path, "", headers);
  CHECK(requestId(replaced) != "has spaces in it");
  CHECK(requestId(replaced).size() == 16);
  const auto events = s.auditEvents(tenant);
  CHECK(textOrNull(eventFor(events, "lb-7f3a9c-trace"), "outcome") == "allowed");
  CHECK(s.broker.log().find("id=lb-7f3a9c-trace") != std::string::npos);
  // The control plane too.
  CHECK(requestId(s.http.request("GET", "/healthz", "", {{"X-Request-Id", "cp-trace-1"}})) == "cp-trace-1");
}

TEST_CASE("operations: HYDRA_LOG_FORMAT=json writes every line as one JSON object") {
  TestDatabase db;
  auto env = ControlPlane::environment(db.url());
  env["HYDRA_LOG_FORMAT"] = "json";
  ControlPlane cp(env);
  HttpClient http(cp.port());
  CHECK(http.request("GET", "/healthz", "", {{"X-Request-Id", "json-line-1"}}).status == 200);
  CHECK(http.request("POST", "/v1/admin/customers", "{", bearer(cp.adminToken())).status == 422);
  CHECK(cp.stop() == 0);
  std::istringstream lines(cp.log());
  int access = 0, others = 0;
  for (std::string line; std::getline(lines, line);) {
    CAPTURE(line);
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    for (const char* key : {"time", "level", "logger", "message"}) CHECK(member(doc, key).IsString());
    if (doc.HasMember("route")) {
      ++access;
      CHECK(member(doc, "method").IsString());
      CHECK(member(doc, "status").IsInt());
      CHECK(member(doc, "duration_ms").IsNumber());
      CHECK(member(doc, "request_id").IsString());
    } else {
      ++others;
    }
  }
  CHECK(access == 2);
  CHECK(others >= 3);  // listening, shutting down, stopped
  CHECK(cp.log().find(R"("request_id":"json-line-1","method":"GET","route":"/healthz","status":200)") !=
        std::string::npos);

  env["HYDRA_LOG_FORMAT"] = "xml";
  const auto refused = runControlPlane({"serve"}, env);
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("HYDRA_LOG_FORMAT") != std::string::npos);
}

TEST_CASE("operations: the broker is not dumpable and writes no core file") {
  // Run as an unprivileged user, as in production: a dumpable process's /proc/<pid>/* files
  // belong to its user; a non-dumpable one's to root (and others of its user cannot ptrace it
  // or read its memory). A crash with a core size limit raised beforehand and a core_pattern
  // of "core" in the working folder leaves a core file and WCOREDUMP for a process that may
  // dump; the broker sets its own limit to 0 and dumps nothing.
  constexpr uid_t kNobody = 65534;
  const TempDir dir;
  REQUIRE(chown(dir.path("").c_str(), kNobody, kNobody) == 0);
  const auto own = [&](const std::string& from, const std::string& name) {
    fs::copy_file(from, dir.path(name));
    REQUIRE(chown(dir.path(name).c_str(), kNobody, kNobody) == 0);
    fs::permissions(dir.path(name), fs::perms::owner_read | fs::perms::owner_write);
    return dir.path(name);
  };
  const TestDatabase db;
  auto env = Broker::environment(db.urlAs("hydracore_broker"), {own(testDataPath("test-broker-private.pem"), "k.pem")});
  env["HYDRA_AUDIT_SIGNING_KEY"] = own(testAuditKey().signing_key, "audit.pem");
  env["HYDRA_AUDIT_DIR"] = dir.path("audit");
  std::vector<std::string> broker_env;
  for (const auto& [name, value] : env) broker_env.push_back(name + "=" + value);

  struct Crash {
    uid_t proc_owner;
    std::string limits;
    int status;
  };
  const auto crash = [&](const std::vector<std::string>& argv, const std::vector<std::string>& envs) {
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : envs) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const pid_t child = fork();
    if (child == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
      setrlimit(RLIMIT_CORE, &unlimited);
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(126);
      if (chdir(dir.path("").c_str()) != 0) _exit(127);
      execve(args[0], args.data(), envp.data());
      _exit(127);
    }
    const auto proc = "/proc/" + std::to_string(child);
    // Serving (or sleeping) once its audit folder exists and a moment has passed.
    std::this_thread::sleep_for(1500ms);
    Crash out{};
    struct stat info {};
    stat((proc + "/status").c_str(), &info);
    out.proc_owner = info.st_uid;
    std::ifstream limits(proc + "/limits");
    out.limits.assign(std::istreambuf_iterator<char>(limits), std::istreambuf_iterator<char>());
    // SIGABRT, whose default action dumps core: AddressSanitizer catches SIGSEGV itself (it
    // reports and exits 1), so a sanitized broker would never show the kernel's handling.
    kill(child, SIGABRT);
    waitpid(child, &out.status, 0);
    return out;
  };
  std::ifstream pattern_file("/proc/sys/kernel/core_pattern");
  std::string pattern;
  std::getline(pattern_file, pattern);

  // A copy the user can reach wherever the build folder is.
  fs::copy_file(brokerBinary(), dir.path("hydracore-broker"));
  fs::permissions(dir.path("hydracore-broker"), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec |
                                                    fs::perms::group_read | fs::perms::others_read);
  const auto broker = crash({dir.path("hydracore-broker"), "serve"}, broker_env);
  REQUIRE_MESSAGE(WIFSIGNALED(broker.status), "the broker did not run as that user, status " << broker.status);
  CHECK(broker.proc_owner == 0);
  CHECK_FALSE(WCOREDUMP(broker.status));
  CHECK(std::regex_search(broker.limits, std::regex(R"(Max core file size\s+0\s+0)")));
  // The control: an ordinary program, the same way, is dumpable and dumps core here (when the
  // machine's core_pattern writes files at all).
  const auto control = crash({"/bin/sleep", "30"}, {});
  CHECK(control.proc_owner == kNobody);
  if (pattern == "core") CHECK(WCOREDUMP(control.status));
  CHECK(fs::exists(dir.path("audit")));  // the broker did start serving
}
