#include "broker/openapi.hpp"

namespace hydra::broker::docs {

const char* schemas() {
  return R"json({
  "ConnectionCredentials": {"title": "ConnectionCredentials", "type": "object", "required": ["capabilities", "credentials"],
    "properties": {"capabilities": {"type": "array", "items": {"type": "string"},
                                    "description": "The grant's capabilities"},
                   "credentials": {"type": "object",
                                   "description": "Decrypted credentials; never a refresh token or client secret"}}}
})json";
}

http::RouteDoc fetchConnection() {
  http::RouteDoc doc{"Fetch Connection Credentials",
                     "connections",
                     "proxy_key",
                     {{"provider", true, R"({"type":"string","maxLength":50})", ""},
                      {"name", false, R"({"type":"string","maxLength":255})", "Picks one of several granted connections"},
                      {"capability", false, R"({"type":"string","maxLength":255})",
                       "Required capability (e.g. send_mail). If specified, 403 if grant doesn't include it."}},
                     "",
                     {{200, "ConnectionCredentials"}}};
  for (const int status : {401, 403, 404, 409, 413, 429, 500, 503}) doc.responses.emplace_back(status, "");
  return doc;
}

http::RouteDoc proxyCall() {
  // The query string and body are the provider's, passed on; the answer is the provider's.
  http::RouteDoc doc{"Call the Provider through the Proxy", "proxy", "proxy_key", {}, "", {{200, ""}}};
  doc.media_type = "*/*";
  doc.path = {{"provider", R"({"type":"string","maxLength":50})", "A provider of the registry (gmail, xero, ...)"}};
  for (const int status : {400, 401, 403, 404, 409, 413, 429, 500, 502, 503, 504}) doc.responses.emplace_back(status, "");
  return doc;
}

}  // namespace hydra::broker::docs
