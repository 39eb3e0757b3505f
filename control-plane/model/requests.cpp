// Validation of request bodies, with pydantic's rules and wording.
#include "control-plane/model/resources.hpp"

#include <algorithm>
#include <ctime>

#include "control-plane/webhooks/events.hpp"

#include "shared/json/reader.hpp"
#include "shared/json/writer.hpp"
#include "shared/net/address.hpp"
#include "shared/oauth/token_fields.hpp"

namespace hydra::cp::model {
namespace {

constexpr std::size_t kMaxName = 255;
constexpr std::size_t kMaxProvider = 50;
constexpr std::size_t kMaxCidrs = 32;
constexpr long long kOneYear = 365LL * 24 * 3600;
constexpr std::size_t kMaxDescription = 1024;
// A grant's rate limit; schema/0019 checks the same ranges.
constexpr long long kMaxRateRequests = 1000000;
constexpr long long kMaxRatePeriod = 86400;  // a day

std::string stringsToJson(const std::vector<std::string>& values) {
  json::Writer w;
  w.strings(values);
  return w.str();
}

// A webhook URL: a string of at most 2048 characters that the URL rules accept.
std::optional<std::string> webhookUrl(json::ObjectReader& in, http::Problems& problems, bool required,
                                      const webhooks::UrlRules& rules) {
  auto url = in.string("url", required, 1, webhooks::kMaxUrlLength);
  if (!url) return std::nullopt;
  try {
    webhooks::checkEndpointUrl(*url, rules);
  } catch (const webhooks::UrlRefused& e) {
    problems.add({"body", "url"}, std::string("Value error, ") + e.what(), "value_error");
    return std::nullopt;
  }
  return url;
}

// Webhook event types: at least one, each a known type; repeats are dropped.
std::optional<std::vector<std::string>> webhookEvents(json::ObjectReader& in, http::Problems& problems) {
  auto events = in.stringArray("events", false);
  if (!events) return std::nullopt;
  if (events->empty()) {
    problems.add({"body", "events"}, "List should have at least 1 item after validation, not 0", "too_short");
    return std::nullopt;
  }
  const auto& known = webhooks::events::all();
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < events->size(); ++i) {
    const auto& event = (*events)[i];
    if (std::find(known.begin(), known.end(), event) == known.end()) {
      problems.add({"body", "events", static_cast<int>(i)}, json::msg::oneOf(known), "literal_error");
      ok = false;
    } else if (std::find(out.begin(), out.end(), event) == out.end()) {
      out.push_back(event);
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

NameInput NameInput::fromJson(const rapidjson::Document& body, bool required) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  auto name = in.string("name", required, required ? 1 : 0, kMaxName);
  problems.throwIfAny();
  return {name.value_or("")};
}

ConnectionCreate ConnectionCreate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  ConnectionCreate out;
  const auto auth_type = in.oneOf("auth_type", {"oauth2", "api_key", "basic"}, std::string("oauth2"));
  const auto* credentials = in.object("credentials", true);
  const auto* metadata = in.object("metadata_json", false);
  const auto name = in.string("name", true, 1, kMaxName);
  const auto provider = in.string("provider", true, 1, kMaxProvider);
  // The API document types scopes as an untyped list: any JSON values, stored as given.
  const auto* scopes = in.array("scopes", false);
  problems.throwIfAny();

  out.auth_type = *auth_type;
  out.credentials_json = json::toString(*credentials);
  if (metadata != nullptr) out.metadata_json = json::toString(*metadata);
  out.name = *name;
  out.provider = *provider;
  out.scopes_json = scopes != nullptr ? json::toString(*scopes) : "[]";
  return out;
}

ConnectionUpdate ConnectionUpdate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  ConnectionUpdate out;
  // An explicit null leaves a field unchanged, except metadata_json, where it clears it.
  out.name = in.string("name", false, 1, kMaxName);
  if (const auto* scopes = in.array("scopes", false)) out.scopes_json = json::toString(*scopes);
  out.replace_metadata = in.has("metadata_json");
  if (const auto* metadata = in.object("metadata_json", false)) out.metadata_json = json::toString(*metadata);
  if (const auto* credentials = in.object("credentials", false)) out.credentials_json = json::toString(*credentials);
  problems.throwIfAny();
  return out;
}

InstanceUpdate InstanceUpdate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  InstanceUpdate out;
  out.name = in.string("name", false, 1, kMaxName);
  out.disabled = in.boolean("disabled", false);
  problems.throwIfAny();
  return out;
}

ProxyKeyCreate ProxyKeyCreate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  ProxyKeyCreate out;
  out.expires_in_seconds = in.integer("expires_in_seconds", false, 60, kOneYear);
  if (const auto cidrs = in.stringArray("allowed_cidrs", false)) {
    if (cidrs->empty() || cidrs->size() > kMaxCidrs) {
      problems.add({"body", "allowed_cidrs"},
                   "List should have between 1 and " + std::to_string(kMaxCidrs) + " items, not " +
                       std::to_string(cidrs->size()),
                   cidrs->empty() ? "too_short" : "too_long");
    } else {
      out.allowed_cidrs.emplace();
      for (std::size_t i = 0; i < cidrs->size(); ++i) {
        const auto cidr = net::parseCidr((*cidrs)[i]);
        if (!cidr) {
          problems.add({"body", "allowed_cidrs", static_cast<int>(i)},
                       "Input should be an IPv4 or IPv6 network in CIDR notation (e.g. 10.0.0.0/8), without host bits",
                       "ip_any_network");
          continue;
        }
        out.allowed_cidrs->push_back(net::toString(*cidr));
      }
    }
  }
  problems.throwIfAny();
  return out;
}

namespace {

// expires_at (RFC 3339, in the future) or expires_in_seconds; records problems.
// `loc`: where the grant object is ({"body"}, or {"body", "grants", i} in a connect session).
std::vector<http::LocPart> locAt(std::vector<http::LocPart> loc, const char* key) {
  loc.emplace_back(std::string(key));
  return loc;
}

GrantExpiry readExpiry(json::ObjectReader& in, http::Problems& problems, const std::vector<http::LocPart>& loc) {
  GrantExpiry expiry;
  expiry.in_seconds = in.integer("expires_in_seconds", false, 60, kOneYear);
  expiry.at = in.string("expires_at", false, 1, 64);
  if (expiry.at) {
    const auto at = oauth::parseTime(*expiry.at);
    if (!at) {
      problems.add(locAt(loc, "expires_at"), "Input should be a valid datetime (RFC 3339)", "datetime_parsing");
    } else if (*at <= std::time(nullptr)) {
      problems.add(locAt(loc, "expires_at"), "Input should be in the future", "datetime_future");
    } else {
      // PostgreSQL gets the instant in UTC: it refuses offsets beyond 15:59, which RFC 3339
      // allows (they were a 500). Whole seconds: a grant ends up to a second earlier, never later.
      expiry.at = oauth::formatTime(*at);
    }
  }
  if (expiry.at && expiry.in_seconds) {
    problems.add(loc, "Value error, give expires_at or expires_in_seconds, not both", "value_error");
  }
  return expiry;
}

// "rate_limit": {"requests": 1..1,000,000, "per_seconds": 1..86,400}, both required, nothing
// else (a misspelt "burst" must not pass for a setting that does nothing); null or absent: none.
std::optional<RateLimit> readRateLimit(json::ObjectReader& in, http::Problems& problems,
                                      const std::vector<http::LocPart>& loc) {
  const auto* value = in.object("rate_limit", false);
  if (value == nullptr) return std::nullopt;
  json::ObjectReader limit(*value, locAt(loc, "rate_limit"), problems);
  const auto per_seconds = limit.integer("per_seconds", true, 1, kMaxRatePeriod);
  const auto requests = limit.integer("requests", true, 1, kMaxRateRequests);
  limit.forbidOthers({"per_seconds", "requests"});
  if (!per_seconds || !requests) return std::nullopt;
  return RateLimit{*requests, *per_seconds};
}

}  // namespace

GrantCreate GrantCreate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  auto grant = read(body, {"body"}, problems);
  problems.throwIfAny();
  return std::move(*grant);
}

std::optional<GrantCreate> GrantCreate::read(const rapidjson::Value& object, std::vector<http::LocPart> loc,
                                             http::Problems& problems) {
  http::Problems mine;
  json::ObjectReader in(object, loc, mine);
  const auto capabilities = in.stringArray("capabilities", true);
  const auto instance_id = in.uuid("instance_id", true);
  const auto expiry = readExpiry(in, mine, loc);
  const auto proxy_only = in.boolean("proxy_only", false);
  const auto rate_limit = readRateLimit(in, mine, loc);
  if (!mine.empty()) {
    mine.moveInto(problems);
    return std::nullopt;
  }
  return GrantCreate{*instance_id, stringsToJson(*capabilities), expiry, proxy_only.value_or(false), rate_limit};
}

GrantUpdate GrantUpdate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  GrantUpdate out;
  if (const auto capabilities = in.stringArray("capabilities", false)) out.capabilities_json = stringsToJson(*capabilities);
  // "expires_at": null removes the expiry; absent leaves it as it is.
  out.change_expiry = in.has("expires_at") || in.has("expires_in_seconds");
  out.expiry = readExpiry(in, problems, {"body"});
  // "proxy_only": null leaves it as it is, like the other fields; "rate_limit": null removes it.
  out.proxy_only = in.boolean("proxy_only", false);
  out.change_rate_limit = in.has("rate_limit");
  out.rate_limit = readRateLimit(in, problems, {"body"});
  problems.throwIfAny();
  return out;
}

WebhookEndpointCreate WebhookEndpointCreate::fromJson(const rapidjson::Document& body, const webhooks::UrlRules& rules) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  const auto description = in.string("description", false, 0, kMaxDescription);
  const auto events = webhookEvents(in, problems);
  const auto url = webhookUrl(in, problems, true, rules);
  problems.throwIfAny();
  return {*url, description.value_or(""), events.value_or(webhooks::events::all())};
}

WebhookEndpointUpdate WebhookEndpointUpdate::fromJson(const rapidjson::Document& body, const webhooks::UrlRules& rules) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  WebhookEndpointUpdate out;
  out.description = in.string("description", false, 0, kMaxDescription);
  out.enabled = in.boolean("enabled", false);
  out.events = webhookEvents(in, problems);
  out.url = webhookUrl(in, problems, false, rules);
  problems.throwIfAny();
  return out;
}

}  // namespace hydra::cp::model
