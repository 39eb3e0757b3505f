// Webhook endpoint request bodies: URL rules as 422s at ["body","url"], event names, defaults.
#include <doctest/doctest.h>

#include "control-plane/model/resources.hpp"
#include "control-plane/webhooks/events.hpp"
#include "shared/json/reader.hpp"

using hydra::cp::model::WebhookEndpointCreate;
using hydra::cp::model::WebhookEndpointUpdate;
using hydra::http::ValidationError;
namespace webhooks = hydra::cp::webhooks;

namespace {

/// "loc msg type" of each problem, or empty when the body is accepted.
std::vector<std::string> problems(const std::string& body, bool update = false) {
  try {
    const auto doc = hydra::json::parseObject(body);
    if (update) {
      WebhookEndpointUpdate::fromJson(*doc, {});
    } else {
      WebhookEndpointCreate::fromJson(*doc, {});
    }
  } catch (const ValidationError& e) {
    std::vector<std::string> out;
    for (const auto& p : e.problems()) {
      std::string loc;
      for (const auto& part : p.loc) {
        loc += (loc.empty() ? "" : ".") +
               (std::holds_alternative<int>(part) ? std::to_string(std::get<int>(part)) : std::get<std::string>(part));
      }
      out.push_back(loc + " " + p.type + " " + p.msg);
    }
    return out;
  }
  return {};
}

}  // namespace

TEST_CASE("webhook endpoint create: defaults to every event and no description") {
  const auto doc = hydra::json::parseObject(R"({"url":"https://example.com/hooks"})");
  const auto input = WebhookEndpointCreate::fromJson(*doc, {});
  CHECK(input.url == "https://example.com/hooks");
  CHECK(input.description == "");
  CHECK(input.events == webhooks::events::all());
  CHECK(input.events.size() == 13);
  const auto null_events = hydra::json::parseObject(R"({"url":"https://example.com/hooks","events":null})");
  CHECK(WebhookEndpointCreate::fromJson(*null_events, {}).events == webhooks::events::all());
}

TEST_CASE("webhook endpoint create: chosen events, repeats dropped") {
  const auto doc = hydra::json::parseObject(
      R"({"url":"https://example.com/h","events":["grant.created","connection.status_changed","grant.created"],"description":"ops"})");
  const auto input = WebhookEndpointCreate::fromJson(*doc, {});
  CHECK(input.events == std::vector<std::string>{"grant.created", "connection.status_changed"});
  CHECK(input.description == "ops");
}

TEST_CASE("webhook endpoint create: every problem as a FastAPI 422 entry") {
  CHECK(problems(R"({})") == std::vector<std::string>{"body.url missing Field required"});
  CHECK(problems(R"({"url":"http://example.com/h"})") ==
        std::vector<std::string>{"body.url value_error Value error, URL must use https"});
  CHECK(problems(R"({"url":"https://u:p@example.com/h"})") ==
        std::vector<std::string>{"body.url value_error Value error, URL must not contain credentials"});
  CHECK(problems(R"({"url":"https://169.254.169.254/"})") ==
        std::vector<std::string>{
            "body.url value_error Value error, URL host 169.254.169.254 is link-local, which webhooks may not reach"});
  CHECK(problems(R"({"url":"https://example.com/)" + std::string(2030, 'a') + R"("})") ==
        std::vector<std::string>{"body.url string_too_long String should have at most 2048 characters"});
  CHECK(problems(R"({"url":7})") == std::vector<std::string>{"body.url string_type Input should be a valid string"});
  const auto unknown = problems(R"({"url":"https://example.com/h","events":["grant.created","grant.exploded",3]})");
  REQUIRE(unknown.size() == 1);  // a non-string fails the list as a whole first
  CHECK(unknown[0] == "body.events.2 string_type Input should be a valid string");
  const auto names = problems(R"({"url":"https://example.com/h","events":["grant.created","grant.exploded","*"]})");
  REQUIRE(names.size() == 2);
  CHECK(names[0].rfind("body.events.1 literal_error Input should be 'connection.created', 'connection.updated'", 0) ==
        0);
  CHECK(names[1].rfind("body.events.2 literal_error", 0) == 0);
  CHECK(problems(R"({"url":"https://example.com/h","events":[]})") ==
        std::vector<std::string>{"body.events too_short List should have at least 1 item after validation, not 0"});
  CHECK(problems(R"({"url":"https://example.com/h","events":"grant.created"})") ==
        std::vector<std::string>{"body.events list_type Input should be a valid list"});
  CHECK(problems(R"({"url":"https://example.com/h","description":)" + std::string("\"") + std::string(1025, 'd') +
                 "\"}") ==
        std::vector<std::string>{"body.description string_too_long String should have at most 1024 characters"});
}

TEST_CASE("webhook endpoint update: everything optional, null leaves a field unchanged") {
  const auto doc = hydra::json::parseObject(R"({"url":null,"events":null,"description":null,"enabled":null})");
  const auto input = WebhookEndpointUpdate::fromJson(*doc, {});
  CHECK_FALSE(input.url.has_value());
  CHECK_FALSE(input.events.has_value());
  CHECK_FALSE(input.description.has_value());
  CHECK_FALSE(input.enabled.has_value());
  const auto some = hydra::json::parseObject(R"({"enabled":false,"events":["instance.deleted"]})");
  const auto changed = WebhookEndpointUpdate::fromJson(*some, {});
  CHECK(changed.enabled == false);
  CHECK(changed.events == std::vector<std::string>{"instance.deleted"});
  CHECK(problems(R"({"enabled":"no"})", true) ==
        std::vector<std::string>{"body.enabled bool_type Input should be a valid boolean"});
  CHECK(problems(R"({"url":"https://10.0.0.1/"})", true).size() == 1);
  CHECK(problems(R"({"events":["nope"]})", true).size() == 1);
}
