// The connect flow's pages. No API key: the link's token (in the path) or the browser's cookie
// is the credential. Every answer is a page (or the status JSON) with the pages' security
// headers (connect/pages.hpp); refusals are pages too, never the API's JSON errors.
#include "control-plane/connect/pages.hpp"
#include "control-plane/handlers/handlers.hpp"
#include "shared/http/request.hpp"
#include "shared/json/writer.hpp"

namespace hydra::cp::handlers {
namespace {

// A token is 43 base64url characters; anything much longer is no token of ours.
constexpr std::size_t kMaxToken = 128;

std::string token(const Request& req) {
  auto value = req.param(":token").as<std::string>();
  return value.size() > kMaxToken ? std::string() : value;
}

Reply refusal(LinkState state) {
  if (state == LinkState::kExpired) {
    return connect::errorPage(410, "Link expired", "This connect link has expired. Ask for a new one.");
  }
  if (state == LinkState::kUsed) {
    return connect::errorPage(410, "Link already used",
                              "This connect link was already used (each link works once). Ask for a new one.");
  }
  return connect::errorPage(404, "Link not found", "This connect link is not valid. Check that it was copied whole.");
}

Reply withCookie(Reply reply, const ConnectFlow& flow, const std::string& value) {
  reply.headers.emplace_back("Set-Cookie", connect::cookieHeader(value, flow.cookiePath(), flow.secureCookie()));
  return reply;
}

}  // namespace

Reply connectLinkPage(Services& s, const Request& req) {
  const auto link = token(req);
  if (link.empty()) return refusal(LinkState::kUnknown);
  const auto page = s.connect_flow.view(link);
  if (page.state != LinkState::kOk) return refusal(page.state);
  return connect::linkPage(page, link);
}

Reply connectContinue(Services& s, const Request& req) {
  const auto link = token(req);
  if (link.empty()) return refusal(LinkState::kUnknown);
  const auto result = s.connect_flow.begin(link);
  if (result.no_client) {
    return connect::errorPage(409, "Cannot continue",
                              "This provider cannot be connected here at the moment (no OAuth client). Ask for a new link.");
  }
  if (result.state != LinkState::kOk) return refusal(result.state);
  return withCookie(connect::redirect(result.location), s.connect_flow, result.cookie);
}

Reply connectCancel(Services& s, const Request& req) {
  const auto link = token(req);
  if (link.empty()) return refusal(LinkState::kUnknown);
  const auto result = s.connect_flow.cancel(link);
  if (result.state != LinkState::kOk) return refusal(result.state);
  return result.location ? connect::redirect(*result.location) : connect::cancelledPage();
}

Reply connectCallback(Services& s, const Request& req) {
  CallbackInput in;
  in.state = http::query(req, "state");
  in.code = http::query(req, "code");
  in.error = http::query(req, "error");
  in.error_description = http::query(req, "error_description");
  in.cookie = http::cookie(req, connect::kCookieName);
  const auto result = s.connect_flow.callback(in);
  using Kind = CallbackResult::Kind;
  if (result.kind == Kind::kWaiting) return connect::waitingPage(result.session_id);
  // Refused or denied: this browser's part is over; the cookie goes.
  if (result.kind == Kind::kDenied && result.location) {
    return withCookie(connect::redirect(*result.location), s.connect_flow, "");
  }
  const auto title = result.kind == Kind::kDenied ? "Not connected" : "Cannot complete the connection";
  return withCookie(connect::errorPage(result.status, title, result.message), s.connect_flow, "");
}

Reply connectStatus(Services& s, const Request& req) {
  const auto [session_id] = http::pathUuids(req, {"session_id"});
  const auto status = s.connect_flow.status(session_id, http::cookie(req, connect::kCookieName));
  if (!status.found) return connect::statusJson(404, R"({"detail":"Connect session not found"})");
  json::Writer w;
  w.beginObject().key("connection_id").stringOrNull(status.connection_id);
  w.key("error").stringOrNull(status.error).key("location").stringOrNull(status.location);
  w.key("status").string(status.status).endObject();
  auto reply = connect::statusJson(200, w.str());
  // Once the session has ended the browser needs the cookie no more.
  return status.ended ? withCookie(std::move(reply), s.connect_flow, "") : reply;
}

Reply connectAsset(Services&, const Request& req) { return connect::asset(req.param(":name").as<std::string>()); }

}  // namespace hydra::cp::handlers
