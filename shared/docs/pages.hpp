#pragma once
// The docs pages' answers: the two HTML pages (Swagger UI, Redoc) and their assets, each with a
// strict Content-Security-Policy. The pages load scripts and styles from this origin only,
// fetch only /openapi.json, and have no inline script or style; Redoc's run-time <style>
// elements are admitted by the hashes of their texts (see redocPage).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/http/response.hpp"

namespace hydra::docs {

/// GET /docs: Swagger UI over ./openapi.json. `title`: the API's, escaped into <title>.
http::Reply swaggerUiPage(const std::string& title);

/// GET /redoc: Redoc over ./openapi.json. Redoc styles itself with <style> elements it adds at
/// run time; the policy's style-src admits exactly two texts, by hash: the empty one (styled-
/// components fills its elements through the CSSOM, which CSP does not govern) and the
/// perfect-scrollbar CSS the bundle carries (pages.cpp says more). Its search runs in a Web
/// Worker made from a blob: URL (worker-src blob:; only the page's own scripts can make one,
/// and the worker inherits the page's policy).
http::Reply redocPage(const std::string& title);

/// GET /docs/assets/<served name>: the asset, cacheable forever (its name changes with its
/// content); 404 for any other name.
http::Reply assetReply(std::string_view served_name);

/// The policy of a page: scripts, styles and images from this origin, fetches to it, nothing
/// else; `extra_style_sources` (" 'sha256-...'") are appended to style-src, `extra_directives`
/// ("worker-src blob:; ") inserted whole; `form_action`: where its forms may submit (and
/// redirect: browsers check a form's redirects too), "'none'" for a page without forms.
std::string pagePolicy(const std::string& extra_style_sources, const std::string& extra_directives,
                       const std::string& form_action = "'none'");

/// What every page and asset answer carries: the policy, Referrer-Policy no-referrer,
/// X-Content-Type-Options nosniff and `cache_control`.
std::vector<std::pair<std::string, std::string>> securityHeaders(const std::string& policy,
                                                                 const std::string& cache_control);

}  // namespace hydra::docs
