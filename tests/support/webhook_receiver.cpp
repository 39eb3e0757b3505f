// hydra-webhook-receiver: a webhook receiver on loopback for the webhook tests (issue 10). Started
// as a child process by tests/support/webhook_fixture.cpp.
//
//   hydra-webhook-receiver [--tls-cert PEM --tls-key PEM]
//
// Two free ports: deliveries on one (HTTPS with a certificate and key), the admin API (plain
// http) on the other; the first line on stdout is "listening on 127.0.0.1:<port>, admin on
// 127.0.0.1:<port>". SIGTERM or SIGINT stops it (held requests are let go) with exit code 0.
//
// Every request to the delivery port is a webhook delivery. It is verified with this
// program's own Standard Webhooks 1.0 implementation (HMAC-SHA256 built here on Poco's SHA-2,
// base64 from Poco: no code shared with the control plane's Botan signer), recorded, and answered
// as the path is configured:
//
// Admin API:
// POST /admin/paths  {"path": "/a", "secrets": ["whsec_..."], "mode": "ok"|"fail"|"gone"|"hang"|"status",
//                     "times": N, "status": S, "retry_after": "...", "hang_ms": ms, "tolerance_seconds": s}
//   ok      200
//   fail    S (default 500) to the first N requests (0: to all), then 200
//   gone    410
//   hang    holds the first N requests (0: all) for hang_ms (default 60000) or until stopped, then 200
//   status  S to every request
//   retry_after: a Retry-After header on every answer that is not 2xx.
//   answer_size: the answer's body is this many bytes ('x'), instead of a short JSON object.
//   tolerance_seconds: how far webhook-timestamp may be from now (default 300; 0: not checked).
//   A path that was never configured is answered 404 (and recorded).
// GET /admin/requests?path=/a  {"requests": [{"path", "webhook_id", "webhook_timestamp",
//   "webhook_signature", "body", "content_type", "host", "verified", "matched_secrets": [i...],
//   "received_ms", "answered"}]} in arrival order; "matched_secrets" lists which configured
//   secrets produced one of the signatures.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/SHA2Engine.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;
using Bytes = std::string;

// Standard Webhooks verification, written from the specification ----------------------------

Bytes sha256(const Bytes& data) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(data.data(), static_cast<unsigned>(data.size()));
  const auto& digest = engine.digest();
  return Bytes(digest.begin(), digest.end());
}

// RFC 2104: H((K ^ opad) || H((K ^ ipad) || m)), 64-byte blocks.
Bytes hmacSha256(Bytes key, const Bytes& message) {
  constexpr std::size_t kBlock = 64;
  if (key.size() > kBlock) key = sha256(key);
  key.resize(kBlock, '\0');
  Bytes inner(kBlock, '\0'), outer(kBlock, '\0');
  for (std::size_t i = 0; i < kBlock; ++i) {
    inner[i] = static_cast<char>(key[i] ^ 0x36);
    outer[i] = static_cast<char>(key[i] ^ 0x5c);
  }
  return sha256(outer + sha256(inner + message));
}

Bytes base64Decode(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  Bytes out;
  Poco::StreamCopier::copyToString(decoder, out);
  return out;
}

std::string base64Encode(const Bytes& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << bytes;
  encoder.close();
  return out.str();
}

bool sameBytes(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

/// The indices of `secrets` ("whsec_<base64 key>") that produced one of the "v1,<base64>"
/// signatures in `header` (space-separated) over "{id}.{timestamp}.{body}".
std::vector<int> matchingSecrets(const std::vector<std::string>& secrets, const std::string& id,
                                 const std::string& timestamp, const std::string& body, const std::string& header) {
  std::vector<std::string> signatures;
  std::istringstream in(header);
  for (std::string s; in >> s;) {
    if (s.rfind("v1,", 0) == 0) signatures.push_back(s.substr(3));
  }
  std::vector<int> matched;
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    const auto& secret = secrets[i];
    if (secret.rfind("whsec_", 0) != 0) continue;
    const auto expected = base64Encode(hmacSha256(base64Decode(secret.substr(6)), id + "." + timestamp + "." + body));
    for (const auto& signature : signatures) {
      if (sameBytes(signature, expected)) {
        matched.push_back(static_cast<int>(i));
        break;
      }
    }
  }
  return matched;
}

// The receiver --------------------------------------------------------------------------------

struct PathConfig {
  std::vector<std::string> secrets;
  std::string mode = "ok";
  long long times = 0;
  int status = 500;
  std::string retry_after;
  long long hang_ms = 60000;
  long long tolerance_seconds = 300;
  long long answer_size = -1;  // -1: a short JSON body
  long long seen = 0;          // requests so far
};

struct Received {
  std::string path, webhook_id, webhook_timestamp, webhook_signature, body, content_type, host;
  bool verified = false;
  std::vector<int> matched;
  long long received_ms = 0;
  int answered = 0;
};

long long nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Answer {
  int status = 200;
  std::string body;
  std::string retry_after;
};

class Receiver {
 public:
  Answer deliver(const HTTPServerRequest& request, const std::string& body);
  Answer configure(const std::string& body);
  Answer requests(const std::string& path);

  void stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  std::map<std::string, PathConfig> paths_;
  std::vector<Received> received_;
};

std::string header(const HTTPServerRequest& request, const char* name) {
  return request.has(name) ? request.get(name) : std::string();
}

Answer Receiver::deliver(const HTTPServerRequest& request, const std::string& body) {
  Received r;
  r.path = Poco::URI(request.getURI()).getPath();
  r.webhook_id = header(request, "webhook-id");
  r.webhook_timestamp = header(request, "webhook-timestamp");
  r.webhook_signature = header(request, "webhook-signature");
  r.content_type = header(request, "Content-Type");
  r.host = header(request, "Host");
  r.body = body;
  r.received_ms = nowMs();

  std::unique_lock<std::mutex> lock(mutex_);
  const auto found = paths_.find(r.path);
  if (found == paths_.end()) {
    r.answered = 404;
    received_.push_back(r);
    return {404, R"({"error":"no such path"})", ""};
  }
  auto& config = found->second;
  r.matched = matchingSecrets(config.secrets, r.webhook_id, r.webhook_timestamp, r.body, r.webhook_signature);
  bool fresh = config.tolerance_seconds == 0;
  if (!fresh && !r.webhook_timestamp.empty()) {
    try {
      const long long stamp = std::stoll(r.webhook_timestamp);
      fresh = std::llabs(stamp - nowMs() / 1000) <= config.tolerance_seconds;
    } catch (const std::exception&) {
      fresh = false;
    }
  }
  r.verified = !r.matched.empty() && fresh && !r.webhook_id.empty();
  const long long n = ++config.seen;
  const bool within = config.times == 0 || n <= config.times;
  Answer answer{200, R"({"ok":true})", ""};
  if (config.mode == "fail" && within) answer = {config.status, R"({"error":"failing on purpose"})", ""};
  if (config.mode == "gone") answer = {410, R"({"error":"gone"})", ""};
  if (config.mode == "status") answer = {config.status, R"({"answer":"configured status"})", ""};
  const auto index = received_.size();
  r.answered = answer.status;
  received_.push_back(r);
  if (config.mode == "hang" && within) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.hang_ms);
    changed_.wait_until(lock, until, [&] { return stopping_; });
    received_[index].answered = answer.status;
  }
  if (answer.status < 200 || answer.status >= 300) answer.retry_after = config.retry_after;
  if (config.answer_size >= 0) answer.body.assign(static_cast<std::size_t>(config.answer_size), 'x');
  return answer;
}

Answer Receiver::configure(const std::string& body) {
  rapidjson::Document doc;
  if (doc.Parse(body.c_str(), body.size()).HasParseError() || !doc.IsObject() || !doc.HasMember("path") ||
      !doc["path"].IsString()) {
    return {400, R"({"error":"a JSON object with a path is expected"})", ""};
  }
  PathConfig config;
  for (const auto& m : doc.GetObject()) {
    const std::string key = m.name.GetString();
    const auto& v = m.value;
    const Answer bad{400, R"({"error":"bad value for )" + key + R"("})", ""};
    if (key == "path") continue;
    if (key == "secrets") {
      if (!v.IsArray()) return bad;
      for (const auto& s : v.GetArray()) {
        if (!s.IsString()) return bad;
        config.secrets.emplace_back(s.GetString());
      }
    } else if (key == "mode" || key == "retry_after") {
      if (!v.IsString()) return bad;
      (key == "mode" ? config.mode : config.retry_after) = v.GetString();
    } else if (key == "times" || key == "status" || key == "hang_ms" || key == "tolerance_seconds" ||
               key == "answer_size") {
      if (!v.IsInt64() || v.GetInt64() < 0) return bad;
      if (key == "times") config.times = v.GetInt64();
      if (key == "status") config.status = static_cast<int>(v.GetInt64());
      if (key == "hang_ms") config.hang_ms = v.GetInt64();
      if (key == "tolerance_seconds") config.tolerance_seconds = v.GetInt64();
      if (key == "answer_size") config.answer_size = v.GetInt64();
    } else {
      return {400, R"({"error":"unknown setting )" + key + R"("})", ""};
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  paths_[doc["path"].GetString()] = config;
  return {200, "{}", ""};
}

Answer Receiver::requests(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  rapidjson::StringBuffer out;
  JsonWriter w(out);
  w.StartObject();
  w.Key("requests");
  w.StartArray();
  for (const auto& r : received_) {
    if (!path.empty() && r.path != path) continue;
    w.StartObject();
    const std::pair<const char*, const std::string*> strings[] = {{"path", &r.path},
                                                                  {"webhook_id", &r.webhook_id},
                                                                  {"webhook_timestamp", &r.webhook_timestamp},
                                                                  {"webhook_signature", &r.webhook_signature},
                                                                  {"body", &r.body},
                                                                  {"content_type", &r.content_type},
                                                                  {"host", &r.host}};
    for (const auto& [key, value] : strings) {
      w.Key(key);
      w.String(value->c_str(), static_cast<rapidjson::SizeType>(value->size()));
    }
    w.Key("verified");
    w.Bool(r.verified);
    w.Key("matched_secrets");
    w.StartArray();
    for (const int i : r.matched) w.Int(i);
    w.EndArray();
    w.Key("received_ms");
    w.Int64(r.received_ms);
    w.Key("answered");
    w.Int(r.answered);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {200, out.GetString(), ""};
}

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  Handler(Receiver& receiver, bool admin) : receiver_(receiver), admin_(admin) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    std::string body;
    Poco::StreamCopier::copyToString(request.stream(), body);
    const Poco::URI uri(request.getURI());
    const auto& path = uri.getPath();
    Answer answer;
    if (!admin_) {
      answer = receiver_.deliver(request, body);
    } else if (path == "/admin/paths" && request.getMethod() == "POST") {
      answer = receiver_.configure(body);
    } else if (path == "/admin/requests" && request.getMethod() == "GET") {
      std::string wanted;
      for (const auto& [name, value] : uri.getQueryParameters()) {
        if (name == "path") wanted = value;
      }
      answer = receiver_.requests(wanted);
    } else {
      answer = {404, R"({"error":"no such admin endpoint"})", ""};
    }
    const auto status = static_cast<HTTPResponse::HTTPStatus>(answer.status);
    response.setStatusAndReason(status, HTTPResponse::getReasonForStatus(status));
    response.setContentType("application/json");
    if (!answer.retry_after.empty()) response.set("Retry-After", answer.retry_after);
    response.sendBuffer(answer.body.data(), answer.body.size());
  }

 private:
  Receiver& receiver_;
  bool admin_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(Receiver& receiver, bool admin) : receiver_(receiver), admin_(admin) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new Handler(receiver_, admin_);
  }

 private:
  Receiver& receiver_;
  bool admin_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string tls_cert, tls_key;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--tls-cert" && i + 1 < argc) {
      tls_cert = argv[++i];
    } else if (arg == "--tls-key" && i + 1 < argc) {
      tls_key = argv[++i];
    } else {
      std::cerr << "usage: hydra-webhook-receiver [--tls-cert PEM --tls-key PEM]\n";
      return 2;
    }
  }
  // Blocked here, so every server thread inherits the mask and sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    Receiver receiver;
    const Poco::Net::SocketAddress address("127.0.0.1", 0);
    Poco::Net::ServerSocket socket;
    if (tls_cert.empty()) {
      socket = Poco::Net::ServerSocket(address);
    } else {
      Poco::Net::initializeSSL();
      Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, tls_key, tls_cert,
                                                               "", Poco::Net::Context::VERIFY_NONE);
      socket = Poco::Net::SecureServerSocket(address, 64, context);
    }
    Poco::Net::ServerSocket admin_socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    Poco::ThreadPool pool(2, 96);
    const auto params = [] {
      auto p = new Poco::Net::HTTPServerParams;
      p->setMaxThreads(64);
      p->setMaxQueued(256);
      p->setKeepAlive(false);
      return p;
    };
    Poco::Net::HTTPServer server(new Factory(receiver, false), pool, socket, params());
    Poco::Net::HTTPServer admin(new Factory(receiver, true), pool, admin_socket, params());
    server.start();
    admin.start();
    std::cout << "listening on 127.0.0.1:" << socket.address().port()
              << ", admin on 127.0.0.1:" << admin_socket.address().port() << std::endl;

    int received = 0;
    sigwait(&signals, &received);
    receiver.stop();
    server.stopAll(true);
    admin.stopAll(true);
    pool.joinAll();
    std::cerr << "hydra-webhook-receiver: stopped by signal " << received << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "hydra-webhook-receiver: " << e.what() << std::endl;
    return 1;
  }
}
