// Issue 19's matching core: the one spelling of a proxied path (broker/proxy/request_path) and
// capabilities as method + path rules (broker/proxy/capability_rules).
#include <doctest/doctest.h>

#include <stdexcept>

#include "broker/proxy/capability_rules.hpp"
#include "broker/proxy/request_path.hpp"

using namespace hydra::broker::proxy;

namespace {

std::string normal(std::string_view raw) {
  const auto result = normalisePath(raw);
  if (const auto* bad = std::get_if<BadPath>(&result)) return "refused: " + bad->why;
  return std::get<NormalPath>(result).path;
}

CapabilityTable gmail() {
  CapabilityTable table;
  table["send_mail"].allow = {parseRule("POST /gmail/v1/users/me/messages/send"),
                              parseRule("POST /upload/gmail/v1/users/me/messages/send")};
  table["read_mail"].allow = {parseRule("GET /gmail/v1/users/me/messages"),
                              parseRule("GET /gmail/v1/users/me/messages/*"),
                              parseRule("GET /gmail/v1/users/me/threads/**")};
  table["read_mail"].deny = {parseRule("GET /gmail/v1/users/me/messages/*/attachments/**")};
  return table;
}

}  // namespace

TEST_CASE("proxy path: one spelling, with unreserved escapes decoded and others kept in upper case") {
  CHECK(normal("/gmail/v1/users/me/messages/send") == "/gmail/v1/users/me/messages/send");
  CHECK(normal("/gmail/v1/users/%6De/messages") == "/gmail/v1/users/me/messages");
  CHECK(normal("/a/b%20c/d%3a") == "/a/b%20c/d%3A");
  CHECK(normal("/a/b/") == "/a/b/");
  CHECK(normal("/") == "/");
  CHECK(normal("/a/@:!$&'()*+,;=~") == "/a/@:!$&'()*+,;=~");
}

TEST_CASE("proxy path: every spelling that a server could read as another path is refused") {
  for (const auto* raw : {"/gmail/v1/users/me/messages/send/../../settings", "/a/./b", "/a/.", "/a/..", "/a/%2e%2e/b",
                          "/a/%2E/b", "/a/.%2e/b"}) {
    CAPTURE(raw);
    CHECK(normal(raw) == "refused: the path has a '.' or '..' segment");
  }
  for (const auto* raw : {"//gmail/v1", "/a//b", "/a/b//"}) {
    CAPTURE(raw);
    CHECK(normal(raw) == "refused: the path has an empty segment ('//')");
  }
  for (const auto* raw : {"/a%2fb", "/a%2Fb", "/a%5cb"}) {
    CAPTURE(raw);
    CHECK(normal(raw) == "refused: the path has an encoded '/' or '\\'");
  }
  CHECK(normal("/a\\b") == "refused: the path has a character that must be percent-encoded");
  CHECK(normal("/a b") == "refused: the path has a character that must be percent-encoded");
  CHECK(normal("/a%0ab") == "refused: the path has a control character");
  CHECK(normal("/a%zz") == "refused: the path has a '%' that is not a percent escape");
  CHECK(normal("/a%2") == "refused: the path has a '%' that is not a percent escape");
  CHECK(normal("a/b") == "refused: the path must start with '/'");
  CHECK(normal("") == "refused: the path must start with '/'");
  CHECK(normal("/" + std::string(2048, 'a')) == "refused: the path is longer than 2048 bytes");
}

TEST_CASE("proxy rules: '*' is one segment, a final '**' the rest, anything else itself") {
  const auto one = parseRule("GET /gmail/v1/users/me/messages/*");
  CHECK(matches(one, "GET", "/gmail/v1/users/me/messages/18c2"));
  CHECK_FALSE(matches(one, "GET", "/gmail/v1/users/me/messages"));
  CHECK_FALSE(matches(one, "GET", "/gmail/v1/users/me/messages/18c2/attachments"));
  CHECK_FALSE(matches(one, "GET", "/gmail/v1/users/me/messages/"));
  CHECK_FALSE(matches(one, "POST", "/gmail/v1/users/me/messages/18c2"));
  CHECK_FALSE(matches(one, "GET", "/GMAIL/v1/users/me/messages/18c2"));  // paths are case-sensitive
  const auto rest = parseRule("GET /gmail/v1/users/me/threads/**");
  CHECK(matches(rest, "GET", "/gmail/v1/users/me/threads/a"));
  CHECK(matches(rest, "GET", "/gmail/v1/users/me/threads/a/b/c"));
  CHECK_FALSE(matches(rest, "GET", "/gmail/v1/users/me/threads"));
  CHECK_FALSE(matches(rest, "GET", "/gmail/v1/users/me/threads/"));
}

TEST_CASE("proxy rules: malformed rules are refused with what is wrong") {
  for (const auto* text : {"/a/b", "FETCH /a", "GET a/b", "GET /", "GET /a/", "GET /a//b", "GET /a/**/b", "GET /a/b*",
                           "GET /a/%2e", "GET /a/..", "GET /a?x=1"}) {
    CAPTURE(text);
    CHECK_THROWS_AS(parseRule(text), std::invalid_argument);
  }
}

TEST_CASE("proxy rules: a call is allowed by a granted capability's allow, unless any granted capability denies it") {
  const auto table = gmail();
  CHECK(allowingCapability(table, {"send_mail"}, "POST", "/gmail/v1/users/me/messages/send") == "send_mail");
  CHECK_FALSE(allowingCapability(table, {"send_mail"}, "GET", "/gmail/v1/users/me/messages"));
  CHECK_FALSE(allowingCapability(table, {"send_mail"}, "DELETE", "/gmail/v1/users/me/messages/18c2"));
  CHECK(allowingCapability(table, {"send_mail", "read_mail"}, "GET", "/gmail/v1/users/me/messages/18c2") ==
        "read_mail");
  // Deny wins, whichever capability allows.
  CHECK_FALSE(allowingCapability(table, {"read_mail"}, "GET", "/gmail/v1/users/me/messages/1/attachments/2"));
  auto wide = table;
  wide["everything"].allow = {parseRule("GET /gmail/v1/**")};
  CHECK(allowingCapability(wide, {"everything"}, "GET", "/gmail/v1/users/me/messages/1/attachments/2") == "everything");
  CHECK_FALSE(
      allowingCapability(wide, {"everything", "read_mail"}, "GET", "/gmail/v1/users/me/messages/1/attachments/2"));
  // A capability the table does not know allows nothing.
  CHECK_FALSE(allowingCapability(table, {"unknown"}, "POST", "/gmail/v1/users/me/messages/send"));
}
