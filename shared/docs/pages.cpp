#include "shared/docs/pages.hpp"

#include "shared/docs/assets.hpp"
#include "shared/text/html_escape.hpp"

namespace hydra::docs {
namespace {

using text::escapeHtml;

// An asset is no document: nothing in it may load anything, nor may it be framed.
const std::string kAssetPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

// Redoc's styles, without 'unsafe-inline' and without a nonce (Redoc 2.5.4's bundle; the
// browser test, tests/browser/docs.mjs, fails with Chromium's report, which names the hash to
// put here, should a new version differ):
//  - styled-components (5.3.11, its production build) appends an *empty* <style> element and
//    fills it through the CSSOM (CSSStyleSheet.insertRule), which CSP does not govern: only the
//    element's text is checked, and the hash of "" admits it. An empty element injected into
//    the page's markup would do nothing; a non-empty one is still refused.
//  - the bundle's style-loader inserts perfect-scrollbar's CSS (the sidebar's scroll bars) as
//    the element's text, a constant of the bundle, admitted by its hash (the element is empty
//    for a moment first: the hash of "" again).
// A per-answer nonce handed to Redoc.init ({nonce}) would add nothing: the style-loader's
// element is made as the bundle loads, before init can pass it on, so its hash is needed
// anyway, and styled-components' elements are empty either way.
const std::string kRedocStyleHashes =
    " 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' 'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='";

// Relative links: the pages are /docs and /redoc, so "docs/assets/..." is /docs/assets/... and
// "openapi.json" is /openapi.json, also behind a proxy that adds a path prefix.
std::string assetUrl(std::string_view name) { return "docs/assets/" + servedName(name); }

std::string head(const std::string& title, const std::vector<std::string_view>& styles) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>" + escapeHtml(title) + "</title>\n"
      // No icon: otherwise the browser asks for /favicon.ico.
      "<link rel=\"icon\" href=\"data:,\">\n";
  for (const auto style : styles) html += "<link rel=\"stylesheet\" href=\"" + assetUrl(style) + "\">\n";
  return html;
}

http::Reply page(std::string html, const std::string& policy) {
  http::Reply reply{200, std::move(html), securityHeaders(policy, "no-store")};
  reply.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  return reply;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> securityHeaders(const std::string& policy,
                                                                 const std::string& cache_control) {
  return {{"Content-Security-Policy", policy},
          {"Referrer-Policy", "no-referrer"},
          {"X-Content-Type-Options", "nosniff"},
          {"Cache-Control", cache_control}};
}

std::string pagePolicy(const std::string& extra_style_sources, const std::string& extra_directives,
                       const std::string& form_action) {
  return "default-src 'none'; script-src 'self'; style-src 'self'" + extra_style_sources +
         "; img-src 'self' data:; connect-src 'self'; " + extra_directives +
         "frame-ancestors 'none'; base-uri 'none'; form-action " + form_action;
}

http::Reply swaggerUiPage(const std::string& title) {
  auto html = head(title + " - Swagger UI", {"swagger-ui.css", "docs.css"});
  html += "<link rel=\"license\" href=\"" + assetUrl("swagger-ui-LICENSE.txt") + "\">\n";
  html += "<script defer src=\"" + assetUrl("swagger-ui-bundle.js") + "\"></script>\n";
  html += "<script defer src=\"" + assetUrl("swagger-init.js") + "\"></script>\n";
  html += "</head>\n<body>\n<div id=\"swagger-ui\"></div>\n</body>\n</html>\n";
  return page(std::move(html), pagePolicy("", ""));
}

http::Reply redocPage(const std::string& title) {
  auto html = head(title + " - Redoc", {"docs.css"});
  html += "<link rel=\"license\" href=\"" + assetUrl("redoc-LICENSE.txt") + "\">\n";
  html += "<script defer src=\"" + assetUrl("redoc.standalone.js") + "\"></script>\n";
  html += "<script defer src=\"" + assetUrl("redoc-init.js") + "\"></script>\n";
  html += "</head>\n<body>\n<div id=\"redoc\"></div>\n</body>\n</html>\n";
  return page(std::move(html), pagePolicy(kRedocStyleHashes, "worker-src blob:; "));
}

http::Reply assetReply(std::string_view served_name) {
  const auto* asset = assetServedAs(served_name);
  if (asset == nullptr) {
    auto reply = http::errorReply(404, "Not Found");
    for (auto& header : securityHeaders(kAssetPolicy, "no-store")) reply.headers.push_back(std::move(header));
    return reply;
  }
  http::Reply reply{200, std::string(asset->body), securityHeaders(kAssetPolicy, "public, max-age=31536000, immutable")};
  reply.headers.emplace_back("Content-Type", std::string(asset->content_type));
  return reply;
}

}  // namespace hydra::docs
