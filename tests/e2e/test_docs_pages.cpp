// /docs (Swagger UI) and /redoc (issue 20) on both binaries: the pages and every asset they load
// with a strict Content-Security-Policy and the right types, the assets byte for byte the
// vendored files, unknown asset names 404; and in headless Chromium both pages render every
// operation of /openapi.json with no request leaving the binary (tests/browser/docs.mjs).
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/broker.hpp"
#include "tests/support/browser.hpp"

using namespace hydra::test;

namespace {

std::string fileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The directives of a Content-Security-Policy value, by name.
std::map<std::string, std::string> directives(const std::string& policy) {
  std::map<std::string, std::string> out;
  std::stringstream in(policy);
  for (std::string d; std::getline(in, d, ';');) {
    d = std::regex_replace(d, std::regex(R"(^\s+|\s+$)"), "");
    const auto space = d.find(' ');
    out[d.substr(0, space)] = space == std::string::npos ? "" : d.substr(space + 1);
  }
  return out;
}

// "" if every docs answer's common headers are there, else what is missing.
std::string securityHeaders(const Response& r, const std::string& cache_control) {
  std::string problems;
  const auto expect = [&](const char* name, const std::string& value) {
    if (r.header(name) != value) problems += std::string(name) + ": " + r.header(name).value_or("(none)") + "; ";
  };
  expect("Referrer-Policy", "no-referrer");
  expect("X-Content-Type-Options", "nosniff");
  expect("Cache-Control", cache_control);
  const auto policy = directives(r.header("Content-Security-Policy").value_or(""));
  for (const auto& [name, value] : std::map<std::string, std::string>{{"default-src", "'none'"},
                                                                      {"frame-ancestors", "'none'"},
                                                                      {"base-uri", "'none'"},
                                                                      {"form-action", "'none'"}}) {
    if (policy.count(name) == 0 || policy.at(name) != value) problems += "CSP " + name + " missing or not " + value + "; ";
  }
  return problems;
}

struct Page {
  Response response;
  std::map<std::string, std::string> policy;
  std::vector<std::string> assets;  // the served names the page links
};

Page page(const HttpClient& http, const std::string& path) {
  Page p{http.request("GET", path), {}, {}};
  REQUIRE(p.response.status == 200);
  p.policy = directives(p.response.header("Content-Security-Policy").value_or(""));
  const std::regex link(R"re((?:src|href)="docs/assets/([^"]+)")re");
  for (std::sregex_iterator it(p.response.body.begin(), p.response.body.end(), link), end; it != end; ++it) {
    p.assets.push_back((*it)[1].str());
  }
  return p;
}

void checkPagesOf(const HttpClient& http) {
  const auto source = std::string(HYDRA_SOURCE_DIR) + "/third_party/";
  const std::map<std::string, std::string> vendored{
      {"swagger-ui-bundle", source + "swagger-ui-dist-5.36.0/swagger-ui-bundle.js"},
      {"swagger-ui", source + "swagger-ui-dist-5.36.0/swagger-ui.css"},
      {"swagger-ui-LICENSE", source + "swagger-ui-dist-5.36.0/LICENSE"},
      {"redoc.standalone", source + "redoc-2.5.4/redoc.standalone.js"},
      {"redoc-LICENSE", source + "redoc-2.5.4/LICENSE"}};
  std::set<std::string> served;
  for (const char* path : {"/docs", "/redoc"}) {
    CAPTURE(path);
    const auto p = page(http, path);
    CHECK(p.response.header("Content-Type") == "text/html; charset=utf-8");
    CHECK(securityHeaders(p.response, "no-store") == "");
    // Scripts and styles from this origin only, fetches to it only.
    CHECK(p.policy.at("script-src") == "'self'");
    CHECK(p.policy.at("connect-src") == "'self'");
    CHECK(p.policy.at("img-src") == "'self' data:");
    CHECK(p.policy.at("style-src").rfind("'self'", 0) == 0);
    CHECK(p.policy.at("style-src").find("unsafe") == std::string::npos);
    // No inline script, no inline style: every <script> has a src, and no style attribute or element.
    CHECK(std::regex_search(p.response.body, std::regex(R"(<script(?![^>]*\bsrc=))")) == false);
    CHECK(std::regex_search(p.response.body, std::regex(R"(<style|\sstyle=)")) == false);
    CHECK(p.assets.size() >= 4);
    for (const auto& name : p.assets) {
      CAPTURE(name);
      served.insert(name);
      const auto r = http.request("GET", "/docs/assets/" + name);
      REQUIRE(r.status == 200);
      CHECK(securityHeaders(r, "public, max-age=31536000, immutable") == "");
      // Its name: the file's, a 12-digit hash of its content, its extension.
      std::smatch parts;
      REQUIRE(std::regex_match(name, parts, std::regex(R"(([A-Za-z.-]+)\.([0-9a-f]{12})\.(js|css|txt))")));
      const auto type = parts[3] == "js" ? "text/javascript; charset=utf-8"
                        : parts[3] == "css" ? "text/css; charset=utf-8"
                                            : "text/plain; charset=utf-8";
      CHECK(r.header("Content-Type") == type);
      CHECK(!r.body.empty());
      if (vendored.count(parts[1]) != 0) CHECK(r.body == fileText(vendored.at(parts[1])));
    }
  }
  // Both vendored bundles, their style sheet and their licences are linked.
  for (const auto& entry : vendored) {
    const auto& stem = entry.first;  // not a structured binding: lambdas capture those only in C++20
    CAPTURE(stem);
    CHECK(std::any_of(served.begin(), served.end(), [&](const std::string& n) { return n.rfind(stem + ".", 0) == 0; }));
  }
  // Swagger UI's page needs no other style; Redoc's the two texts it adds at run time, by hash
  // (shared/docs/pages.cpp), and blob: workers for its search.
  CHECK(page(http, "/docs").policy.at("style-src") == "'self'");
  CHECK(page(http, "/docs").policy.count("worker-src") == 0);
  const auto redoc = page(http, "/redoc");
  CHECK(redoc.policy.at("style-src") ==
        "'self' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' 'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='");
  CHECK(redoc.policy.at("worker-src") == "blob:");

  // Names not served: unknown, a served name with another hash, a path outside, the bare folder.
  const auto bundle = *std::find_if(served.begin(), served.end(),
                                    [](const std::string& n) { return n.rfind("swagger-ui-bundle.", 0) == 0; });
  for (const std::string& name : {std::string("nope.js"), std::regex_replace(bundle, std::regex(R"(\.[0-9a-f]{12}\.)"), ".000000000000."),
                                  std::string("swagger-ui-bundle.js"), std::string("..%2Fopenapi.json"),
                                  std::string("%2E%2E%2Fredoc")}) {
    CAPTURE(name);
    const auto r = http.request("GET", "/docs/assets/" + name);
    CHECK(r.status == 404);
    CHECK(securityHeaders(r, "no-store") == "");
    CHECK(r.header("Content-Type") == "application/json");
  }
  CHECK(http.request("GET", "/docs/assets/").status == 404);
  CHECK(http.request("GET", "/docs/assets/a/b.js").status == 404);
  CHECK(http.request("POST", "/docs", "{}").status == 405);
}

}  // namespace

TEST_CASE("docs: both binaries serve /docs and /redoc with a strict CSP, their assets with types, 404 for other names") {
  // The broker over HTTPS with runtime identity on: its docs, like /openapi.json, need no
  // client certificate, while its runtime routes do.
  BrokerStack s(RuntimeIdentity::On);
  SUBCASE("control plane") { checkPagesOf(s.http); }
  SUBCASE("broker") {
    checkPagesOf(s.runtime);
    CHECK(s.fetch(randomUuid(), "hcp_not-a-key", "provider=gmail").status == 401);
  }
}

TEST_CASE("docs: /docs and /redoc render every operation in Chromium, nothing leaving the host (both binaries)") {
  if (!browserAvailableOrSkip()) return;
  BrokerStack s;
  const auto result = runBrowserScript("docs.mjs", {"http://127.0.0.1:" + std::to_string(s.server.port()) + "/",
                                                    "http://127.0.0.1:" + std::to_string(s.broker.port()) + "/"});
  CAPTURE(result.err);
  CHECK(result.exit_code == 0);
  MESSAGE(result.out);
}
