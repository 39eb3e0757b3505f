#include "control-plane/connect/pages.hpp"

#include "shared/docs/assets.hpp"
#include "shared/docs/pages.hpp"
#include "shared/text/html_escape.hpp"

namespace hydra::cp::connect {
namespace {

using text::escapeHtml;

const char* const kStyle = "connect.css";
const char* const kWaitScript = "connect-wait.js";

std::string head(std::string_view title, bool script) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
      "<title>" + escapeHtml(title) + "</title>\n<link rel=\"icon\" href=\"data:,\">\n"
      "<link rel=\"stylesheet\" href=\"assets/" + docs::servedName(kStyle) + "\">\n";
  if (script) html += "<script defer src=\"assets/" + docs::servedName(kWaitScript) + "\"></script>\n";
  return html + "</head>\n<body>\n";
}

const char* const kTail = "</body>\n</html>\n";

http::Reply page(int status, std::string html, const std::string& form_action = "'none'") {
  http::Reply reply{status, std::move(html), docs::securityHeaders(docs::pagePolicy("", "", form_action), "no-store")};
  reply.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  return reply;
}

}  // namespace

http::Reply linkPage(const LinkPage& link, const std::string& token) {
  const auto customer = escapeHtml(link.customer_name);
  const auto provider = escapeHtml(link.provider);
  auto html = head("Connect " + link.provider, false);
  html += "<main class=\"card\">\n<p class=\"eyebrow\">Connect an account</p>\n";
  html += "<h1><strong>" + customer + "</strong> wants access to your <strong>" + provider + "</strong> account</h1>\n";
  if (link.scopes.empty()) {
    html += "<p>It asks for the access " + provider + " gives by default.</p>\n";
  } else {
    html += "<p>It asks to:</p>\n<ul class=\"scopes\">\n";
    for (const auto& [scope, words] : link.scopes) {
      html += "<li>" + (words ? escapeHtml(*words) : escapeHtml(scope));
      if (words) html += " <code>" + escapeHtml(scope) + "</code>";
      html += "</li>\n";
    }
    html += "</ul>\n";
  }
  html += "<p class=\"note\">You sign in at " + provider + " itself: " + customer +
          " never sees your password. The access can be removed at any time.</p>\n";
  const auto target = escapeHtml(token);
  html += "<form method=\"post\" action=\"" + target + "/continue\"><button type=\"submit\" class=\"primary\">Continue to " +
          provider + "</button></form>\n";
  html += "<form method=\"post\" action=\"" + target + "/cancel\"><button type=\"submit\" class=\"secondary\">Cancel</button></form>\n";
  html += "</main>\n";
  html += kTail;
  // The forms post here, and their answers redirect to the provider or to the error_url:
  // browsers hold a form's redirects to form-action too.
  std::string form_action = "'self'";
  for (const auto& origin : link.form_targets) {
    if (!origin.empty()) form_action += " " + origin;
  }
  return page(200, std::move(html), form_action);
}

http::Reply errorPage(int status, std::string_view title, std::string_view message) {
  auto html = head(title, false);
  html += "<main class=\"card status-error\">\n<h1>" + escapeHtml(title) + "</h1>\n<p>" + escapeHtml(message) +
          "</p>\n</main>\n";
  html += kTail;
  return page(status, std::move(html));
}

http::Reply cancelledPage() {
  auto html = head("Cancelled", false);
  html += "<main class=\"card\">\n<h1>Cancelled</h1>\n<p>Nothing was connected. You can close this window.</p>\n</main>\n";
  html += kTail;
  return page(200, std::move(html));
}

http::Reply waitingPage(const std::string& session_id) {
  auto html = head("Connecting", true);
  html += "<main class=\"card\" id=\"wait\" data-status-url=\"sessions/" + escapeHtml(session_id) + "/status\">\n";
  html += "<div class=\"spinner\" aria-hidden=\"true\"></div>\n";
  html += "<h1 id=\"wait-title\">Finishing the connection</h1>\n";
  html += "<p id=\"wait-text\" role=\"status\">One moment while the account is connected.</p>\n";
  html += "<noscript><p>The connection completes without this page; you may close this window.</p></noscript>\n";
  html += "</main>\n";
  html += kTail;
  return page(200, std::move(html));
}

http::Reply redirect(const std::string& location) {
  auto reply = page(302, "");
  reply.headers.emplace_back("Location", location);
  return reply;
}

http::Reply statusJson(int status, std::string body) {
  http::Reply reply{status, std::move(body),
                    docs::securityHeaders("default-src 'none'; frame-ancestors 'none'", "no-store")};
  return reply;
}

http::Reply asset(std::string_view served_name) {
  for (const char* name : {kStyle, kWaitScript}) {
    if (docs::servedName(name) == served_name) return docs::assetReply(served_name);
  }
  return docs::assetReply("");  // the same 404, with the same headers, as any unknown asset
}

std::string cookieHeader(const std::string& value, const std::string& path, bool secure) {
  std::string cookie = std::string(kCookieName) + "=" + value + "; Path=" + path + "; HttpOnly; SameSite=Lax";
  if (value.empty()) cookie += "; Max-Age=0";
  if (secure) cookie += "; Secure";
  return cookie;
}

}  // namespace hydra::cp::connect
