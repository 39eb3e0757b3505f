// hydra-mock-provider: a provider's API on loopback for the proxy tests (issue 19). Started as a
// child process by tests/support/proxy_fixture.cpp.
//
//   hydra-mock-provider [--tls-cert PEM --tls-key PEM]
//
// Two free ports on 127.0.0.1: the API on one (HTTPS with the certificate and key, plain http
// without them), the admin API (plain http) on the other; the first line on stdout is
// "listening on 127.0.0.1:<port>, admin on 127.0.0.1:<port>". SIGTERM or SIGINT stops it
// (delayed answers are let go at once) with exit code 0.
//
// Every request to the API port, whatever its method and path, is recorded and answered with
// the next configured answer (each used once, in order), or the default answer when none is left.
//
// An answer: {"status": 200, "headers": [["Name", "value"], ...], "body": "text",
//             "body_size": N, "framing": "length"|"chunked"|"close", "delay_ms": ms,
//             "body_delay_ms": ms, "drop": false}
//   status       default 200
//   headers      sent in order (besides Date, Connection and the framing header); default
//                [["Content-Type", "application/json"]]
//   body         default {"ok":true}; body_size instead: N bytes of 'x' (written in pieces)
//   framing      length: Content-Length (default); chunked: Transfer-Encoding: chunked;
//                close: neither, the body ends when the connection closes
//   delay_ms     wait before the status line; body_delay_ms: wait after the headers, before the body
//   drop         close the connection without answering
//
// Admin API:
// POST /admin/configure {"answers": [answer, ...], "default": answer}: replaces the queue of next
//   answers (when "answers" is given) and the default answer (when "default" is given).
// POST /admin/reset: no requests recorded, no answers queued, the built-in default.
// GET /admin/requests: {"requests": [{"method", "target" (raw, as on the request line),
//   "headers": [["Name", "value"], ...] (in order; Poco keeps repeated names together),
//   "body_base64", "received_ms", "peer" (the client's address:port, one per connection),
//   "answered" (the status; 0 when dropped)}]} in arrival order. The API port keeps connections
//   alive.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Base64Encoder.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Answer {
  int status = 200;
  HeaderList headers{{"Content-Type", "application/json"}};
  std::string body = R"({"ok":true})";
  long long body_size = -1;  // -1: `body`
  std::string framing = "length";
  long long delay_ms = 0;
  long long body_delay_ms = 0;
  bool drop = false;
};

struct Recorded {
  std::string method, target, body;
  std::string peer;  // the client's address and port: one per connection
  HeaderList headers;
  long long received_ms = 0;
  int answered = 0;
};

long long nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string base64(const std::string& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << bytes;
  encoder.close();
  return out.str();
}

/// An answer from its JSON, or the reason it is not one.
std::optional<std::string> readAnswer(const rapidjson::Value& v, Answer& a) {
  if (!v.IsObject()) return "an answer must be an object";
  for (const auto& m : v.GetObject()) {
    const std::string key = m.name.GetString();
    const auto& x = m.value;
    if (key == "status" || key == "body_size" || key == "delay_ms" || key == "body_delay_ms") {
      if (!x.IsInt64() || x.GetInt64() < 0) return "bad " + key;
      if (key == "status") a.status = static_cast<int>(x.GetInt64());
      if (key == "body_size") a.body_size = x.GetInt64();
      if (key == "delay_ms") a.delay_ms = x.GetInt64();
      if (key == "body_delay_ms") a.body_delay_ms = x.GetInt64();
    } else if (key == "body" || key == "framing") {
      if (!x.IsString()) return "bad " + key;
      (key == "body" ? a.body : a.framing).assign(x.GetString(), x.GetStringLength());
      if (key == "framing" && a.framing != "length" && a.framing != "chunked" && a.framing != "close")
        return "bad framing";
    } else if (key == "drop") {
      if (!x.IsBool()) return "bad drop";
      a.drop = x.GetBool();
    } else if (key == "headers") {
      if (!x.IsArray()) return "bad headers";
      a.headers.clear();
      for (const auto& h : x.GetArray()) {
        if (!h.IsArray() || h.Size() != 2 || !h[0].IsString() || !h[1].IsString()) return "bad header";
        a.headers.emplace_back(h[0].GetString(), h[1].GetString());
      }
    } else {
      return "unknown answer setting " + key;
    }
  }
  return std::nullopt;
}

class Provider {
 public:
  /// Records the request; the answer to give, and its index in the record.
  std::pair<Answer, std::size_t> arrive(Recorded r) {
    std::lock_guard<std::mutex> lock(mutex_);
    Answer a = default_;
    if (!queue_.empty()) {
      a = queue_.front();
      queue_.pop_front();
    }
    r.answered = a.drop ? 0 : a.status;
    received_.push_back(std::move(r));
    return {a, received_.size() - 1};
  }

  /// Waits `ms`, or less when stopping.
  void sleep(long long ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  }

  std::pair<int, std::string> configure(const std::string& body) {
    rapidjson::Document doc;
    if (doc.Parse(body.c_str(), body.size()).HasParseError() || !doc.IsObject()) return {400, "a JSON object"};
    std::optional<std::deque<Answer>> answers;
    std::optional<Answer> fallback;
    for (const auto& m : doc.GetObject()) {
      const std::string key = m.name.GetString();
      if (key == "answers") {
        if (!m.value.IsArray()) return {400, "answers: an array"};
        answers.emplace();
        for (const auto& v : m.value.GetArray()) {
          Answer a;
          if (const auto why = readAnswer(v, a)) return {400, *why};
          answers->push_back(std::move(a));
        }
      } else if (key == "default") {
        fallback.emplace();
        if (const auto why = readAnswer(m.value, *fallback)) return {400, *why};
      } else {
        return {400, "unknown setting " + key};
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (answers) queue_ = std::move(*answers);
    if (fallback) default_ = std::move(*fallback);
    return {200, "{}"};
  }

  void reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    received_.clear();
    queue_.clear();
    default_ = Answer{};
  }

  std::string requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    const auto string = [&w](const std::string& s) { w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size())); };
    w.StartObject();
    w.Key("requests");
    w.StartArray();
    for (const auto& r : received_) {
      w.StartObject();
      w.Key("method");
      string(r.method);
      w.Key("target");
      string(r.target);
      w.Key("headers");
      w.StartArray();
      for (const auto& [name, value] : r.headers) {
        w.StartArray();
        string(name);
        string(value);
        w.EndArray();
      }
      w.EndArray();
      w.Key("body_base64");
      string(base64(r.body));
      w.Key("received_ms");
      w.Int64(r.received_ms);
      w.Key("peer");
      string(r.peer);
      w.Key("answered");
      w.Int(r.answered);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return out.GetString();
  }

  void stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  Answer default_;
  std::deque<Answer> queue_;
  std::vector<Recorded> received_;
};

void writeBody(std::ostream& out, const Answer& a) {
  if (a.body_size < 0) {
    out.write(a.body.data(), static_cast<std::streamsize>(a.body.size()));
    return;
  }
  const std::string piece(64 * 1024, 'x');
  for (long long left = a.body_size; left > 0 && out;) {
    const auto n = std::min<long long>(left, static_cast<long long>(piece.size()));
    out.write(piece.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
}

void answer(Provider& provider, HTTPServerRequest& request, HTTPServerResponse& response) {
  Recorded r;
  r.method = request.getMethod();
  r.target = request.getURI();
  for (const auto& [name, value] : request) r.headers.emplace_back(name, value);
  Poco::StreamCopier::copyToString(request.stream(), r.body);
  r.received_ms = nowMs();
  r.peer = request.clientAddress().toString();
  const auto [a, index] = provider.arrive(std::move(r));
  (void)index;
  if (a.delay_ms > 0) provider.sleep(a.delay_ms);
  if (a.drop) {
    // Nothing is sent: the server closes the connection when the handler returns.
    static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket().shutdown();
    return;
  }
  const auto status = static_cast<HTTPResponse::HTTPStatus>(a.status);
  response.setStatusAndReason(status, HTTPResponse::getReasonForStatus(status));
  for (const auto& [name, value] : a.headers) response.add(name, value);
  const auto size = a.body_size >= 0 ? a.body_size : static_cast<long long>(a.body.size());
  if (a.framing == "length") response.setContentLength64(size);
  if (a.framing == "chunked") response.setChunkedTransferEncoding(true);
  std::ostream& out = response.send();
  if (a.body_delay_ms > 0) {
    out.flush();
    provider.sleep(a.body_delay_ms);
  }
  writeBody(out, a);
  out.flush();
}

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  Handler(Provider& provider, bool admin) : provider_(provider), admin_(admin) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    if (!admin_) return answer(provider_, request, response);
    std::string body;
    Poco::StreamCopier::copyToString(request.stream(), body);
    const auto& uri = request.getURI();
    const auto& method = request.getMethod();
    std::pair<int, std::string> result{404, R"({"error":"no such admin endpoint"})"};
    if (uri == "/admin/configure" && method == "POST") {
      result = provider_.configure(body);
      if (result.first != 200) result.second = R"({"error":")" + result.second + R"("})";
    } else if (uri == "/admin/reset" && method == "POST") {
      provider_.reset();
      result = {200, "{}"};
    } else if (uri == "/admin/requests" && method == "GET") {
      result = {200, provider_.requests()};
    }
    const auto status = static_cast<HTTPResponse::HTTPStatus>(result.first);
    response.setStatusAndReason(status, HTTPResponse::getReasonForStatus(status));
    response.setContentType("application/json");
    response.sendBuffer(result.second.data(), result.second.size());
  }

 private:
  Provider& provider_;
  bool admin_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(Provider& provider, bool admin) : provider_(provider), admin_(admin) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new Handler(provider_, admin_);
  }

 private:
  Provider& provider_;
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
      std::cerr << "usage: hydra-mock-provider [--tls-cert PEM --tls-key PEM]\n";
      return 2;
    }
  }
  // A client that stops reading (an answer over its limit) must not end the mock.
  signal(SIGPIPE, SIG_IGN);
  // Blocked here, so every server thread inherits the mask and sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    Provider provider;
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
    // The API keeps connections alive, as providers do (the broker reuses them); the admin
    // port does not.
    const auto params = [](bool keep_alive) {
      auto p = new Poco::Net::HTTPServerParams;
      p->setMaxThreads(64);
      p->setMaxQueued(256);
      p->setKeepAlive(keep_alive);
      return p;
    };
    Poco::Net::HTTPServer server(new Factory(provider, false), pool, socket, params(true));
    Poco::Net::HTTPServer admin(new Factory(provider, true), pool, admin_socket, params(false));
    server.start();
    admin.start();
    std::cout << "listening on 127.0.0.1:" << socket.address().port()
              << ", admin on 127.0.0.1:" << admin_socket.address().port() << std::endl;

    int received = 0;
    sigwait(&signals, &received);
    provider.stop();
    server.stopAll(true);
    admin.stopAll(true);
    pool.joinAll();
    std::cerr << "hydra-mock-provider: stopped by signal " << received << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "hydra-mock-provider: " << e.what() << std::endl;
    return 1;
  }
}
