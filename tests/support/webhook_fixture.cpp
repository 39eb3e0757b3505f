#include "tests/support/webhook_fixture.hpp"

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <thread>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace hydra::test {
namespace {

using namespace std::chrono_literals;

std::string quoted(const std::string& s) {
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  w.String(s);
  return out.GetString();
}

}  // namespace

std::string webhookReceiverBinary() { return HYDRA_WEBHOOK_RECEIVER_BIN; }

WebhookReceiver::WebhookReceiver(const std::vector<std::string>& args)
    : child_(webhookReceiverBinary(), args, {}),
      scheme_(std::find(args.begin(), args.end(), "--tls-cert") == args.end() ? "http" : "https") {
  static const std::regex listening(R"(^listening on 127\.0\.0\.1:(\d+), admin on 127\.0\.0\.1:(\d+)\n)");
  std::smatch match;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    const auto out = child_.out();
    if (std::regex_search(out, match, listening)) break;
    if (std::chrono::steady_clock::now() > deadline || !child_.running()) {
      child_.terminate();
      throw std::runtime_error("hydra-webhook-receiver did not start; its output:\n" + log());
    }
    std::this_thread::sleep_for(10ms);
  }
  port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
  admin_port_ = static_cast<std::uint16_t>(std::stoi(match[2].str()));
}

std::string WebhookReceiver::url(const std::string& path, const std::string& host) const {
  return scheme_ + "://" + host + ":" + std::to_string(port_) + path;
}

void WebhookReceiver::configure(const std::string& path, const std::vector<std::string>& secrets,
                                const std::string& settings) const {
  std::string list;
  for (const auto& s : secrets) list += (list.empty() ? "" : ",") + quoted(s);
  const auto body =
      R"({"path":)" + quoted(path) + R"(,"secrets":[)" + list + "]" + (settings.empty() ? "" : "," + settings) + "}";
  expectStatus(HttpClient(admin_port_).request("POST", "/admin/paths", body), 200, "receiver config " + body);
}

std::vector<ReceivedWebhook> WebhookReceiver::received(const std::string& path) const {
  const auto r = HttpClient(admin_port_).request("GET", "/admin/requests" + (path.empty() ? "" : "?path=" + path));
  expectStatus(r, 200, "receiver requests");
  std::vector<ReceivedWebhook> out;
  for (const auto* item : items(member(r.json, "requests"))) {
    ReceivedWebhook w;
    w.path = text(*item, "path");
    w.webhook_id = text(*item, "webhook_id");
    w.webhook_timestamp = text(*item, "webhook_timestamp");
    w.webhook_signature = text(*item, "webhook_signature");
    w.body = text(*item, "body");
    w.content_type = text(*item, "content_type");
    w.host = text(*item, "host");
    w.verified = member(*item, "verified").IsTrue();
    for (const auto* i : items(member(*item, "matched_secrets"))) w.matched_secrets.push_back(i->GetInt());
    w.received_ms = member(*item, "received_ms").GetInt64();
    w.answered = member(*item, "answered").GetInt();
    out.push_back(std::move(w));
  }
  return out;
}

std::vector<ReceivedWebhook> WebhookReceiver::await(const std::string& path, std::size_t n,
                                                    std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto got = received(path);
    if (got.size() >= n || std::chrono::steady_clock::now() >= deadline) return got;
    std::this_thread::sleep_for(50ms);
  }
}

Environment webhookSettings(const Environment& extra) {
  return withSettings(
      {
          {"HYDRA_WEBHOOK_ALLOW_LOOPBACK", "1"},
          {"HYDRA_WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8,::1/128"},
          {"HYDRA_WEBHOOK_RETRY_SCHEDULE", "0,1,1"},
          {"HYDRA_WEBHOOK_TIMEOUT_SECONDS", "3"},
      },
      extra);
}

WebhookEndpoint WebhookStack::addEndpoint(const Tenant& owner, const std::string& path, const std::string& members,
                                          const std::string& receiver_settings) const {
  const auto body = R"({"url":)" + quoted(receiver.url(path)) + (members.empty() ? "" : "," + members) + "}";
  const auto r = as(owner, "POST", owner.path() + "/webhook-endpoints", body);
  expectStatus(r, 201, "create webhook endpoint");
  WebhookEndpoint endpoint{text(r.json, "id"), text(r.json, "secret"), path};
  receiver.configure(path, {endpoint.secret}, receiver_settings);
  return endpoint;
}

Response WebhookStack::deliveries(const std::string& endpoint_id, const std::string& query) const {
  auto r = as(tenant, "GET", tenant.path() + "/webhook-endpoints/" + endpoint_id + "/deliveries?" + query);
  expectStatus(r, 200, "list deliveries");
  return r;
}

rapidjson::Document WebhookStack::delivery(const std::string& endpoint_id, const std::string& webhook_id) const {
  const auto r = deliveries(endpoint_id);
  for (const auto* d : items(member(r.json, "deliveries"))) {
    if (text(*d, "webhook_id") == webhook_id) {
      rapidjson::Document out;
      out.CopyFrom(*d, out.GetAllocator());
      return out;
    }
  }
  throw std::runtime_error("no delivery of " + webhook_id + " in " + r.body);
}

bool WebhookStack::awaitState(const std::string& endpoint_id, const std::string& webhook_id, const std::string& state,
                              std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    try {
      if (text(delivery(endpoint_id, webhook_id), "state") == state) return true;
    } catch (const std::runtime_error&) {
      // not listed yet
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

rapidjson::Document payloadOf(const ReceivedWebhook& r) {
  rapidjson::Document doc;
  if (doc.Parse(r.body.c_str(), r.body.size()).HasParseError())
    throw std::runtime_error("delivery body is not JSON: " + r.body);
  return doc;
}

}  // namespace hydra::test
