// Response encoding. Field order follows the API document (alphabetical, as FastAPI emits).
#include "control-plane/model/resources.hpp"

#include "shared/json/writer.hpp"

namespace hydra::cp::model {
namespace {

void write(json::Writer& w, const ApiKey& key) {
  w.beginObject();
  if (key.secret) w.key("api_key").string(*key.secret);
  w.key("created_at").string(key.created_at);
  w.key("id").string(key.id);
  w.key("name").string(key.name);
  w.key("revoked_at").stringOrNull(key.revoked_at);
  w.endObject();
}

void write(json::Writer& w, const Instance& instance) {
  w.beginObject().key("created_at").string(instance.created_at);
  w.key("disabled").boolean(instance.disabled).key("id").string(instance.id);
  w.key("name").string(instance.name).endObject();
}

void write(json::Writer& w, const ProxyKey& key) {
  w.beginObject();
  w.key("allowed_cidrs").stringsOrNull(key.allowed_cidrs);
  w.key("created_at").string(key.created_at);
  w.key("expires_at").stringOrNull(key.expires_at);
  w.key("id").string(key.id);
  w.key("instance_id").string(key.instance_id);
  if (key.secret) w.key("proxy_key").string(*key.secret);
  w.key("revoked_at").stringOrNull(key.revoked_at);
  w.endObject();
}

void write(json::Writer& w, const AuditEvent& e) {
  w.beginObject();
  w.key("capability").stringOrNull(e.capability);
  w.key("connection_id").stringOrNull(e.connection_id);
  w.key("duration_us").integerOrNull(e.duration_us);
  w.key("id").integer(e.id);
  w.key("instance_id").stringOrNull(e.instance_id);
  w.key("method").stringOrNull(e.method);
  w.key("name").stringOrNull(e.name);
  w.key("occurred_at").string(e.occurred_at);
  w.key("outcome").string(e.outcome);
  w.key("path").stringOrNull(e.path);
  w.key("peer").stringOrNull(e.peer);
  w.key("provider").stringOrNull(e.provider);
  w.key("proxy_key_id").stringOrNull(e.proxy_key_id);
  w.key("reason").string(e.reason);
  w.key("request_bytes").integerOrNull(e.request_bytes);
  w.key("request_id").string(e.request_id);
  w.key("response_bytes").integerOrNull(e.response_bytes);
  w.key("upstream_status").integerOrNull(e.upstream_status);
  w.endObject();
}

void write(json::Writer& w, const Grant& grant) {
  w.beginObject();
  w.key("capabilities").rawOrNull(grant.capabilities_json);
  w.key("connection_id").string(grant.connection_id);
  w.key("expires_at").stringOrNull(grant.expires_at);
  w.key("granted_at").string(grant.granted_at);
  w.key("id").string(grant.id);
  w.key("instance_id").string(grant.instance_id);
  w.key("proxy_only").boolean(grant.proxy_only);
  w.key("rate_limit");
  if (grant.rate_limit) {
    w.beginObject().key("per_seconds").integer(grant.rate_limit->per_seconds);
    w.key("requests").integer(grant.rate_limit->requests).endObject();
  } else {
    w.null();
  }
  w.endObject();
}

void write(json::Writer& w, const Connection& c) {
  w.beginObject();
  w.key("auth_type").string(c.auth_type);
  w.key("created_at").string(c.created_at);
  w.key("customer_id").string(c.customer_id);
  w.key("error_message").stringOrNull(c.error_message);
  w.key("expires_at").stringOrNull(c.expires_at);
  w.key("grants").beginArray();
  for (const auto& grant : c.grants) write(w, grant);
  w.endArray();
  w.key("id").string(c.id);
  w.key("last_used_at").stringOrNull(c.last_used_at);
  w.key("metadata_json").rawOrNull(c.metadata_json);
  w.key("name").string(c.name);
  w.key("provider").string(c.provider);
  w.key("scopes").rawOrNull(c.scopes_json);
  w.key("status").string(c.status);
  w.key("updated_at").string(c.updated_at);
  w.endObject();
}

void write(json::Writer& w, const WebhookEndpoint& e) {
  w.beginObject();
  w.key("created_at").string(e.created_at);
  w.key("description").string(e.description);
  w.key("disabled_reason").stringOrNull(e.disabled_reason);
  w.key("enabled").boolean(e.enabled);
  w.key("events").rawOrNull(e.events_json);
  w.key("id").string(e.id);
  w.key("previous_secret_expires_at").stringOrNull(e.previous_secret_expires_at);
  if (e.secret) w.key("secret").string(*e.secret);
  w.key("updated_at").string(e.updated_at);
  w.key("url").string(e.url);
  w.endObject();
}

void write(json::Writer& w, const WebhookDelivery& d) {
  w.beginObject();
  w.key("attempts").integer(d.attempts);
  w.key("created_at").string(d.created_at);
  w.key("event_type").string(d.event_type);
  w.key("id").integer(d.id);
  w.key("last_attempt_at").stringOrNull(d.last_attempt_at);
  w.key("last_error").stringOrNull(d.last_error);
  w.key("last_response").stringOrNull(d.last_response);
  w.key("last_status_code").integerOrNull(d.last_status_code);
  w.key("next_attempt_at").stringOrNull(d.next_attempt_at);
  w.key("state").string(d.state);
  w.key("webhook_id").string(d.webhook_id);
  w.endObject();
}

template <typename T>
std::string one(const T& item) {
  json::Writer w;
  write(w, item);
  return w.str();
}

template <typename T>
void items(json::Writer& w, const char* key, const std::vector<T>& list) {
  w.key(key).beginArray();
  for (const auto& item : list) write(w, item);
  w.endArray();
}

template <typename T>
std::string listOf(const char* key, const std::vector<T>& list) {
  json::Writer w;
  w.beginObject();
  items(w, key, list);
  w.endObject();
  return w.str();
}

// A page of a newest-first list, and the cursor of the next page (null: there is none).
template <typename T>
std::string pageOf(const char* key, const std::vector<T>& list, std::optional<long long> next_before) {
  json::Writer w;
  w.beginObject();
  items(w, key, list);
  w.key("next_before").integerOrNull(next_before).endObject();
  return w.str();
}

}  // namespace

std::string toJson(const Customer& customer) {
  json::Writer w;
  w.beginObject().key("created_at").string(customer.created_at).key("id").string(customer.id);
  w.key("name").string(customer.name).endObject();
  return w.str();
}

std::string toJson(const ApiKey& key) { return one(key); }
std::string toJson(const std::vector<ApiKey>& keys) { return listOf("api_keys", keys); }
std::string toJson(const Instance& instance) { return one(instance); }
std::string toJson(const std::vector<Instance>& instances) { return listOf("instances", instances); }
std::string toJson(const ProxyKey& key) { return one(key); }
std::string toJson(const std::vector<ProxyKey>& keys) { return listOf("proxy_keys", keys); }
std::string toJson(const Grant& grant) { return one(grant); }
std::string toJson(const std::vector<Grant>& grants) { return listOf("grants", grants); }
std::string toJson(const Connection& connection) { return one(connection); }

std::string toJson(const WebhookEndpoint& endpoint) { return one(endpoint); }
std::string toJson(const std::vector<WebhookEndpoint>& endpoints) { return listOf("webhook_endpoints", endpoints); }

std::string toJson(const std::vector<WebhookDelivery>& deliveries, std::optional<long long> next_before) {
  return pageOf("deliveries", deliveries, next_before);
}

std::string toJson(const std::vector<AuditEvent>& events, std::optional<long long> next_before) {
  return pageOf("events", events, next_before);
}

std::string toJsonLines(const std::vector<AuditEvent>& events) {
  std::string lines;
  for (const auto& event : events) {
    json::Writer w;  // one writer per line: a RapidJSON writer takes one root value
    write(w, event);
    lines += w.str();
    lines += '\n';
  }
  return lines;
}

std::string toJson(const std::vector<Connection>& page, long long total) {
  json::Writer w;
  w.beginObject();
  items(w, "connections", page);
  w.key("total").integer(total).endObject();
  return w.str();
}

}  // namespace hydra::cp::model
