// HYDRA_LOG_FORMAT=json: one JSON object per line, whatever the message holds, and the
// access line's fields as members.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include <Poco/AutoPtr.h>
#include <Poco/FormattingChannel.h>
#include <Poco/StreamChannel.h>
#include <rapidjson/document.h>

#include "shared/log/log.hpp"
#include "shared/http/request_id.hpp"

using namespace hydra;

TEST_CASE("log::jsonString: quotes, control characters and invalid UTF-8 stay one valid JSON string") {
  CHECK(log::jsonString("plain") == "\"plain\"");
  CHECK(log::jsonString("a\"b\\c\nd\x01") == "\"a\\\"b\\\\c\\u000ad\\u0001\"");
  CHECK(log::jsonString("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
  CHECK(log::jsonString("bad\xff") == "\"bad\\ufffd\"");
}

TEST_CASE("log json format: every line is one JSON object with the access line's fields") {
  log::init("information", log::Format::kJson);
  // The root channel formats; point its output at a stream for the test.
  std::ostringstream out;
  auto* formatting = dynamic_cast<Poco::FormattingChannel*>(Poco::Logger::root().getChannel().get());
  REQUIRE(formatting != nullptr);
  formatting->setChannel(new Poco::StreamChannel(out));
  Poco::Logger& logger = Poco::Logger::get("hydra.test");
  log::setRequestId("req-1");
  logger.warning("a message\nwith a line break");
  log::setRequestId("");
  log::access(logger, {"abc123", "GET", "/v1/customers/:customer_id", 200, 1.5});
  log::init("information");  // back to text for the other tests

  std::istringstream lines(out.str());
  std::string line;
  REQUIRE(std::getline(lines, line));
  rapidjson::Document first;
  first.Parse(line.c_str());
  REQUIRE_FALSE(first.HasParseError());
  CHECK(std::string(first["level"].GetString()) == "warning");
  CHECK(std::string(first["logger"].GetString()) == "hydra.test");
  CHECK(std::string(first["message"].GetString()) == "a message\nwith a line break");
  CHECK(std::string(first["request_id"].GetString()) == "req-1");
  CHECK(std::string(first["time"].GetString()).back() == 'Z');
  REQUIRE(std::getline(lines, line));
  rapidjson::Document access;
  access.Parse(line.c_str());
  REQUIRE_FALSE(access.HasParseError());
  CHECK(std::string(access["request_id"].GetString()) == "abc123");
  CHECK(std::string(access["method"].GetString()) == "GET");
  CHECK(std::string(access["route"].GetString()) == "/v1/customers/:customer_id");
  CHECK(access["status"].GetInt() == 200);
  CHECK(access["duration_ms"].GetDouble() == doctest::Approx(1.5));
  CHECK_FALSE(std::getline(lines, line));
}

TEST_CASE("request ids: a client's well-formed id is kept, anything else replaced") {
  CHECK(http::requestIdFrom(std::string("trace-0123_abc.XYZ")) == "trace-0123_abc.XYZ");
  CHECK(http::requestIdFrom(std::string(64, 'a')) == std::string(64, 'a'));
  for (const std::string& bad : {std::string(65, 'a'), std::string("has space"), std::string("tab\there"),
                                std::string("nl\nx"), std::string(""), std::string("caf\xc3\xa9")}) {
    const auto id = http::requestIdFrom(bad);
    CHECK(id != bad);
    CHECK(id.size() == 16);
  }
  CHECK(http::requestIdFrom(std::nullopt).size() == 16);
}
