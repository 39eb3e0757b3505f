#pragma once
// The connect flow's HTML, server-rendered: every text escaped (text::escapeHtml), no inline
// script or style, nothing loaded from elsewhere (the style sheet and the waiting page's script
// are shared/docs assets under /connect/assets), and on every answer the strict policy,
// Referrer-Policy no-referrer (the link's token is in its path), Cache-Control no-store and
// nosniff. Pages link their assets relatively ("assets/..."), so a proxy's path prefix works.

#include <optional>
#include <string>
#include <string_view>

#include "control-plane/services/connect_flow.hpp"
#include "shared/http/response.hpp"

namespace hydra::cp::connect {

/// GET /connect/{token}: who asks, for which provider, what access; Continue and Cancel (forms
/// posting to {token}/continue and {token}/cancel).
http::Reply linkPage(const LinkPage& page, const std::string& token);

/// An error page: `status` (404 unknown, 410 used or expired, 400 refused ...), a title and a
/// sentence, both plain text.
http::Reply errorPage(int status, std::string_view title, std::string_view message);

/// The link was cancelled and there is no error_url to go to.
http::Reply cancelledPage();

/// After the callback stored the code: polls sessions/{id}/status (connect-wait.js).
http::Reply waitingPage(const std::string& session_id);

/// 302 to `location`, with the pages' headers.
http::Reply redirect(const std::string& location);

/// The status JSON the waiting page polls, with the pages' headers (no-store).
http::Reply statusJson(int status, std::string body);

/// GET /connect/assets/{served name}: the connect pages' own assets only; 404 otherwise.
http::Reply asset(std::string_view served_name);

/// The Set-Cookie value that gives the browser `value` as hydra_connect (HttpOnly, SameSite=Lax,
/// Secure when `secure`, Path `path`), or clears it when `value` is empty.
std::string cookieHeader(const std::string& value, const std::string& path, bool secure);

/// The name of the browser's cookie.
inline constexpr const char* kCookieName = "hydra_connect";

}  // namespace hydra::cp::connect
