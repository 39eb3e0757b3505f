// hydracore-broker's command line: --help, keygen (mode 0600, never overwriting silently,
// keys that openssl and the control plane accept), and serve refusing bad key settings with
// one stderr line naming HYDRA_BROKER_PRIVATE_KEYS.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/broker.hpp"

using namespace hydra::test;
namespace fs = std::filesystem;

namespace {

// Never reached: every refusal happens before the database is.
const std::string kNoDatabase = "postgresql://postgres@127.0.0.1:1/none";

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

unsigned fileMode(const std::string& path) {
  struct stat info {};
  REQUIRE(stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

/// Writes `content` to `path` with `mode`.
void writeFile(const std::string& path, const std::string& content, fs::perms mode) {
  std::ofstream(path) << content;
  fs::permissions(path, mode);
}

/// `run` failed with exactly one stderr line that names `variable`, and printed nothing else.
void checkRefused(const RunResult& run, const std::string& variable) {
  CAPTURE(run.err);
  CHECK(run.exit_code != 0);
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
  CHECK(run.err.back() == '\n');
  CHECK(run.err.find(variable) != std::string::npos);
  CHECK(run.out.empty());
}

RunResult serveWith(const Environment& env) { return runBroker({"serve"}, env, std::chrono::seconds(10)); }

}  // namespace

TEST_CASE("broker cli: --help on the binary and each subcommand exits 0 with its usage") {
  const auto top = runBroker({"--help"}, {});
  CHECK(top.exit_code == 0);
  CHECK(top.out.find("usage") != std::string::npos);
  for (const auto* command : {"serve", "keygen", "rewrap"}) {
    CAPTURE(command);
    CHECK(top.out.find(command) != std::string::npos);
    const auto help = runBroker({command, "--help"}, {});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("usage") != std::string::npos);
    CHECK(help.out.find("HYDRA_BROKER_PRIVATE_KEYS") != std::string::npos);
  }
  CHECK(runBroker({"keygen", "--help"}, {}).out.find("--private-key") != std::string::npos);
  CHECK(runBroker({"rewrap", "--help"}, {}).out != top.out);
}

TEST_CASE("broker cli: -h, which the help lists beside --help, prints the help too") {
  const auto help = runBroker({"--help"}, {});
  REQUIRE(help.out.find("-h, --help") != std::string::npos);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"-h"}, {"keygen", "-h"}}) {
    CAPTURE(args.front());
    const auto run = runBroker(args, {});
    CAPTURE(run.err);
    CHECK(run.exit_code == 0);
    CHECK(run.out.find("usage") != std::string::npos);
  }
}

TEST_CASE("broker cli: an unknown subcommand or argument exits non-zero") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"frobnicate"}, {"serve", "--bogus"}, {"keygen", "--private-key"}, {"rewrap", "now"},
        {"keygen", "--private-key", "/tmp/x-private.pem"}}) {
    CAPTURE(args.back());
    const auto run = runBroker(args, {});
    CHECK(run.exit_code != 0);
    CHECK_FALSE(run.err.empty());
  }
}

TEST_CASE("broker cli: keygen writes a 0600 private key, never overwrites it silently, and --force replaces it") {
  const TempDir dir;
  const auto keys = newKeyFiles(dir, "k");
  CHECK(fileMode(keys.private_key) == 0600u);
  CHECK((fileMode(keys.public_key) & 0022u) == 0u);  // nobody but us may change what the control plane seals to
  const auto private_pem = readFile(keys.private_key);
  const auto public_pem = readFile(keys.public_key);
  CHECK(private_pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
  CHECK(public_pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0) == 0);

  const std::vector<std::string> again{"keygen", "--private-key", keys.private_key, "--public-key", keys.public_key};
  const auto refused = runBroker(again, {});
  CAPTURE(refused.err);
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find(keys.private_key) != std::string::npos);
  CHECK(readFile(keys.private_key) == private_pem);
  CHECK(readFile(keys.public_key) == public_pem);
  // Nor when only one of the two exists.
  const auto fresh_public = dir.path("fresh-public.pem");
  CHECK(runBroker({"keygen", "--private-key", keys.private_key, "--public-key", fresh_public}, {}).exit_code != 0);
  CHECK(readFile(keys.private_key) == private_pem);

  auto forced = again;
  forced.push_back("--force");
  REQUIRE(runBroker(forced, {}).exit_code == 0);
  CHECK(readFile(keys.private_key) != private_pem);
  CHECK(readFile(keys.public_key) != public_pem);
  CHECK(fileMode(keys.private_key) == 0600u);
}

TEST_CASE("broker cli: keygen's pair is what openssl, the control plane and the broker accept") {
  const TempDir dir;
  const auto keys = newKeyFiles(dir, "k");
  const auto check = run("/usr/bin/openssl", {"pkey", "-in", keys.private_key, "-noout"}, {});
  CHECK(check.exit_code == 0);
  const auto pubout = run("/usr/bin/openssl", {"pkey", "-in", keys.private_key, "-pubout"}, {});
  CHECK(pubout.exit_code == 0);
  CHECK(pubout.out == readFile(keys.public_key));  // the public key is the private key's
  const auto described = run("/usr/bin/openssl", {"pkey", "-pubin", "-in", keys.public_key, "-text", "-noout"}, {});
  CHECK(described.out.find("X25519") != std::string::npos);

  auto env = ControlPlane::environment(kNoDatabase);
  env["HYDRA_BROKER_PUBLIC_KEY"] = keys.public_key;
  const ControlPlane control_plane(env);
  const Broker broker(kNoDatabase, {keys.private_key});
  CHECK(sealingKeyId(control_plane) == broker.currentKeyId());
}

TEST_CASE("broker cli: serve refuses key files others may read, missing, or not private keys") {
  const TempDir dir;
  const auto good = testKeyFiles(dir);
  const auto key_pem = readFile(good.private_key);
  const auto path = [&](const std::string& name) { return dir.path(name); };
  using P = fs::perms;
  writeFile(path("world.pem"), key_pem, P::owner_read | P::owner_write | P::group_read | P::others_read);
  writeFile(path("group.pem"), key_pem, P::owner_read | P::owner_write | P::group_read);
  writeFile(path("others.pem"), key_pem, P::owner_read | P::others_read);
  writeFile(path("garbage.pem"), "not a key\n", P::owner_read | P::owner_write);
  writeFile(path("public.pem"), readFile(good.public_key), P::owner_read | P::owner_write);

  const std::vector<std::pair<std::string, std::vector<std::string>>> refusals{
      {"mode 0644", {path("world.pem")}},
      {"mode 0640", {path("group.pem")}},
      {"mode 0404", {path("others.pem")}},
      {"an older key with mode 0644", {good.private_key, path("world.pem")}},
      {"not PEM", {path("garbage.pem")}},
      {"a public key", {path("public.pem")}},
      {"no such file", {path("missing.pem")}},
  };
  for (const auto& entry : refusals) {
    const auto& what = std::get<0>(entry);
    const auto& files = std::get<1>(entry);
    CAPTURE(what);
    checkRefused(serveWith(Broker::environment(kNoDatabase, files)), "HYDRA_BROKER_PRIVATE_KEYS");
  }
  auto unset = Broker::environment(kNoDatabase, {});
  unset.erase("HYDRA_BROKER_PRIVATE_KEYS");
  checkRefused(serveWith(unset), "HYDRA_BROKER_PRIVATE_KEYS");
  checkRefused(serveWith(Broker::environment(kNoDatabase, {})), "HYDRA_BROKER_PRIVATE_KEYS");
  // rewrap reads the same setting the same way.
  checkRefused(runBroker({"rewrap"}, Broker::environment(kNoDatabase, {path("world.pem")})),
               "HYDRA_BROKER_PRIVATE_KEYS");
  auto no_database = Broker::environment(kNoDatabase, {good.private_key});
  no_database.erase("HYDRA_DATABASE_URL");
  checkRefused(serveWith(no_database), "HYDRA_DATABASE_URL");

  // The same key with mode 0600 is accepted.
  const Broker broker(kNoDatabase, {good.private_key});
  CHECK(broker.log().find("HYDRA_BROKER_PRIVATE_KEYS") == std::string::npos);
}

TEST_CASE("broker cli: providers check prints every provider, built-ins merged with the file, with each capability's rules") {
  const TempDir dir;
  using P = fs::perms;
  const auto secret_file = dir.path("acme-secret");
  const std::string secret = "acme-client-secret-" + randomToken(12);
  writeFile(secret_file, secret + "\n", P::owner_read | P::owner_write);
  const auto file = dir.path("providers.json");
  writeFile(file, R"({"providers": {
      "acme": {"token_url": "https://auth.acme.example/token", "client_id": "hydra", "client_secret_file": ")" +
                      secret_file + R"(",
               "authorization_url": "https://auth.acme.example/authorize", "pkce": true,
               "default_scopes": ["things.read"], "scope_descriptions": {"things.read": "Read your things"},
               "proxy": {"base_url": "https://api.acme.example/v2", "api_key": {"header": "X-Api-Key"},
                         "response_headers": ["X-RateLimit-Remaining"]},
               "capabilities": {"read_things": {"allow": ["GET /things", "GET /things/*"],
                                                "deny": ["GET /things/secret"]}}},
      "gmail": {"capabilities": {"manage_labels": null, "read_settings": {"allow": ["GET /gmail/v1/users/me/settings/**"]}}}
    }})",
            P::owner_read | P::owner_write);
  const auto run = runBroker({"providers", "check", file}, {});
  CAPTURE(run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  const auto& out = run.out;
  CAPTURE(out);
  for (const auto* expected :
       {"acme\n", "  base_url: https://api.acme.example/v2\n", "api_key -> header X-Api-Key: <api_key>\n",
        "x-ratelimit-remaining", "  capability read_things\n    allow GET /things\n    allow GET /things/*\n"
        "    deny  GET /things/secret\n",
        // The built-ins, merged: gmail's file capability added, manage_labels removed, the others kept.
        "  capability read_settings\n    allow GET /gmail/v1/users/me/settings/**\n",
        "  capability send_mail\n    allow POST /gmail/v1/users/me/messages/send\n",
        "  base_url: https://{host}\n    {host}: the connection's metadata_json.install_host, a host name ending in "
        ".deputy.com\n",
        "    header Xero-Tenant-Id: the connection's metadata_json.tenant_id\n", "  capability write_accounting\n",
        "  capability read_events\n", "  capability write_workforce\n", "client secret from its file",
        "7 providers (built-ins and ",
        // The connect flow's fields (issue 20): the file's, and the built-ins'.
        "  connect flow: https://auth.acme.example/authorize (PKCE S256, shared client hydra)\n"
        "    default scopes: things.read\n    scope things.read: Read your things\n",
        "  connect flow: https://accounts.google.com/o/oauth2/v2/auth (PKCE S256, shared client none: customers bring "
        "their own)\n",
        "  connect flow: https://once.deputy.com/my/oauth/login (PKCE no,"}) {
    CAPTURE(expected);
    CHECK(out.find(expected) != std::string::npos);
  }
  CHECK(out.find("manage_labels") == std::string::npos);
  CHECK(out.find(secret) == std::string::npos);  // a client secret is never printed
}

TEST_CASE("broker cli: providers check and serve refuse a bad rule, base_url or credential placement with one line saying where") {
  const TempDir dir;
  const auto file = dir.path("providers.json");
  const std::string token = R"("token_url": "https://auth.acme.example/token")";
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"providers": {"gmail": {"capabilities": {"send_mail": {"allow": ["SEND /gmail/v1/users/me/messages/send"]}}}}})",
       "providers.gmail.capabilities.send_mail.allow[0]: 'SEND /gmail/v1/users/me/messages/send': the method must be"},
      {R"({"providers": {"gmail": {"capabilities": {"read_mail": {"deny": ["GET /gmail/v1/users/../messages"]}}}}})",
       "providers.gmail.capabilities.read_mail.deny[0]: 'GET /gmail/v1/users/../messages'"},
      {R"({"providers": {"acme": {)" + token + R"(, "proxy": {"base_url": "http://api.acme.example"}}}})",
       "providers.acme.proxy.base_url: must be an https URL"},
      {R"({"providers": {"acme": {)" + token + R"(, "proxy": {"base_url": "https://{host}"}}}})",
       "providers.acme.proxy.base_url: \"https://{host}\" and \"host_from_metadata\" go together"},
      {R"({"providers": {"acme": {)" + token +
           R"(, "proxy": {"base_url": "https://{host}", "host_from_metadata": {"field": "h", "suffix": ".com"}}}}})",
       "providers.acme.proxy.host_from_metadata.suffix"},
      {R"({"providers": {"acme": {)" + token +
           R"(, "proxy": {"base_url": "https://api.acme.example", "api_key": {"cookie": "key"}}}}})",
       "providers.acme.proxy.api_key.cookie: is not a known field"},
      {R"({"providers": {"acme": {)" + token +
           R"(, "proxy": {"base_url": "https://api.acme.example", "request_headers": ["Authorization"]}}}})",
       "providers.acme.proxy.request_headers[0]: 'authorization' is never passed"},
      {R"({"providers": {"acme": {)" + token +
           R"(, "proxy": {"base_url": "https://api.acme.example", "response_headers": ["Set-Cookie"]}}}})",
       "providers.acme.proxy.response_headers[0]: 'set-cookie' is never passed"},
      {R"({"providers": [1]})", "has no \"providers\" object"},
  };
  using P = fs::perms;
  for (const auto& [content, expected] : cases) {
    CAPTURE(content);
    writeFile(file, content, P::owner_read | P::owner_write);
    const auto run = runBroker({"providers", "check", file}, {});
    checkRefused(run, "HYDRA_PROVIDERS_FILE: " + file + ": ");
    CHECK(run.err.find(expected) != std::string::npos);
  }
  // serve reads the file with the same code, and stops before anything else.
  writeFile(file, cases.front().first, P::owner_read | P::owner_write);
  auto env = Broker::environment(kNoDatabase, {testKeyFiles(dir).private_key});
  env["HYDRA_PROVIDERS_FILE"] = file;
  const auto served = serveWith(env);
  checkRefused(served, "HYDRA_PROVIDERS_FILE");
  CHECK(served.err.find(cases.front().second) != std::string::npos);

  // No file, a missing file, a second operand.
  CHECK(runBroker({"providers", "check"}, {}).exit_code != 0);
  checkRefused(runBroker({"providers", "check", dir.path("missing.json")}, {}), "HYDRA_PROVIDERS_FILE");
  CHECK(runBroker({"providers", "check", file, file}, {}).exit_code != 0);
  const auto help = runBroker({"providers", "check", "--help"}, {});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("usage: hydracore-broker providers check FILE") != std::string::npos);
  CHECK(runBroker({"--help"}, {}).out.find("providers check") != std::string::npos);
}
