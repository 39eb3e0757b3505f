// The provider registry's proxy side (issue 19): built-in capabilities against the calls they
// must allow and refuse, the file format's checks, and the pure functions the proxy route calls
// (upstreamFor, credentialPlacement, header filters).
#include <doctest/doctest.h>

#include <string>

#include "broker/providers/registry.hpp"
#include "broker/providers/upstream.hpp"
#include "broker/proxy/request_path.hpp"
#include "shared/config/env.hpp"

using namespace hydra::broker::providers;
using hydra::broker::proxy::allowingCapability;

namespace {

std::string configError(const std::string& file_json) {
  try {
    ProviderRegistry::fromText(file_json, "/etc/hydra/providers.json");
  } catch (const hydra::config::ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

/// The capability of `provider`'s built-ins (all granted) that allows the call, or "refused".
std::string allowedBy(const std::string& provider, const std::string& method, const std::string& path,
                      std::vector<std::string> granted = {}) {
  static const auto registry = ProviderRegistry::load(std::nullopt);
  const auto* p = registry.find(provider);
  REQUIRE(p != nullptr);
  if (granted.empty()) {
    for (const auto& [name, rules] : p->capabilities) granted.push_back(name);
  }
  return allowingCapability(p->capabilities, granted, method, path).value_or("refused");
}

ProxySettings proxyOf(const std::string& provider_entry) {
  const auto registry = ProviderRegistry::fromText(R"({"providers":{"p":)" + provider_entry + "}}", "test");
  REQUIRE(registry.find("p")->proxy.has_value());
  return *registry.find("p")->proxy;
}

const std::string kToken = R"("token_url":"https://auth.example.com/token")";

Upstream upstream(const ProxySettings& settings, const std::string& metadata) {
  const auto result = upstreamFor(settings, metadata);
  if (const auto* refused = std::get_if<NotProxyable>(&result)) FAIL("refused: " << refused->why);
  return std::get<Upstream>(result);
}

std::string refusal(const std::variant<Upstream, NotProxyable>& result) {
  const auto* refused = std::get_if<NotProxyable>(&result);
  return refused != nullptr ? refused->why : "allowed";
}

std::string refusal(const std::variant<CredentialPlacement, NotProxyable>& result) {
  const auto* refused = std::get_if<NotProxyable>(&result);
  return refused != nullptr ? refused->why : "allowed";
}

}  // namespace

TEST_CASE("provider registry: the built-in gmail capabilities allow a mail agent's calls and nothing of the settings") {
  CHECK(allowedBy("gmail", "POST", "/gmail/v1/users/me/messages/send") == "send_mail");
  CHECK(allowedBy("gmail", "POST", "/upload/gmail/v1/users/me/messages/send") == "send_mail");
  CHECK(allowedBy("gmail", "POST", "/gmail/v1/users/me/drafts/send") == "send_mail");
  CHECK(allowedBy("gmail", "GET", "/gmail/v1/users/me/messages") == "read_mail");
  CHECK(allowedBy("gmail", "GET", "/gmail/v1/users/me/messages/18c2f/attachments/ANGj") == "read_mail");
  CHECK(allowedBy("gmail", "GET", "/gmail/v1/users/me/threads/18c2f") == "read_mail");
  CHECK(allowedBy("gmail", "POST", "/gmail/v1/users/me/messages/18c2f/modify") == "organize_mail");
  CHECK(allowedBy("gmail", "POST", "/gmail/v1/users/me/labels") == "manage_labels");
  CHECK(allowedBy("gmail", "PATCH", "/gmail/v1/users/me/labels/Label_1") == "manage_labels");
  CHECK(allowedBy("gmail", "PUT", "/upload/gmail/v1/users/me/drafts/r-123") == "manage_drafts");
  CHECK(allowedBy("gmail", "DELETE", "/gmail/v1/users/me/drafts/r-123") == "manage_drafts");
  // Only send_mail granted: reading and deleting are refused.
  CHECK(allowedBy("gmail", "GET", "/gmail/v1/users/me/messages", {"send_mail"}) == "refused");
  for (const auto* path : {"/gmail/v1/users/me/settings/forwardingAddresses", "/gmail/v1/users/me/settings/filters",
                           "/gmail/v1/users/me/settings/delegates", "/gmail/v1/users/me/watch"}) {
    CAPTURE(path);
    CHECK(allowedBy("gmail", "POST", path) == "refused");
    CHECK(allowedBy("gmail", "GET", path) == "refused");
  }
  CHECK(allowedBy("gmail", "DELETE", "/gmail/v1/users/me/messages/18c2f") == "refused");
  CHECK(allowedBy("gmail", "POST", "/gmail/v1/users/me/messages/batchDelete") == "refused");
  // Another mailbox (domain-wide delegation) is never named by a rule.
  CHECK(allowedBy("gmail", "POST", "/gmail/v1/users/ceo@acme.example/messages/send") == "refused");
  CHECK(allowedBy("gmail", "GET", "/gmail/v1/users/ceo@acme.example/messages") == "refused");
}

TEST_CASE("provider registry: the built-in calendar, xero and deputy capabilities") {
  CHECK(allowedBy("google_calendar", "GET", "/calendar/v3/calendars/primary/events") == "read_events");
  CHECK(allowedBy("google_calendar", "POST", "/calendar/v3/freeBusy") == "read_events");
  CHECK(allowedBy("google_calendar", "POST", "/calendar/v3/calendars/primary/events") == "write_events");
  CHECK(allowedBy("google_calendar", "PATCH", "/calendar/v3/calendars/primary/events/ev1") == "write_events");
  CHECK(allowedBy("google_calendar", "POST", "/calendar/v3/calendars/primary/events/quickAdd") == "write_events");
  CHECK(allowedBy("google_calendar", "POST", "/calendar/v3/calendars/primary/events", {"read_events"}) == "refused");
  CHECK(allowedBy("google_calendar", "POST", "/calendar/v3/calendars/primary/events/watch") == "refused");
  CHECK(allowedBy("google_calendar", "POST", "/calendar/v3/calendars/primary/acl") == "refused");
  CHECK(allowedBy("google_calendar", "DELETE", "/calendar/v3/calendars/primary") == "refused");

  CHECK(allowedBy("xero", "GET", "/api.xro/2.0/Invoices") == "read_accounting");
  CHECK(allowedBy("xero", "GET", "/api.xro/2.0/Reports/ProfitAndLoss") == "read_accounting");
  CHECK(allowedBy("xero", "GET", "/connections") == "read_accounting");
  CHECK(allowedBy("xero", "PUT", "/api.xro/2.0/Invoices") == "write_accounting");
  CHECK(allowedBy("xero", "POST", "/api.xro/2.0/Invoices/0f1e/Attachments/a.pdf") == "write_accounting");
  CHECK(allowedBy("xero", "PUT", "/api.xro/2.0/Invoices", {"read_accounting"}) == "refused");
  CHECK(allowedBy("xero", "DELETE", "/connections/abc") == "refused");
  CHECK(allowedBy("xero", "GET", "/payroll.xro/1.0/Employees") == "refused");

  CHECK(allowedBy("deputy", "GET", "/api/v1/resource/Roster/12") == "read_workforce");
  CHECK(allowedBy("deputy", "POST", "/api/v1/resource/Timesheet/QUERY") == "read_workforce");
  CHECK(allowedBy("deputy", "POST", "/api/v1/resource/Roster", {"read_workforce"}) == "refused");
  CHECK(allowedBy("deputy", "POST", "/api/v1/resource/Roster") == "write_workforce");
  CHECK(allowedBy("deputy", "DELETE", "/api/v1/resource/Roster/12") == "refused");
}

TEST_CASE("provider registry: a file overrides, adds and removes capabilities, and replaces proxy settings") {
  const auto registry = ProviderRegistry::fromText(R"({"providers":{
      "gmail":{"capabilities":{"send_mail":{"allow":["POST /gmail/v1/users/me/messages/send"],
                                            "deny":["POST /upload/**"]},
                               "manage_labels":null,
                               "read_settings":{"allow":["GET /gmail/v1/users/me/settings/**"]}}},
      "xero":{"proxy":{"base_url":"https://api.xero.example"}},
      "acme":{)" + kToken + R"(,"proxy":{"base_url":"https://api.acme.example/v2","api_key":{"query":"key"}},
              "capabilities":{"all":{"allow":["GET /**"]}}}}})",
                                                   "test");
  const auto& gmail = *registry.find("gmail");
  CHECK(gmail.capabilities.at("send_mail").allow.size() == 1);
  CHECK(gmail.capabilities.at("send_mail").deny.at(0).text == "POST /upload/**");
  CHECK(gmail.capabilities.count("manage_labels") == 0);
  CHECK(gmail.capabilities.count("read_mail") == 1);  // untouched
  CHECK(gmail.capabilities.count("read_settings") == 1);
  CHECK(gmail.token_url == "https://oauth2.googleapis.com/token");
  const auto& xero = *registry.find("xero");
  CHECK(xero.proxy->base_url == "https://api.xero.example");
  CHECK_FALSE(xero.proxy->header_from_metadata.has_value());  // replaced as a whole
  CHECK(xero.capabilities.count("read_accounting") == 1);
  const auto& acme = *registry.find("acme");
  CHECK(acme.rotates_refresh_tokens);
  CHECK(acme.proxy->api_key->in == ApiKeyPlacement::In::kQuery);
  const auto target = upstream(*acme.proxy, "");
  CHECK(target.base_url == "https://api.acme.example/v2");
  CHECK(target.host == "api.acme.example");
  CHECK(target.port == 443);
  CHECK(target.path_prefix == "/v2");
  CHECK(registry.find("microsoft")->proxy.has_value() == false);
}

TEST_CASE(
    "provider registry: a bad rule is refused naming the variable, the file, the provider, the capability and the "
    "rule") {
  const auto error = configError(R"({"providers":{"gmail":{"capabilities":{"send_mail":{"allow":[
      "POST /gmail/v1/users/me/messages/send","FETCH /gmail/v1/users/me/messages"]}}}}})");
  CHECK(error ==
        "HYDRA_PROVIDERS_FILE: /etc/hydra/providers.json: providers.gmail.capabilities.send_mail.allow[1]: "
        "'FETCH /gmail/v1/users/me/messages': the method must be GET, POST, PUT, PATCH or DELETE");
  for (const auto* rule : {"GET /a/**/b", "GET /a/../b", "GET a", "GET /a/", "GET /a//b", "GET /a*", "GET /a?x=1"}) {
    CAPTURE(rule);
    const auto message = configError(R"({"providers":{"gmail":{"capabilities":{"read_mail":{"deny":[")" +
                                     std::string(rule) + R"("]}}}}})");
    CHECK(message.find("providers.gmail.capabilities.read_mail.deny[0]: '" + std::string(rule) + "'") !=
          std::string::npos);
  }
  CHECK(configError(R"({"providers":{"gmail":{"capabilities":{"read_mail":{"allow":"GET /a"}}}}})")
            .find("read_mail.allow: must be an array") != std::string::npos);
  CHECK(configError(R"({"providers":{"gmail":{"capabilities":{"read_mail":{"alow":["GET /a"]}}}}})")
            .find("read_mail.alow: is not a known field") != std::string::npos);
  CHECK(configError(R"({"providers":{"gmail":{"capabilities":{"read mail":{"allow":["GET /a"]}}}}})")
            .find("capabilities.read mail: a capability name") != std::string::npos);
  CHECK(configError(R"({"providers":{"gmail":{"capabilities":{"a":{"allow":[]},"a":{"allow":[]}}}}})")
            .find("capabilities.a: is given twice") != std::string::npos);
}

TEST_CASE("provider registry: base URLs are https without query, fragment or user info, http only to loopback") {
  for (const auto* url :
       {"http://api.example.com", "http://10.0.0.1", "ftp://api.example.com", "https://api.example.com/",
        "https://api.example.com/v1/", "https://api.example.com?x=1", "https://api.example.com#f",
        "https://user@api.example.com", "https://", "api.example.com", "https://api.example.com/a b",
        "https://api.example.com/a/../b", "https://{host}.example.com"}) {
    CAPTURE(url);
    const auto message =
        configError(R"({"providers":{"p":{)" + kToken + R"(,"proxy":{"base_url":")" + std::string(url) + R"("}}}})");
    CHECK(message.rfind("HYDRA_PROVIDERS_FILE: /etc/hydra/providers.json: providers.p.proxy.base_url", 0) == 0);
  }
  for (const auto* url : {"https://api.example.com", "https://api.example.com:8443/v1", "http://127.0.0.1:9000",
                          "http://localhost:9000/api", "http://[::1]:9000"}) {
    CAPTURE(url);
    CHECK(proxyOf("{" + kToken + R"(,"proxy":{"base_url":")" + std::string(url) + R"("}})").base_url == url);
  }
}

TEST_CASE("provider registry: {host} goes with host_from_metadata, whose suffix names a domain") {
  const auto withHost = [](const std::string& base, const std::string& rule) {
    return configError(R"({"providers":{"p":{)" + kToken + R"(,"proxy":{"base_url":")" + base + "\"" + rule + "}}}}");
  };
  CHECK(withHost("https://{host}", "")
            .find("proxy.base_url: \"https://{host}\" and \"host_from_metadata\" go together") != std::string::npos);
  CHECK(withHost("https://api.example.com", R"(,"host_from_metadata":{"field":"h","suffix":".example.com"})")
            .find("go together") != std::string::npos);
  CHECK(withHost("http://{host}", R"(,"host_from_metadata":{"field":"h","suffix":".example.com"})")
            .find("proxy.base_url: must be \"https://{host}\"") != std::string::npos);
  for (const auto* suffix : {"example.com", ".com", ".", ".exa mple.com", ".-x.com", ".example.com."}) {
    CAPTURE(suffix);
    CHECK(withHost("https://{host}", R"(,"host_from_metadata":{"field":"h","suffix":")" + std::string(suffix) + "\"}")
              .find("proxy.host_from_metadata.suffix") != std::string::npos);
  }
  CHECK(withHost("https://{host}", R"(,"host_from_metadata":{"field":"a b","suffix":".example.com"})")
            .find("proxy.host_from_metadata.field") != std::string::npos);
  CHECK(withHost("https://{host}", R"(,"host_from_metadata":{"suffix":".example.com"})")
            .find("proxy.host_from_metadata.field: is required") != std::string::npos);
  CHECK(withHost("https://{host}:8443/api", R"(,"host_from_metadata":{"field":"h","suffix":".Example.com"})") ==
        "accepted");
}

TEST_CASE("provider registry: unknown credential placements and headers the broker owns are refused") {
  const auto withProxy = [](const std::string& rest) {
    return configError(R"({"providers":{"p":{)" + kToken + R"(,"proxy":{"base_url":"https://api.example.com",)" + rest +
                       "}}}}");
  };
  CHECK(withProxy(R"("api_key":{"body":"key"})").find("providers.p.proxy.api_key.body: is not a known field") !=
        std::string::npos);
  CHECK(withProxy(R"("api_key":{})").find("proxy.api_key: must name either a \"header\" or a \"query\"") !=
        std::string::npos);
  CHECK(withProxy(R"("api_key":{"header":"X-Key","query":"key"})").find("must name either") != std::string::npos);
  CHECK(withProxy(R"("api_key":{"query":"key","prefix":"x"})").find("proxy.api_key.prefix: goes only with") !=
        std::string::npos);
  CHECK(withProxy(R"("api_key":{"header":"Cookie"})").find("proxy.api_key.header") != std::string::npos);
  CHECK(withProxy(R"("api_key":{"header":"X Key"})").find("proxy.api_key.header") != std::string::npos);
  CHECK(withProxy(R"("api_key":"X-Api-Key")").find("proxy.api_key: must be an object") != std::string::npos);
  CHECK(withProxy(R"("auth":{"header":"X"})").find("proxy.auth: is not a known field") != std::string::npos);
  for (const auto* header : {"Authorization", "cookie", "Host", "Connection", "Transfer-Encoding", "Content-Length",
                             "X-Forwarded-For", "Hydra-Connection-Name"}) {
    CAPTURE(header);
    CHECK(withProxy(R"("request_headers":[")" + std::string(header) + "\"]").find("proxy.request_headers[0]") !=
          std::string::npos);
  }
  for (const auto* header : {"Set-Cookie", "Connection", "Transfer-Encoding", "RateLimit"}) {
    CAPTURE(header);
    CHECK(withProxy(R"("response_headers":[")" + std::string(header) + "\"]").find("proxy.response_headers[0]") !=
          std::string::npos);
  }
  CHECK(withProxy(R"("api_key":{"header":"X-Key"},"request_headers":["x-key"])")
            .find("proxy.request_headers: 'x-key' is set by the broker") != std::string::npos);
  CHECK(withProxy(R"("api_key":{"header":"X-Key"},"header_from_metadata":{"field":"t","header":"x-key"})")
            .find("proxy.header_from_metadata.header: is the api_key header") != std::string::npos);
  CHECK(withProxy(R"("header_from_metadata":{"field":"t","header":"Authorization"})")
            .find("proxy.header_from_metadata.header") != std::string::npos);
}

TEST_CASE("provider registry: upstreamFor takes the host from metadata only when it is a name under the suffix") {
  const auto deputy = *ProviderRegistry::load(std::nullopt).find("deputy")->proxy;
  const auto target = upstream(deputy, R"({"install_host":"Acme.AU.Deputy.com","team":"ops"})");
  CHECK(target.base_url == "https://acme.au.deputy.com");
  CHECK(target.host == "acme.au.deputy.com");
  CHECK(target.scheme == "https");
  CHECK(target.port == 443);
  CHECK(target.path_prefix.empty());
  CHECK(target.headers.empty());
  for (const auto* host : {"deputy.com", ".deputy.com", "evil.com", "acme.deputy.com.evil.com", "acmedeputy.com",
                           "acme.deputy.com:8443", "acme.deputy.com/x", "x@acme.deputy.com", "acme.deputy.com.",
                           "127.0.0.1", "acme..deputy.com", "-acme.deputy.com", "ac me.deputy.com", ""}) {
    CAPTURE(host);
    CHECK(refusal(upstreamFor(deputy, R"({"install_host":")" + std::string(host) + "\"}")) ==
          "the connection's metadata_json \"install_host\" is not a host name ending in .deputy.com");
  }
  for (const auto* metadata :
       {"", "null", "{}", R"({"install_host":7})", R"({"install_host":null})",
        R"({"install_host":"a.deputy.com","install_host":"b.deputy.com"})", "not json", R"(["a.deputy.com"])"}) {
    CAPTURE(metadata);
    CHECK(refusal(upstreamFor(deputy, metadata)) ==
          "the connection's metadata_json has no single string \"install_host\"");
  }
}

TEST_CASE(
    "provider registry: upstreamFor sets the metadata header (Xero's tenant) and refuses values a header cannot "
    "carry") {
  const auto xero = *ProviderRegistry::load(std::nullopt).find("xero")->proxy;
  const auto target = upstream(xero, R"({"tenant_id":"2d6d5e88-5e3a-4f0c-9b8e-0f3c2a7d1e11"})");
  CHECK(target.base_url == "https://api.xero.com");
  REQUIRE(target.headers.size() == 1);
  CHECK(target.headers[0].first == "Xero-Tenant-Id");
  CHECK(target.headers[0].second == "2d6d5e88-5e3a-4f0c-9b8e-0f3c2a7d1e11");
  CHECK(refusal(upstreamFor(xero, "{}")) == "the connection's metadata_json has no single string \"tenant_id\"");
  for (const auto* value : {R"(a\r\nX-Evil: 1)", "a b", "", R"(caf\u00e9)"}) {
    CAPTURE(value);
    CHECK(refusal(upstreamFor(xero, R"({"tenant_id":")" + std::string(value) + "\"}")).find("is not a header value") !=
          std::string::npos);
  }
  CHECK(refusal(upstreamFor(xero, R"({"tenant_id":")" + std::string(257, 'a') + "\"}")).find("is not a header value") !=
        std::string::npos);
  // The runtime can never send the tenant header itself.
  CHECK_FALSE(passesRequestHeader(xero, "xero-tenant-id"));
  CHECK(passesRequestHeader(xero, "Idempotency-Key"));
  CHECK(passesResponseHeader(xero, "X-MinLimit-Remaining"));
}

TEST_CASE("provider registry: credentialPlacement puts each kind of credential where the registry says") {
  const auto gmail = *ProviderRegistry::load(std::nullopt).find("gmail")->proxy;
  const auto deputy = *ProviderRegistry::load(std::nullopt).find("deputy")->proxy;
  const auto placed = [](const std::variant<CredentialPlacement, NotProxyable>& result) {
    if (const auto* refused = std::get_if<NotProxyable>(&result)) FAIL("refused: " << refused->why);
    return std::get<CredentialPlacement>(result);
  };
  const auto bearer = placed(credentialPlacement(gmail, "oauth2", R"({"access_token":"ya29.a0","refresh_token":"r"})"));
  CHECK(bearer.headers == HeaderList{{"Authorization", "Bearer ya29.a0"}});
  CHECK(bearer.query.empty());
  const auto basic = placed(credentialPlacement(gmail, "basic", R"({"username":"Aladdin","password":"open sesame"})"));
  CHECK(basic.headers == HeaderList{{"Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}});  // RFC 7617's example
  const auto permanent = placed(credentialPlacement(deputy, "api_key", R"({"api_key":"d3p-token"})"));
  CHECK(permanent.headers == HeaderList{{"Authorization", "OAuth d3p-token"}});
  const auto query = placed(credentialPlacement(
      proxyOf("{" + kToken + R"(,"proxy":{"base_url":"https://api.example.com","api_key":{"query":"key"}}})"),
      "api_key", R"({"api_key":"k-123"})"));
  CHECK(query.query == HeaderList{{"key", "k-123"}});
  CHECK(query.headers.empty());

  CHECK(refusal(credentialPlacement(gmail, "api_key", R"({"api_key":"k"})")) ==
        "the registry does not say where this provider takes an API key");
  CHECK(refusal(credentialPlacement(gmail, "oauth2", R"({"refresh_token":"r"})")) ==
        "the connection's credentials have no \"access_token\"");
  CHECK(refusal(credentialPlacement(gmail, "oauth2", R"({"access_token":""})")) ==
        "the connection's credentials have no \"access_token\"");
  CHECK(refusal(credentialPlacement(gmail, "oauth2", R"({"access_token":"a\r\nX-Evil: 1"})")) ==
        "the connection's access_token cannot go in a header");
  CHECK(refusal(credentialPlacement(gmail, "basic", R"({"username":"a:b","password":"p"})")).find("':'") !=
        std::string::npos);
  CHECK(refusal(credentialPlacement(gmail, "basic", R"({"username":"a"})")) ==
        "the connection's credentials have no \"password\"");
  CHECK(refusal(credentialPlacement(deputy, "api_key", R"({"api_key":"a\nb"})")) ==
        "the connection's api_key cannot go in a request");
  CHECK(refusal(credentialPlacement(gmail, "saml", "{}")) == "connections of auth_type 'saml' cannot be proxied");
}

TEST_CASE("provider registry: request and response headers pass only from the allow-lists") {
  const auto gmail = *ProviderRegistry::load(std::nullopt).find("gmail")->proxy;
  for (const auto* name : {"Accept", "content-type", "If-None-Match", "If-Match"}) {
    CAPTURE(name);
    CHECK(passesRequestHeader(gmail, name));
  }
  for (const auto* name :
       {"Authorization", "AUTHORIZATION", "Cookie", "Host", "Connection", "Transfer-Encoding", "Content-Length",
        "X-Forwarded-For", "Hydra-Connection-Name", "X-Goog-Api-Key", "Idempotency-Key"}) {
    CAPTURE(name);
    CHECK_FALSE(passesRequestHeader(gmail, name));
  }
  for (const auto* name : {"Content-Type", "ETag", "Link", "Retry-After", "last-modified"}) {
    CAPTURE(name);
    CHECK(passesResponseHeader(gmail, name));
  }
  for (const auto* name : {"Set-Cookie", "set-cookie", "Connection", "Transfer-Encoding", "Content-Length",
                           "X-MinLimit-Remaining", "Server", "WWW-Authenticate"}) {
    CAPTURE(name);
    CHECK_FALSE(passesResponseHeader(gmail, name));
  }
  // An api_key header is the broker's to set, never the runtime's.
  const auto deputy = *ProviderRegistry::load(std::nullopt).find("deputy")->proxy;
  CHECK_FALSE(passesRequestHeader(deputy, "authorization"));
}

TEST_CASE("provider registry: the built-ins load, and each rule's path is spelt as the normaliser spells paths") {
  const auto registry = ProviderRegistry::load(std::nullopt);
  for (const char* name : {"gmail", "google_calendar", "xero", "deputy"}) {
    CAPTURE(name);
    const auto* p = registry.find(name);
    REQUIRE(p != nullptr);
    REQUIRE(p->proxy.has_value());
    CHECK(p->capabilities.size() >= 2);
  }
  CHECK(registry.find("google")->proxy.has_value() == false);
  CHECK(registry.find("gmail")->capabilities.size() == 5);
  // A rule whose path the normaliser would spell otherwise could never match a call.
  for (const auto& [name, provider] : registry.all()) {
    for (const auto& [capability, rules] : provider.capabilities) {
      for (const auto* list : {&rules.allow, &rules.deny}) {
        for (const auto& rule : *list) {
          CAPTURE(rule.text);
          std::string path;
          for (const auto& segment : rule.segments) path += "/" + (segment == "*" || segment == "**" ? "x" : segment);
          const auto normal = hydra::broker::proxy::normalisePath(path);
          REQUIRE(std::holds_alternative<hydra::broker::proxy::NormalPath>(normal));
          CHECK(std::get<hydra::broker::proxy::NormalPath>(normal).path == path);
        }
      }
    }
  }
}

TEST_CASE("provider registry: the connect flow's fields, built in and from a file, and their checks") {
  const auto builtins = ProviderRegistry::load(std::nullopt);
  for (const auto* name : {"google", "gmail", "google_calendar"}) {
    CAPTURE(name);
    CHECK(builtins.find(name)->authorization_url == "https://accounts.google.com/o/oauth2/v2/auth");
    CHECK(builtins.find(name)->pkce);
  }
  CHECK(builtins.find("microsoft")->authorization_url == "https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
  CHECK(builtins.find("xero")->authorization_url == "https://login.xero.com/identity/connect/authorize");
  CHECK(builtins.find("xero")->pkce);
  CHECK_FALSE(builtins.find("deputy")->pkce);
  for (const auto& entry : builtins.all()) {
    CAPTURE(entry.first);
    // Every default scope is described for the connect page.
    for (const auto& scope : entry.second.default_scopes) CHECK(entry.second.scope_descriptions.count(scope) == 1);
  }

  const auto registry = ProviderRegistry::fromText(
      R"({"providers":{"p":{)" + kToken + R"(,"authorization_url":"http://127.0.0.1:8080/authorize","pkce":true,)"
      R"("default_scopes":["a","b"],"scope_descriptions":{"a":"Read","b":"Write"}},)"
      R"("gmail":{"pkce":false,"default_scopes":[]}}})", "test");
  const auto* p = registry.find("p");
  CHECK(p->authorization_url == "http://127.0.0.1:8080/authorize");
  CHECK(p->pkce);
  CHECK(p->default_scopes == std::vector<std::string>{"a", "b"});
  CHECK(p->scope_descriptions.at("b") == "Write");
  // A file entry overrides a built-in's fields one by one.
  CHECK_FALSE(registry.find("gmail")->pkce);
  CHECK(registry.find("gmail")->default_scopes.empty());
  CHECK(registry.find("gmail")->authorization_url == "https://accounts.google.com/o/oauth2/v2/auth");

  const auto entry = [](const std::string& fields) { return R"({"providers":{"p":{)" + kToken + "," + fields + "}}}"; };
  CHECK(configError(entry(R"("authorization_url":"http://auth.example.com/authorize")")).find(
            "providers.p.authorization_url must be https") != std::string::npos);
  CHECK(configError(entry(R"("authorization_url":"ftp://auth.example.com/authorize")")).find("authorization_url must be https") !=
        std::string::npos);
  CHECK(configError(entry(R"("pkce":"yes")")).find("providers.p.pkce must be true or false") != std::string::npos);
  CHECK(configError(entry(R"("default_scopes":"a b")")).find("default_scopes must be an array") != std::string::npos);
  CHECK(configError(entry(R"("default_scopes":[""])")).find("default_scopes must hold non-empty strings") !=
        std::string::npos);
  CHECK(configError(entry(R"("scope_descriptions":{"a":1})")).find("scope_descriptions.a must be a string") !=
        std::string::npos);
  CHECK(configError(entry(R"("scope_descriptions":{"a":"x","a":"y"})")).find("is given twice") != std::string::npos);
}
