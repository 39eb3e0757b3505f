#include "shared/http/openapi.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace hydra::http {
namespace {

using rapidjson::Document;
using rapidjson::Value;

// FastAPI's own error schemas, as its generated documents have them, and those of the
// operations routes every binary serves (shared/ops).
constexpr const char* kSharedSchemas = R"({
  "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
  "Readiness": {"type": "object", "required": ["status", "checks"],
    "properties": {"status": {"type": "string", "enum": ["ready", "not_ready"]},
                   "missing": {"type": "array", "items": {"type": "string"}},
                   "checks": {"type": "object", "additionalProperties": {"type": "string"}}}},
  "OpenAPIDocument": {"type": "object", "required": ["openapi", "paths"]},
  "HTTPError": {"title": "HTTPError", "type": "object", "required": ["detail"],
                "properties": {"detail": {"title": "Detail", "type": "string"}}},
  "HTTPValidationError": {"title": "HTTPValidationError", "type": "object",
                          "properties": {"detail": {"title": "Detail", "type": "array",
                                                    "items": {"$ref": "#/components/schemas/ValidationError"}}}},
  "ValidationError": {"title": "ValidationError", "type": "object", "required": ["loc", "msg", "type"],
                      "properties": {"loc": {"title": "Location", "type": "array",
                                             "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                                     "msg": {"title": "Message", "type": "string"},
                                     "type": {"title": "Error Type", "type": "string"}}}
})";

constexpr const char* kSecuritySchemes = R"({
  "HTTPBearer": {"type": "http", "scheme": "bearer"},
  "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}
})";

const std::map<int, const char*> kReasons = {
    {200, "Successful Response"}, {201, "Created"}, {204, "No Content"}, {400, "Bad Request"},
    {401, "Not authenticated"}, {403, "Forbidden"}, {404, "Not Found"}, {409, "Conflict"},
    {413, "Request body too large"}, {422, "Validation Error"}, {429, "Too Many Requests"},
    {500, "Internal Server Error"}, {503, "Service Unavailable"}};

Value parsed(const char* text, Document::AllocatorType& alloc, const char* what) {
  Document doc(&alloc);
  doc.Parse(text);
  if (doc.HasParseError() || !doc.IsObject()) throw std::logic_error(std::string("OpenAPI: bad JSON in ") + what);
  Value out;
  out.CopyFrom(doc, alloc);
  return out;
}

Value str(const std::string& s, Document::AllocatorType& alloc) { return Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), alloc); }

Value ref(const std::string& schema, Document::AllocatorType& alloc) {
  Value out(rapidjson::kObjectType);
  out.AddMember("$ref", str("#/components/schemas/" + schema, alloc), alloc);
  return out;
}

Value securityFor(const std::string& auth, Document::AllocatorType& alloc) {
  Value list(rapidjson::kArrayType);
  const auto scheme = [&](const char* name) {
    Value requirement(rapidjson::kObjectType);
    requirement.AddMember(Value(name, alloc), Value(rapidjson::kArrayType), alloc);
    list.PushBack(requirement, alloc);
  };
  if (auth == "api_key" || auth == "admin_or_api_key") {
    scheme("HTTPBearer");
    scheme("APIKeyHeader");
  } else if (auth == "admin" || auth == "proxy_key") {
    scheme("HTTPBearer");
  }
  return list;
}

}  // namespace

std::string openApiPath(const std::string& route) {
  std::string out;
  for (std::size_t i = 0; i < route.size();) {
    if (route[i] == ':') {
      const auto end = route.find('/', i);
      out += "{" + route.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1) + "}";
      i = end == std::string::npos ? route.size() : end;
    } else {
      out += route[i++];
    }
  }
  return out;
}

std::string openApiDocument(const std::string& title, const std::string& version,
                            const std::vector<RouteInfo>& routes, const std::string& components_json) {
  Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("openapi", "3.1.0", a);
  Value info(rapidjson::kObjectType);
  info.AddMember("title", str(title, a), a);
  info.AddMember("version", str(version, a), a);
  doc.AddMember("info", info, a);

  Value paths(rapidjson::kObjectType);
  for (const auto& r : routes) {
    const auto path = openApiPath(r.route);
    if (!paths.HasMember(path.c_str())) paths.AddMember(str(path, a), Value(rapidjson::kObjectType), a);
    auto& item = paths[path.c_str()];
    Value op(rapidjson::kObjectType);
    if (!r.doc.summary.empty()) op.AddMember("summary", str(r.doc.summary, a), a);
    std::string id;
    for (const char c : r.method + "_" + path) id += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
    op.AddMember("operationId", str(id, a), a);
    if (!r.doc.tag.empty()) {
      Value tags(rapidjson::kArrayType);
      tags.PushBack(str(r.doc.tag, a), a);
      op.AddMember("tags", tags, a);
    }
    Value parameters(rapidjson::kArrayType);
    for (std::size_t i = r.route.find(':'); i != std::string::npos; i = r.route.find(':', i + 1)) {
      const auto end = r.route.find('/', i);
      const auto name = r.route.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
      Value p(rapidjson::kObjectType);
      p.AddMember("name", str(name, a), a);
      p.AddMember("in", "path", a);
      p.AddMember("required", true, a);
      const auto declared = std::find_if(r.doc.path.begin(), r.doc.path.end(),
                                         [&](const PathParameter& d) { return d.name == name; });
      if (declared == r.doc.path.end()) {
        p.AddMember("schema", parsed(R"({"type":"string","format":"uuid"})", a, "path parameter"), a);
      } else {
        p.AddMember("schema", parsed(declared->schema.c_str(), a, name.c_str()), a);
        if (!declared->description.empty()) p.AddMember("description", str(declared->description, a), a);
      }
      parameters.PushBack(p, a);
    }
    for (const auto& q : r.doc.query) {
      Value p(rapidjson::kObjectType);
      p.AddMember("name", str(q.name, a), a);
      p.AddMember("in", "query", a);
      p.AddMember("required", q.required, a);
      p.AddMember("schema", parsed(q.schema.c_str(), a, q.name.c_str()), a);
      if (!q.description.empty()) p.AddMember("description", str(q.description, a), a);
      parameters.PushBack(p, a);
    }
    if (r.doc.auth == "api_key" || r.doc.auth == "admin_or_api_key") {
      // As the vendor's FastAPI service declares it: the key may also come in this header.
      Value p(rapidjson::kObjectType);
      p.AddMember("name", "X-Api-Key", a);
      p.AddMember("in", "header", a);
      p.AddMember("required", false, a);
      p.AddMember("schema", parsed(R"({"type":"string","title":"X-Api-Key"})", a, "X-Api-Key"), a);
      parameters.PushBack(p, a);
    }
    const bool validated = !parameters.Empty() || !r.doc.request_body.empty();
    if (!parameters.Empty()) op.AddMember("parameters", parameters, a);
    if (!r.doc.request_body.empty()) {
      Value body(rapidjson::kObjectType), content(rapidjson::kObjectType), json(rapidjson::kObjectType);
      json.AddMember("schema", ref(r.doc.request_body, a), a);
      content.AddMember("application/json", json, a);
      body.AddMember("required", true, a);
      body.AddMember("content", content, a);
      op.AddMember("requestBody", body, a);
    }
    Value responses(rapidjson::kObjectType);
    auto all = r.doc.responses;
    if (validated) all.emplace_back(422, "HTTPValidationError");
    for (const auto& [status, schema] : all) {
      const auto code = std::to_string(status);
      if (responses.HasMember(code.c_str())) continue;
      Value response(rapidjson::kObjectType);
      const auto reason = kReasons.find(status);
      response.AddMember("description", Value(reason == kReasons.end() ? "Response" : reason->second, a), a);
      std::string body_schema = schema;
      if (body_schema.empty() && status >= 400) body_schema = "HTTPError";
      if (!body_schema.empty()) {
        Value content(rapidjson::kObjectType), media(rapidjson::kObjectType);
        // A page route's refusals are pages too: an error status whose schema is "string".
        const bool plain = r.doc.media_type != "application/json" && (status < 300 || body_schema == "string");
        media.AddMember("schema", body_schema == "string" ? parsed(R"({"type":"string"})", a, "string") : ref(body_schema, a), a);
        content.AddMember(str(plain ? r.doc.media_type : "application/json", a), media, a);
        response.AddMember("content", content, a);
      }
      responses.AddMember(str(code, a), response, a);
    }
    op.AddMember("responses", responses, a);
    if (!r.doc.auth.empty()) op.AddMember("security", securityFor(r.doc.auth, a), a);
    std::string method = r.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    item.AddMember(str(method, a), op, a);
  }
  doc.AddMember("paths", paths, a);

  Value components(rapidjson::kObjectType);
  auto schemas = parsed(components_json.c_str(), a, "the components file");
  auto shared = parsed(kSharedSchemas, a, "shared schemas");
  for (auto& m : shared.GetObject()) schemas.AddMember(m.name, m.value, a);
  components.AddMember("schemas", schemas, a);
  components.AddMember("securitySchemes", parsed(kSecuritySchemes, a, "security schemes"), a);
  doc.AddMember("components", components, a);

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace hydra::http
