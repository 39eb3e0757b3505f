// hydra-mock-oauth: a mock OAuth 2.0 token endpoint (RFC 6749 section 6) on loopback, for the
// token refresh tests. Started as a child process by tests/support/oauth_fixture.cpp.
//
//   hydra-mock-oauth [--port N] [--tls-cert PEM --tls-key PEM]
//
// --port 0, the default: any free port. With a certificate and key it serves HTTPS (for the
// test that a certificate the broker does not trust is refused). The first line on stdout is
// "listening on 127.0.0.1:<port>". SIGTERM or SIGINT stops it (requests in a slow answer are
// cut short) with exit code 0.
//
// POST /token  grant_type=refresh_token&refresh_token=...  (application/x-www-form-urlencoded)
//   or grant_type=authorization_code&code=...&redirect_uri=...[&code_verifier=...] (RFC 6749
//   section 4.1.3, RFC 7636): the code must be one the test added and not used yet (each is
//   single-use, as at a real provider), redirect_uri the one it was added with and, when it was
//   added with a code_challenge, base64url(SHA-256(code_verifier)) that challenge (S256); any
//   mismatch is 400 invalid_grant. A good code answers 200 with a new access and refresh token
//   (the refresh token is then valid for refreshes).
//   200 {"access_token","token_type","expires_in","refresh_token"?}: a valid refresh token.
//       With rotation the old one becomes invalid at once and a new one is returned;
//       without, the response carries no refresh_token (the client keeps its own).
//   400 {"error":"invalid_grant"}: a refresh token that is not (or no longer) valid, counted
//       in invalid_refresh_tokens and, if it was valid once, in reused_refresh_tokens.
//   401 {"error":"invalid_client"}: client authentication other than configured.
//   400 invalid_request / unsupported_grant_type: a malformed request.
//   The mode (below) may instead delay the answer, or answer 500, 429 or invalid_grant, or
//   "drip": 200 with a 4096-byte body sent one byte every delay_ms (an answer that never ends
//   in time, for the exchange deadline).
//
// Admin endpoints (JSON):
//   GET  /admin/state           counters, the last /token request, the valid refresh tokens
//   POST /admin/config          any subset of {"expires_in": s, "rotate": bool,
//                               "client_auth": "none"|"basic"|"post", "client_id", "client_secret",
//                               "mode": "normal"|"slow"|"drip"|"500"|"429"|"invalid_grant",
//                               "delay_ms": ms (slow), "error_description" (of invalid_grant), "mode_calls": K (the mode applies to the
//                               next K calls, then "normal"; 0 = until changed), "token_type"}
//   POST /admin/refresh-tokens  {"tokens": [...]} adds valid refresh tokens
// The authorization endpoint, for the connect flow's browser test (RFC 6749 section 4.1, with
// RFC 7636 S256): a page the user approves or denies on, as a provider's consent screen.
//   GET /authorize?response_type=code&client_id&redirect_uri&scope&state[&code_challenge&
//       code_challenge_method=S256]   an HTML page: the client, the scopes, "Approve" and "Deny"
//       links. A request without code, client_id, redirect_uri or state: 400.
//   GET /authorize/approve?<the same query>  issues a code for that redirect_uri and challenge
//       (as POST /admin/codes does) and redirects to redirect_uri?code=...&state=...
//   GET /authorize/deny?<the same query>     redirects to redirect_uri?error=access_denied&state=...
//   GET /done...                             200, a page: where a test's success_url/error_url go.
//
//   POST /admin/codes           {"codes": [{"code", "redirect_uri", "code_challenge"?}]} adds
//                               authorization codes (counters: code_calls, codes_exchanged)
//   POST /admin/reset           counters and last request back to zero (tokens and config stay)
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/SHA2Engine.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "shared/text/html_escape.hpp"

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;
using hydra::text::escapeHtml;

struct Config {
  long long expires_in = 3600;
  bool rotate = true;
  std::string client_auth = "none";  // none: not checked
  std::string client_id, client_secret;
  std::string mode = "normal";
  long long delay_ms = 0;
  long long mode_calls = 0;  // 0: the mode stays until changed
  std::string token_type = "Bearer";
  std::string error_description = "the mock refuses every grant";  // of the invalid_grant mode
};

struct Answer {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  long long drip_ms = 0;  // > 0: no body, but kDripBytes dripped one every drip_ms
};

constexpr int kDripBytes = 4096;

Answer jsonAnswer(int status, const std::string& body) { return {status, body, {}}; }

Answer oauthError(int status, const std::string& error, const std::string& description) {
  rapidjson::StringBuffer out;
  JsonWriter w(out);
  w.StartObject();
  w.Key("error");
  w.String(error);
  w.Key("error_description");
  w.String(description);
  w.EndObject();
  return jsonAnswer(status, out.GetString());
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// application/x-www-form-urlencoded decoding of one name or value; nullopt if malformed.
std::optional<std::string> formDecode(const std::string& in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hexValue(in[i + 1]), lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

/// The fields of a form body; a malformed encoding or a repeated field (RFC 6749 section 3.2:
/// parameters must not be included more than once) is an error.
std::optional<std::map<std::string, std::string>> parseForm(const std::string& body, std::string& error) {
  std::map<std::string, std::string> fields;
  std::size_t start = 0;
  while (start <= body.size()) {
    const auto end = std::min(body.find('&', start), body.size());
    const auto pair = body.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const auto name = formDecode(pair.substr(0, eq));
    const auto value = formDecode(eq == std::string::npos ? "" : pair.substr(eq + 1));
    if (!name || !value) {
      error = "malformed form encoding";
      return std::nullopt;
    }
    if (!fields.emplace(*name, *value).second) {
      error = "parameter " + *name + " included more than once";
      return std::nullopt;
    }
  }
  return fields;
}

std::string base64Decode(const std::string& in) {
  std::istringstream encoded(in);
  Poco::Base64Decoder decoder(encoded);
  std::string out;
  Poco::StreamCopier::copyToString(decoder, out);
  return out;
}

// RFC 7636 section 4.2: S256 = BASE64URL-ENCODE(SHA256(ASCII(code_verifier))), no padding.
std::string s256(const std::string& verifier) {
  Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
  sha.update(verifier);
  const auto& digest = sha.digest();
  std::ostringstream out;
  Poco::Base64Encoder encoder(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  encoder.write(reinterpret_cast<const char*>(digest.data()), static_cast<std::streamsize>(digest.size()));
  encoder.close();
  return out.str();
}

struct IssuedCode {
  std::string redirect_uri, code_challenge;  // challenge empty: no PKCE
  bool used = false;
};

class Mock {
 public:
  Answer token(const HTTPServerRequest& request, const std::string& body);
  Answer state();
  Answer configure(const std::string& body);
  Answer seed(const std::string& body);
  Answer addCodes(const std::string& body);
  /// GET /authorize and its /approve and /deny (`action`: "", "approve", "deny").
  Answer authorize(const std::string& action, const Poco::URI& uri);
  Answer reset();

  /// Waits `delay` unless stopping; false when stopping.
  bool pause(std::chrono::milliseconds delay) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !changed_.wait_for(lock, delay, [&] { return stopping_; });
  }
  /// Wakes every slow answer; later ones do not wait.
  void stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }

 private:
  /// nullopt when the configured client authentication is satisfied, else the 401.
  std::optional<Answer> checkClient(const std::map<std::string, std::string>& form,
                                    const std::optional<std::string>& authorization);
  Answer issue(const std::string& refresh_token);
  Answer exchangeCode(const std::map<std::string, std::string>& form);
  /// 200 {"access_token","token_type","expires_in","refresh_token"?}, as configured.
  Answer tokenAnswer(const std::string& access, const std::optional<std::string>& refresh) const;
  std::string newToken(const char* prefix) {
    static const char* digits = "0123456789abcdef";
    std::string out = std::string(prefix) + std::to_string(++serial_) + "-";
    for (int i = 0; i < 16; ++i) out += digits[std::rand() % 16];
    return out;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  Config config_;
  std::set<std::string> valid_, retired_;
  std::map<std::string, IssuedCode> codes_;
  long long code_calls_ = 0, codes_exchanged_ = 0;
  long long serial_ = 0;
  // Counters and what was last asked.
  long long token_calls_ = 0, refreshed_ = 0, invalid_ = 0, reused_ = 0, client_failures_ = 0;
  long long in_flight_ = 0, max_in_flight_ = 0;
  std::map<std::string, std::string> last_form_;
  std::optional<std::string> last_authorization_, last_content_type_;
  std::vector<std::string> presented_, issued_access_, issued_refresh_;
};

std::optional<Answer> Mock::checkClient(const std::map<std::string, std::string>& form,
                                        const std::optional<std::string>& authorization) {
  const auto failed = [&](const std::string& why) {
    ++client_failures_;
    auto answer = oauthError(401, "invalid_client", why);
    if (config_.client_auth == "basic") answer.headers.emplace_back("WWW-Authenticate", "Basic realm=\"mock\"");
    return answer;
  };
  const bool form_secret = form.count("client_secret") != 0;
  if (config_.client_auth == "basic") {
    if (form_secret) return failed("client_secret in the body while client_secret_basic is required");
    if (!authorization || authorization->rfind("Basic ", 0) != 0) return failed("no HTTP Basic client authentication");
    if (base64Decode(authorization->substr(6)) != config_.client_id + ":" + config_.client_secret) {
      return failed("wrong client id or secret (HTTP Basic)");
    }
    if (form.count("client_id") != 0 && form.at("client_id") != config_.client_id) return failed("client_id mismatch");
  } else if (config_.client_auth == "post") {
    if (authorization) return failed("an Authorization header while client_secret_post is required");
    const auto id = form.find("client_id"), secret = form.find("client_secret");
    if (id == form.end() || secret == form.end()) return failed("no client_id/client_secret in the body");
    if (id->second != config_.client_id || secret->second != config_.client_secret) {
      return failed("wrong client id or secret (body)");
    }
  }
  return std::nullopt;
}

Answer Mock::issue(const std::string& refresh_token) {
  ++refreshed_;
  const auto access = newToken("at-");
  issued_access_.push_back(access);
  std::optional<std::string> rotated;
  if (config_.rotate) {
    valid_.erase(refresh_token);
    retired_.insert(refresh_token);
    rotated = newToken("rt-");
    valid_.insert(*rotated);
    issued_refresh_.push_back(*rotated);
  }
  return tokenAnswer(access, rotated);
}

Answer Mock::token(const HTTPServerRequest& request, const std::string& body) {
  std::unique_lock<std::mutex> lock(mutex_);
  ++token_calls_;
  ++in_flight_;
  max_in_flight_ = std::max(max_in_flight_, in_flight_);
  struct Leave {
    long long& in_flight;
    ~Leave() { --in_flight; }
  } leave{in_flight_};

  std::optional<std::string> authorization;
  if (request.has("Authorization")) authorization = request.get("Authorization");
  last_authorization_ = authorization;
  last_content_type_ = request.has("Content-Type") ? std::optional<std::string>(request.getContentType()) : std::nullopt;
  std::string form_error;
  const auto form = parseForm(body, form_error);
  last_form_ = form ? *form : std::map<std::string, std::string>{};
  if (form && form->count("refresh_token") != 0) presented_.push_back(form->at("refresh_token"));

  // The mode of this call, counted down when it applies to the next K calls only.
  const auto mode = config_.mode;
  const auto delay = std::chrono::milliseconds(config_.delay_ms);
  if (config_.mode_calls > 0 && --config_.mode_calls == 0) {
    config_.mode = "normal";
    config_.delay_ms = 0;
  }
  if (mode == "500") return oauthError(500, "server_error", "the mock answers 500");
  if (mode == "429") {
    auto answer = oauthError(429, "slow_down", "the mock answers 429");
    answer.headers.emplace_back("Retry-After", "1");
    return answer;
  }
  if (mode == "invalid_grant") return oauthError(400, "invalid_grant", config_.error_description);
  if (mode == "drip") {
    Answer answer;
    answer.drip_ms = std::max<long long>(1, delay.count());
    return answer;
  }
  if (mode == "slow") {
    changed_.wait_for(lock, delay, [&] { return stopping_; });
    if (stopping_) return oauthError(503, "temporarily_unavailable", "the mock is stopping");
  }

  if (request.getMethod() != "POST") return oauthError(405, "invalid_request", "POST only");
  if (!last_content_type_ || last_content_type_->rfind("application/x-www-form-urlencoded", 0) != 0) {
    return oauthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
  }
  if (!form) return oauthError(400, "invalid_request", form_error);
  if (auto refused = checkClient(*form, authorization)) return *refused;
  const auto grant_type = form->find("grant_type");
  if (grant_type == form->end()) return oauthError(400, "invalid_request", "grant_type is missing");
  if (grant_type->second == "authorization_code") return exchangeCode(*form);
  if (grant_type->second != "refresh_token") {
    return oauthError(400, "unsupported_grant_type", "only refresh_token and authorization_code are supported");
  }
  const auto refresh_token = form->find("refresh_token");
  if (refresh_token == form->end() || refresh_token->second.empty()) {
    return oauthError(400, "invalid_request", "refresh_token is missing");
  }
  if (valid_.count(refresh_token->second) == 0) {
    ++invalid_;
    const bool reused = retired_.count(refresh_token->second) != 0;
    if (reused) ++reused_;
    return oauthError(400, "invalid_grant",
                      reused ? "refresh token already used (rotated)" : "unknown or revoked refresh token");
  }
  return issue(refresh_token->second);
}

Answer Mock::exchangeCode(const std::map<std::string, std::string>& form) {
  ++code_calls_;
  const auto field = [&](const char* name) {
    const auto it = form.find(name);
    return it == form.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
  };
  const auto code = field("code"), redirect_uri = field("redirect_uri"), verifier = field("code_verifier");
  if (!code || code->empty()) return oauthError(400, "invalid_request", "code is missing");
  const auto it = codes_.find(*code);
  if (it == codes_.end()) return oauthError(400, "invalid_grant", "unknown authorization code");
  if (it->second.used) return oauthError(400, "invalid_grant", "authorization code already used");
  it->second.used = true;  // used up by any attempt, as RFC 6749 section 4.1.2 asks
  if (!redirect_uri || *redirect_uri != it->second.redirect_uri) {
    return oauthError(400, "invalid_grant", "redirect_uri does not match the authorization request");
  }
  if (!it->second.code_challenge.empty() && (!verifier || s256(*verifier) != it->second.code_challenge)) {
    return oauthError(400, "invalid_grant", "code_verifier does not match the code_challenge");
  }
  ++codes_exchanged_;
  const auto refresh = newToken("rt-");
  valid_.insert(refresh);
  issued_refresh_.push_back(refresh);
  const auto access = newToken("at-");
  issued_access_.push_back(access);
  return tokenAnswer(access, refresh);
}

Answer Mock::tokenAnswer(const std::string& access, const std::optional<std::string>& refresh) const {
  rapidjson::StringBuffer out;
  JsonWriter w(out);
  w.StartObject();
  w.Key("access_token");
  w.String(access);
  w.Key("token_type");
  w.String(config_.token_type);
  w.Key("expires_in");
  w.Int64(config_.expires_in);
  if (refresh) {
    w.Key("refresh_token");
    w.String(*refresh);
  }
  w.EndObject();
  return jsonAnswer(200, out.GetString());
}

Answer Mock::addCodes(const std::string& body) {
  rapidjson::Document doc;
  if (doc.Parse(body.c_str(), body.size()).HasParseError() || !doc.IsObject() || !doc.HasMember("codes") ||
      !doc["codes"].IsArray()) {
    return oauthError(400, "invalid_request", R"({"codes": [...]} is expected)");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& c : doc["codes"].GetArray()) {
    if (!c.IsObject() || !c.HasMember("code") || !c["code"].IsString() || !c.HasMember("redirect_uri") ||
        !c["redirect_uri"].IsString() || (c.HasMember("code_challenge") && !c["code_challenge"].IsString())) {
      return oauthError(400, "invalid_request", "each code needs code and redirect_uri strings");
    }
  }
  for (const auto& c : doc["codes"].GetArray()) {
    codes_[c["code"].GetString()] =
        IssuedCode{c["redirect_uri"].GetString(), c.HasMember("code_challenge") ? c["code_challenge"].GetString() : "", false};
  }
  return jsonAnswer(200, "{}");
}

Answer htmlAnswer(int status, const std::string& body) {
  return Answer{status, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\"><title>mock provider</title></head><body>" +
                            body + "</body></html>\n",
                {{"Content-Type", "text/html; charset=utf-8"}}};
}

Answer redirectTo(const std::string& base, const std::vector<std::pair<std::string, std::string>>& params) {
  Poco::URI target(base);
  for (const auto& [name, value] : params) target.addQueryParameter(name, value);
  return Answer{302, "", {{"Location", target.toString()}}};
}

Answer Mock::authorize(const std::string& action, const Poco::URI& uri) {
  std::map<std::string, std::string> query;
  for (const auto& [name, value] : uri.getQueryParameters()) query[name] = value;
  for (const char* required : {"response_type", "client_id", "redirect_uri", "state"}) {
    if (query[required].empty()) return htmlAnswer(400, std::string("<p>missing ") + required + "</p>");
  }
  if (query["response_type"] != "code") return htmlAnswer(400, "<p>unsupported response_type</p>");
  const auto& challenge = query["code_challenge"];
  if (!challenge.empty() && query["code_challenge_method"] != "S256") return htmlAnswer(400, "<p>S256 only</p>");
  if (action == "deny") return redirectTo(query["redirect_uri"], {{"error", "access_denied"}, {"state", query["state"]}});
  if (action == "approve") {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto code = newToken("code-");
    codes_[code] = IssuedCode{query["redirect_uri"], challenge, false};
    return redirectTo(query["redirect_uri"], {{"code", code}, {"state", query["state"]}});
  }
  const auto rawQuery = escapeHtml(uri.getRawQuery());
  return htmlAnswer(200, "<h1>Mock provider</h1><p id=\"client\">" + escapeHtml(query["client_id"]) +
                             "</p><p id=\"scope\">" + escapeHtml(query["scope"]) + "</p>"
                             "<a id=\"approve\" href=\"/authorize/approve?" + rawQuery + "\">Approve</a> "
                             "<a id=\"deny\" href=\"/authorize/deny?" + rawQuery + "\">Deny</a>");
}

void writeStrings(JsonWriter& w, const char* key, const std::vector<std::string>& values) {
  w.Key(key);
  w.StartArray();
  for (const auto& v : values) w.String(v);
  w.EndArray();
}

void writeOptional(JsonWriter& w, const char* key, const std::optional<std::string>& value) {
  w.Key(key);
  if (value) {
    w.String(*value);
  } else {
    w.Null();
  }
}

Answer Mock::state() {
  std::lock_guard<std::mutex> lock(mutex_);
  rapidjson::StringBuffer out;
  JsonWriter w(out);
  w.StartObject();
  const std::pair<const char*, long long> counters[] = {
      {"token_calls", token_calls_},       {"refreshed", refreshed_},
      {"invalid_refresh_tokens", invalid_}, {"reused_refresh_tokens", reused_},
      {"client_auth_failures", client_failures_}, {"max_concurrent_calls", max_in_flight_},
      {"code_calls", code_calls_}, {"codes_exchanged", codes_exchanged_},
  };
  for (const auto& [key, value] : counters) {
    w.Key(key);
    w.Int64(value);
  }
  w.Key("last_form");
  w.StartObject();
  for (const auto& [name, value] : last_form_) {
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    w.String(value);
  }
  w.EndObject();
  writeOptional(w, "last_authorization", last_authorization_);
  writeOptional(w, "last_content_type", last_content_type_);
  writeStrings(w, "valid_refresh_tokens", {valid_.begin(), valid_.end()});
  writeStrings(w, "presented_refresh_tokens", presented_);
  writeStrings(w, "issued_access_tokens", issued_access_);
  writeStrings(w, "issued_refresh_tokens", issued_refresh_);
  w.Key("mode");
  w.String(config_.mode);
  w.EndObject();
  return jsonAnswer(200, out.GetString());
}

Answer Mock::configure(const std::string& body) {
  rapidjson::Document doc;
  if (doc.Parse(body.c_str(), body.size()).HasParseError() || !doc.IsObject()) {
    return oauthError(400, "invalid_request", "a JSON object is expected");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  Config next = config_;
  for (const auto& m : doc.GetObject()) {
    const std::string key = m.name.GetString();
    const auto& v = m.value;
    const auto bad = [&] { return oauthError(400, "invalid_request", "bad value for " + key); };
    if (key == "expires_in" || key == "delay_ms" || key == "mode_calls") {
      if (!v.IsInt64() || v.GetInt64() < 0) return bad();
      (key == "expires_in" ? next.expires_in : key == "delay_ms" ? next.delay_ms : next.mode_calls) = v.GetInt64();
    } else if (key == "rotate") {
      if (!v.IsBool()) return bad();
      next.rotate = v.GetBool();
    } else if (key == "client_auth" || key == "client_id" || key == "client_secret" || key == "mode" ||
               key == "token_type" || key == "error_description") {
      if (!v.IsString()) return bad();
      const std::string s = v.GetString();
      if (key == "client_auth") {
        if (s != "none" && s != "basic" && s != "post") return bad();
        next.client_auth = s;
      } else if (key == "mode") {
        if (s != "normal" && s != "slow" && s != "drip" && s != "500" && s != "429" && s != "invalid_grant") return bad();
        next.mode = s;
      } else if (key == "error_description") {
        next.error_description = s;
      } else {
        (key == "client_id" ? next.client_id : key == "client_secret" ? next.client_secret : next.token_type) = s;
      }
    } else {
      return oauthError(400, "invalid_request", "unknown setting " + key);
    }
  }
  config_ = next;
  return jsonAnswer(200, "{}");
}

Answer Mock::seed(const std::string& body) {
  rapidjson::Document doc;
  if (doc.Parse(body.c_str(), body.size()).HasParseError() || !doc.IsObject() || !doc.HasMember("tokens") ||
      !doc["tokens"].IsArray()) {
    return oauthError(400, "invalid_request", R"({"tokens": [...]} is expected)");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& t : doc["tokens"].GetArray()) {
    if (!t.IsString()) return oauthError(400, "invalid_request", "tokens must be strings");
  }
  for (const auto& t : doc["tokens"].GetArray()) valid_.insert(t.GetString());
  return jsonAnswer(200, "{}");
}

Answer Mock::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  token_calls_ = refreshed_ = invalid_ = reused_ = client_failures_ = max_in_flight_ = 0;
  code_calls_ = codes_exchanged_ = 0;
  last_form_.clear();
  last_authorization_.reset();
  last_content_type_.reset();
  presented_.clear();
  issued_access_.clear();
  issued_refresh_.clear();
  return jsonAnswer(200, "{}");
}

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(Mock& mock) : mock_(mock) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    std::string body;
    Poco::StreamCopier::copyToString(request.stream(), body);
    const auto& path = request.getURI();
    const auto& method = request.getMethod();
    Answer answer;
    const Poco::URI uri(path);
    if (path == "/token") {
      answer = mock_.token(request, body);
    } else if (uri.getPath() == "/authorize" && method == "GET") {
      answer = mock_.authorize("", uri);
    } else if (uri.getPath() == "/authorize/approve" && method == "GET") {
      answer = mock_.authorize("approve", uri);
    } else if (uri.getPath() == "/authorize/deny" && method == "GET") {
      answer = mock_.authorize("deny", uri);
    } else if (uri.getPath().rfind("/done", 0) == 0 && method == "GET") {
      answer = htmlAnswer(200, "<p id=\"done\">done</p>");
    } else if (path == "/admin/state" && method == "GET") {
      answer = mock_.state();
    } else if (path == "/admin/config" && method == "POST") {
      answer = mock_.configure(body);
    } else if (path == "/admin/refresh-tokens" && method == "POST") {
      answer = mock_.seed(body);
    } else if (path == "/admin/codes" && method == "POST") {
      answer = mock_.addCodes(body);
    } else if (path == "/admin/reset" && method == "POST") {
      answer = mock_.reset();
    } else {
      answer = oauthError(404, "not_found", method + " " + path);
    }
    const auto status = static_cast<HTTPResponse::HTTPStatus>(answer.status);
    response.setStatusAndReason(status, HTTPResponse::getReasonForStatus(status));
    response.setContentType("application/json");
    response.set("Cache-Control", "no-store");
    for (const auto& [name, value] : answer.headers) response.set(name, value);
    if (answer.drip_ms > 0) {
      response.setContentLength(kDripBytes);
      auto& out = response.send();
      for (int i = 0; i < kDripBytes && out && mock_.pause(std::chrono::milliseconds(answer.drip_ms)); ++i) {
        out << ' ' << std::flush;
      }
      return;
    }
    response.sendBuffer(answer.body.data(), answer.body.size());
  }

 private:
  Mock& mock_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(Mock& mock) : mock_(mock) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override { return new Handler(mock_); }

 private:
  Mock& mock_;
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  std::string tls_cert, tls_key;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (arg == "--tls-cert" && i + 1 < argc) {
      tls_cert = argv[++i];
    } else if (arg == "--tls-key" && i + 1 < argc) {
      tls_key = argv[++i];
    } else {
      std::cerr << "usage: hydra-mock-oauth [--port N] [--tls-cert PEM --tls-key PEM]\n";
      return 2;
    }
  }
  // Blocked here, so every server thread inherits the mask and sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::srand(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));

  try {
    Mock mock;
    const Poco::Net::SocketAddress address("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Net::ServerSocket socket;
    if (tls_cert.empty()) {
      socket = Poco::Net::ServerSocket(address);
    } else {
      Poco::Net::initializeSSL();
      Poco::Net::Context::Ptr context =
          new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, tls_key, tls_cert, "", Poco::Net::Context::VERIFY_NONE);
      socket = Poco::Net::SecureServerSocket(address, 64, context);
    }
    Poco::ThreadPool pool(2, 64);
    auto params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(64);
    params->setMaxQueued(256);
    Poco::Net::HTTPServer server(new Factory(mock), pool, socket, params);
    server.start();
    std::cout << "listening on 127.0.0.1:" << socket.address().port() << std::endl;

    int received = 0;
    sigwait(&signals, &received);
    mock.stop();
    server.stopAll(true);
    pool.joinAll();
    std::cerr << "hydra-mock-oauth: stopped by signal " << received << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "hydra-mock-oauth: " << e.what() << std::endl;
    return 1;
  }
}
