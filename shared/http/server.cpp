#include "shared/http/server.hpp"

#include <csignal>
#include <chrono>
#include <cstdio>

#include "shared/crypto/random.hpp"
#include "shared/http/errors.hpp"
#include "shared/http/peer_limit.hpp"
#include "shared/http/tls.hpp"
#include "shared/json/writer.hpp"
#include "shared/log/log.hpp"

namespace hydra::http {
namespace {

using Pistache::Http::Code;
using Pistache::Rest::Request;

Reply validationReply(const ValidationError& error) {
  json::Writer w;
  w.beginObject().key("detail").beginArray();
  for (const auto& problem : error.problems()) {
    w.beginObject().key("loc").beginArray();
    for (const auto& part : problem.loc) {
      if (const auto* name = std::get_if<std::string>(&part)) {
        w.string(*name);
      } else {
        w.integer(std::get<int>(part));
      }
    }
    w.endArray().key("msg").string(problem.msg).key("type").string(problem.type).endObject();
  }
  w.endArray().endObject();
  return json(422, w.str());
}

// Pistache 0.0.5 only writes typed headers into responses (addRaw is ignored), so headers
// known only by name at run time go through this one type.
class NamedHeader : public Pistache::Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
#ifdef SAFE_HEADER_CAST
  std::uint64_t hash() const override { return std::hash<std::string>{}(name_); }
#endif

 private:
  std::string name_, value_;
};

// Pistache answers "Connection: Close" (and closes) unless the request said keep-alive, but
// HTTP/1.1 connections are persistent by default, and runtimes reuse them: keep them open
// unless the client asked to close or speaks HTTP/1.0.
void keepAliveUnlessAsked(const Request& req, Pistache::Http::ResponseWriter& res) {
  using Pistache::Http::ConnectionControl;
  namespace H = Pistache::Http::Header;
  const auto asked = req.headers().tryGet<H::Connection>();
  if (asked || req.version() != Pistache::Http::Version::Http11) return;
  res.headers().remove<H::Connection>();
  res.headers().add<H::Connection>(ConnectionControl::KeepAlive);
}

std::string newRequestId() {
  const auto bytes = crypto::randomBytes(8);
  return crypto::hex(bytes.data(), bytes.size());
}

thread_local std::string current_request_id;

// A TLS handshake longer than this is given up (it holds Pistache's accepting thread).
constexpr int kTlsHandshakeSeconds = 5;

// HTTPS on Pistache's own TLS (TLS 1.2+, strong suites: tls.hpp). The key file is checked
// like every key file first; Pistache then reads both files itself.
void useTls(Pistache::Http::Endpoint& endpoint, const config::TlsSettings& tls) {
  try {
    checkTlsKeyFile(tls.key_file);
  } catch (const std::exception& e) {
    throw config::ConfigError(std::string("HYDRA_TLS_KEY_FILE: ") + e.what());
  }
  try {
    restrictTlsProtocols();
    endpoint.useSSL(tls.cert_file, tls.key_file);
  } catch (const std::exception& e) {
    // OpenSSL's reasons (no such file, key does not match) name no secret.
    throw config::ConfigError("HYDRA_TLS_CERT_FILE / HYDRA_TLS_KEY_FILE: " + log::escape(e.what()));
  }
  if (!tls.client_ca_file.empty()) {
    try {
      // Verify the peer, and fail the handshake when it sends no certificate.
      endpoint.useSSLAuth(tls.client_ca_file);
    } catch (const std::exception& e) {
      throw config::ConfigError("HYDRA_TLS_CLIENT_CA_FILE: " + log::escape(e.what()));
    }
  }
}

}  // namespace

const std::string& currentRequestId() { return current_request_id; }

Server::Server(ServerOptions options) : options_(std::move(options)) {
  router_.addNotFoundHandler(wrap("*", "(no route)", [](const Request&) -> Reply {
    return errorReply(404, "Not Found");
  }));
}

Server::~Server() { stop(); }

Pistache::Rest::Route::Handler Server::wrap(const std::string& method, const std::string& route,
                                            Handler handler) const {
  const auto max_body = options_.max_body_bytes;
  return [method, route, handler = std::move(handler), max_body](const Request& req,
                                                                  Pistache::Http::ResponseWriter res) {
    const auto started = std::chrono::steady_clock::now();
    current_request_id = newRequestId();
    const auto& request_id = current_request_id;
    Reply reply;
    try {
      if (req.body().size() > max_body) {
        throw ApiError(413, "Request body is larger than " + std::to_string(max_body / 1024) + " KiB");
      }
      reply = handler(req);
    } catch (const ValidationError& e) {
      reply = validationReply(e);
    } catch (const ApiError& e) {
      reply = errorReply(e.status(), e.detail());
      if (e.retryAfterSeconds() > 0) reply.headers.emplace_back("Retry-After", std::to_string(e.retryAfterSeconds()));
      if (e.status() == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer");
    } catch (const std::exception& e) {
      log::http().error("request " + request_id + " failed: " + e.what());
      reply = errorReply(500, "Internal server error (request id " + request_id + ")");
    } catch (...) {
      log::http().error("request " + request_id + " failed with a non-standard exception");
      reply = errorReply(500, "Internal server error (request id " + request_id + ")");
    }

    keepAliveUnlessAsked(req, res);
    res.headers().add<Pistache::Http::Header::Server>("hydracore");
    res.headers().add(std::make_shared<NamedHeader>("X-Request-Id", request_id));
    for (const auto& [name, value] : reply.headers) res.headers().add(std::make_shared<NamedHeader>(name, value));
    if (!reply.body.empty()) res.setMime(Pistache::Http::Mime::MediaType("application/json"));
    res.send(static_cast<Code>(reply.status), reply.body);

    if (log::http().information()) {  // the access line; off below information level (benchmarks)
      const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      char ms_text[32];
      std::snprintf(ms_text, sizeof ms_text, "%.1fms", ms);
      log::http().information(method + " " + route + " " + std::to_string(reply.status) + " " + ms_text + " id=" + request_id);
    }
    return Pistache::Rest::Route::Result::Ok;
  };
}

void Server::add(const std::string& method, const std::string& route, Handler handler) {
  auto wrapped = wrap(method, route, std::move(handler));
  if (method == "GET") router_.get(route, std::move(wrapped));
  if (method == "POST") router_.post(route, std::move(wrapped));
  if (method == "PUT") router_.put(route, std::move(wrapped));
  if (method == "PATCH") router_.patch(route, std::move(wrapped));
  if (method == "DELETE") router_.del(route, std::move(wrapped));
  methods_by_route_[route].insert(method);
}

void Server::get(const std::string& route, Handler handler) { add("GET", route, std::move(handler)); }
void Server::post(const std::string& route, Handler handler) { add("POST", route, std::move(handler)); }
void Server::patch(const std::string& route, Handler handler) { add("PATCH", route, std::move(handler)); }
void Server::del(const std::string& route, Handler handler) { add("DELETE", route, std::move(handler)); }

void Server::start() {
  // Pistache's own 405 is plain text: answer the other methods of each path ourselves.
  for (const auto& [route, methods] : std::map(methods_by_route_)) {
    std::string allow;
    for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + m;
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      if (methods.count(method) != 0) continue;
      add(method, route, [allow](const Request&) {
        auto reply = errorReply(405, "Method Not Allowed");
        reply.headers.emplace_back("Allow", allow);
        return reply;
      });
    }
  }

  const Pistache::Address address(options_.listen.host, Pistache::Port(options_.listen.port));
  endpoint_ = std::make_unique<Pistache::Http::Endpoint>(address);
  endpoint_->init(Pistache::Http::Endpoint::options()
                      .threads(options_.threads)
                      .flags(Pistache::Tcp::Options::ReuseAddr)
                      .maxRequestSize(options_.max_request_bytes)
                      .maxResponseSize(16 * 1024 * 1024)
                      // A client that stalls mid-request must not hold a connection forever.
                      .headerTimeout(std::chrono::seconds(5))
                      .bodyTimeout(std::chrono::seconds(15)));
  endpoint_->setHandler(std::make_shared<PeerLimitedHandler>(
      router_.handler(), std::make_shared<PeerConnections>(options_.max_connections_per_peer)));
  if (options_.tls) useTls(*endpoint_, *options_.tls);
  try {
    endpoint_->serveThreaded();
  } catch (const std::exception& e) {
    // Both binaries take the address from HYDRA_LISTEN: name it, as for any bad setting.
    throw config::ConfigError("HYDRA_LISTEN: cannot listen on " + options_.listen.host + ":" +
                              std::to_string(options_.listen.port) + ": " + e.what());
  }
  if (options_.tls) {
    try {
      boundTlsHandshakes(port(), kTlsHandshakeSeconds);
    } catch (const std::exception& e) {
      throw config::ConfigError(std::string("HYDRA_TLS_CERT_FILE: ") + e.what());
    }
  }
}

void Server::stop() {
  if (endpoint_) {
    endpoint_->shutdown();
    endpoint_.reset();
  }
}

std::uint16_t Server::port() const { return static_cast<std::uint16_t>(endpoint_->getPort()); }

void blockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

void waitForTerminationSignal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
}

}  // namespace hydra::http
