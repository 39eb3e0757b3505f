#include "shared/docs/routes.hpp"

#include "shared/docs/pages.hpp"

namespace hydra::docs {

void addDocsRoutes(http::Server& server, const std::string& title) {
  using Request = Pistache::Rest::Request;
  server.get("/docs", [title](const Request&) { return swaggerUiPage(title); },
             {"This API's operations in Swagger UI (HTML)", "operations", "", {}, "", {{200, "string"}}, "text/html"});
  server.get("/redoc", [title](const Request&) { return redocPage(title); },
             {"This API's operations in Redoc (HTML)", "operations", "", {}, "", {{200, "string"}}, "text/html"});
  server.get("/docs/assets/:name",
             [](const Request& req) { return assetReply(req.param(":name").as<std::string>()); },
             {"A script, style sheet or licence of the docs pages", "operations", "", {}, "",
              {{200, "string"}, {404, ""}}, "*/*",
              {{"name", R"({"type":"string"})", "The asset's name as the pages link it (with its content's hash)"}}});
}

}  // namespace hydra::docs
