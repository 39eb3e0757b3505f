// 422s in FastAPI's shape, {"detail":[{"loc","msg","type"}]}, one entry per problem: request
// bodies (POST connections as the richest model), malformed JSON, and path ids.
#include <doctest/doctest.h>

#include <tuple>

#include "tests/support/api.hpp"

using namespace hydra::test;

namespace {

/// Posts a connection body for a fresh tenant of `s`.
struct ConnectionPoster {
  Stack& s;
  Tenant t = s.newTenant();
  Response operator()(const std::string& body) const { return s.as(t, "POST", t.path() + "/connections", body); }
};

std::vector<std::string> one(const std::string& loc_type) { return {loc_type}; }

}  // namespace

TEST_CASE("missing required fields: one entry each with type missing") {
  Stack s;
  ConnectionPoster post{s};
  const auto r = post("{}");
  CHECK(r.header("Content-Type") == "application/json");
  const auto problems = validationProblems(r);
  REQUIRE(problems.size() == 3);
  CHECK(problems[0].loc == R"(["body","credentials"])");
  CHECK(problems[1].loc == R"(["body","name"])");
  CHECK(problems[2].loc == R"(["body","provider"])");
  for (const auto& p : problems) {
    CHECK(p.type == "missing");
    CHECK(p.msg == "Field required");
  }
  CHECK(problemLocTypes(post(R"({"name":"n","credentials":{}})")) == one(R"(["body","provider"] missing)"));
}

TEST_CASE("wrong types and lengths of connection fields") {
  Stack s;
  ConnectionPoster post{s};
  const auto with = [](const std::string& fields) {
    // A valid body with `fields` overriding (later duplicate keys would be refused, so build it).
    return "{" + fields + "}";
  };
  CHECK(problemLocTypes(post(with(R"("provider":"p","name":12,"credentials":{})"))) ==
        one(R"(["body","name"] string_type)"));
  CHECK(problemLocTypes(post(with(R"("provider":null,"name":"n","credentials":{})"))) ==
        one(R"(["body","provider"] string_type)"));
  CHECK(problemLocTypes(post(with(R"("provider":"p","name":"","credentials":{})"))) ==
        one(R"(["body","name"] string_too_short)"));
  CHECK(problemLocTypes(post(with(R"("provider":"","name":"n","credentials":{})"))) ==
        one(R"(["body","provider"] string_too_short)"));

  const auto long_name = post(with(R"("provider":"p","name":")" + std::string(256, 'n') + R"(","credentials":{})"));
  REQUIRE(validationProblems(long_name).size() == 1);
  CHECK(validationProblems(long_name)[0].loc == R"(["body","name"])");
  CHECK(validationProblems(long_name)[0].type == "string_too_long");
  CHECK(validationProblems(long_name)[0].msg == "String should have at most 255 characters");
  const auto long_provider =
      post(with(R"("provider":")" + std::string(51, 'p') + R"(","name":"n","credentials":{})"));
  REQUIRE(validationProblems(long_provider).size() == 1);
  CHECK(validationProblems(long_provider)[0].loc == R"(["body","provider"])");
  CHECK(validationProblems(long_provider)[0].type == "string_too_long");
  CHECK(validationProblems(long_provider)[0].msg == "String should have at most 50 characters");

  // The limits themselves are allowed.
  CHECK(post(with(R"("provider":")" + std::string(50, 'p') + R"(","name":")" + std::string(255, 'n') +
                  R"(","credentials":{})"))
            .status == 201);
}

TEST_CASE("auth_type outside oauth2 api_key basic is a literal_error") {
  Stack s;
  ConnectionPoster post{s};
  for (const char* value : {R"("password")", R"("OAUTH2")", R"("")", "1", "[]"}) {
    CAPTURE(value);
    const auto r = post(R"({"provider":"p","name":"n","credentials":{},"auth_type":)" + std::string(value) + "}");
    const auto problems = validationProblems(r);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].loc == R"(["body","auth_type"])");
    CHECK(problems[0].type == "literal_error");
    CHECK(problems[0].msg == "Input should be 'oauth2', 'api_key' or 'basic'");
  }
}

TEST_CASE("an explicit null auth_type is a literal_error as in FastAPI") {
  // auth_type is Literal['oauth2','api_key','basic'] with a default, not Optional: pydantic
  // refuses None rather than applying the default.
  Stack s;
  ConnectionPoster post{s};
  CHECK(problemLocTypes(post(R"({"provider":"p","name":"n","credentials":{},"auth_type":null})")) ==
        one(R"(["body","auth_type"] literal_error)"));
}

TEST_CASE("credentials must be a JSON object") {
  Stack s;
  ConnectionPoster post{s};
  for (const char* value : {R"("secret")", "[]", "42", "null", "true"}) {
    CAPTURE(value);
    const auto r = post(R"({"provider":"p","name":"n","credentials":)" + std::string(value) + "}");
    const auto problems = validationProblems(r);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].loc == R"(["body","credentials"])");
    CHECK(problems[0].type == "dict_type");
    CHECK(problems[0].msg == "Input should be a valid dictionary");
  }
  CHECK(problemLocTypes(post(R"({"provider":"p","name":"n","credentials":{},"metadata_json":"m"})")) ==
        one(R"(["body","metadata_json"] dict_type)"));
  CHECK(problemLocTypes(post(R"({"provider":"p","name":"n","credentials":{},"scopes":"read"})")) ==
        one(R"(["body","scopes"] list_type)"));
}

TEST_CASE("several problems in one body give one entry each") {
  Stack s;
  ConnectionPoster post{s};
  CHECK(problemLocTypes(post(R"({"provider":"","name":7,"credentials":"x","auth_type":"nope","scopes":{}})")) ==
        std::vector<std::string>{R"(["body","auth_type"] literal_error)", R"(["body","credentials"] dict_type)",
                                 R"(["body","name"] string_type)", R"(["body","provider"] string_too_short)",
                                 R"(["body","scopes"] list_type)"});
  CHECK(s.db.exec("SELECT count(*) FROM connections")[0][0].as<int>() == 0);
}

TEST_CASE("malformed JSON is 422 json_invalid") {
  Stack s;
  ConnectionPoster post{s};
  for (const char* body : {R"({"name":)", "{name: 'x'}", R"({"a":1,})", "nul", "{}}"}) {
    CAPTURE(body);
    const auto problems = validationProblems(post(body));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].type == "json_invalid");
    CHECK(problems[0].loc.rfind(R"(["body")", 0) == 0);
  }
  // FastAPI puts the error position after "body".
  const auto r = post(R"({"name":)");
  REQUIRE(validationProblems(r).size() == 1);
  const auto& loc = member(*items(member(r.json, "detail"))[0], "loc");
  REQUIRE(items(loc).size() == 2);
  CHECK(items(loc)[1]->IsInt());
}

TEST_CASE("a body that is not a JSON object is 422 with loc body") {
  Stack s;
  ConnectionPoster post{s};
  for (const char* body : {"[]", R"([{"provider":"p","name":"n","credentials":{}}])", R"("a string")", "42", "true"}) {
    CAPTURE(body);
    const auto problems = validationProblems(post(body));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].loc == R"(["body"])");
    CHECK(problems[0].type == "model_attributes_type");
  }
}

TEST_CASE("an empty body is 422 missing at loc body") {
  Stack s;
  ConnectionPoster post{s};
  for (const char* body : {"", "   ", "\r\n"}) {
    CAPTURE(body);
    const auto problems = validationProblems(post(body));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].loc == R"(["body"])");
    CHECK(problems[0].type == "missing");
  }
}

TEST_CASE("invalid UTF-8 and duplicate keys are refused") {
  Stack s;
  ConnectionPoster post{s};
  for (const std::string& body : {std::string("{\"provider\":\"p\",\"name\":\"\xC3\x28\",\"credentials\":{}}"),
                                  std::string("{\"provider\":\"p\",\"name\":\"\xFF\xFE\",\"credentials\":{}}"),
                                  std::string("{\"provider\":\"p\",\"name\":\"\xED\xA0\x80\",\"credentials\":{}}")}) {
    const auto problems = validationProblems(post(body));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].type == "json_invalid");
  }
  // Escapes that decode to what PostgreSQL cannot store: a lone surrogate, NUL.
  for (const char* body : {R"({"provider":"p","name":"\udc00","credentials":{}})",
                           R"({"provider":"p","name":"n","credentials":{},"metadata_json":{"k":"\ud800x"}})",
                           R"({"provider":"p","name":"a\u0000b","credentials":{}})"}) {
    CAPTURE(body);
    const auto problems = validationProblems(post(body));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].type == "json_invalid");
  }
  // Parsers disagree on which duplicate wins, so neither may.
  for (const char* body : {R"({"provider":"p","name":"a","name":"b","credentials":{}})",
                           R"({"provider":"p","name":"n","credentials":{"token":"a","token":"b"}})"}) {
    CAPTURE(body);
    const auto problems = validationProblems(post(body));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].loc.rfind(R"(["body")", 0) == 0);
    CHECK(problems[0].type == "json_invalid");
  }
  CHECK(s.db.exec("SELECT count(*) FROM connections")[0][0].as<int>() == 0);
}

TEST_CASE("100000-deep nesting is 422 and the server stays up") {
  Stack s;
  ConnectionPoster post{s};
  const std::size_t depth = 100000;
  const std::string arrays = std::string(depth, '[') + std::string(depth, ']');
  std::string objects;
  for (std::size_t i = 0; i < depth; ++i) objects += R"({"a":)";
  objects += "1" + std::string(depth, '}');

  for (const auto& body : {arrays, objects, R"({"provider":"p","name":"n","credentials":)" + objects + "}"}) {
    const auto problems = validationProblems(post(body));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].type == "json_invalid");
  }
  CHECK(s.server.running());
  CHECK(s.http.request("GET", "/healthz").status == 200);
  CHECK(post(connectionBody("gmail", "after")).status == 201);
  // Reasonable nesting inside credentials is fine.
  CHECK(post(R"({"provider":"p","name":"nested","credentials":{"a":{"b":{"c":[1,[2,[3]]]}}}})").status == 201);
}

TEST_CASE("a non-UUID path id is 422 at its path loc") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const std::vector<std::tuple<std::string, std::string, std::string>> cases{
      {"GET", "/v1/customers/not-a-uuid/connections", R"(["path","customer_id"] uuid_parsing)"},
      {"POST", "/v1/customers/1234/connections", R"(["path","customer_id"] uuid_parsing)"},
      {"GET", t.path() + "/connections/xyz", R"(["path","connection_id"] uuid_parsing)"},
      {"PATCH", t.path() + "/connections/xyz", R"(["path","connection_id"] uuid_parsing)"},
      {"DELETE", t.path() + "/connections/" + connection + "x", R"(["path","connection_id"] uuid_parsing)"},
      {"POST", t.path() + "/connections/xyz/grants", R"(["path","connection_id"] uuid_parsing)"},
      {"DELETE", t.path() + "/instances/xyz", R"(["path","instance_id"] uuid_parsing)"},
      {"DELETE", t.path() + "/api-keys/xyz", R"(["path","key_id"] uuid_parsing)"},
      {"DELETE", t.path() + "/connections/" + connection + "/grants/xyz", R"(["path","grant_id"] uuid_parsing)"},
  };
  for (const auto& entry : cases) {
    const auto& method = std::get<0>(entry);
    const auto& path = std::get<1>(entry);
    const auto& expected = std::get<2>(entry);
    CAPTURE(method);
    CAPTURE(path);
    CHECK(problemLocTypes(s.as(t, method, path, "{}")) == one(expected));
  }
  CHECK(problemLocTypes(s.as(t, "GET", "/v1/customers/x/connections/y")) ==
        std::vector<std::string>{R"(["path","connection_id"] uuid_parsing)",
                                 R"(["path","customer_id"] uuid_parsing)"});
}
