#include "shared/http/server.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
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
bool keepAliveByDefault(const Request& req) {
  return !req.headers().tryGet<Pistache::Http::Header::Connection>() &&
         req.version() == Pistache::Http::Version::Http11;
}

std::string newRequestId() {
  const auto bytes = crypto::randomBytes(8);
  return crypto::hex(bytes.data(), bytes.size());
}

thread_local std::string current_request_id;

// The one place where exceptions become replies.
Reply replyForCurrentException(const std::string& request_id) {
  try {
    throw;
  } catch (const ValidationError& e) {
    return validationReply(e);
  } catch (const ApiError& e) {
    return errorReply(e);
  } catch (const std::exception& e) {
    log::http().error("request " + request_id + " failed: " + e.what());
  } catch (...) {
    log::http().error("request " + request_id + " failed with a non-standard exception");
  }
  return errorReply(500, "Internal server error (request id " + request_id + ")");
}

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

// The server's side of every answer: how many are still owed, and whether the endpoint they
// would be written to still exists.
struct Responder::Lifecycle {
  std::shared_mutex sending;  // held shared while an answer is written, exclusively to stop
  bool stopped = false;
  std::mutex mutex;
  std::condition_variable idle;
  int owed = 0;

  void started() {
    std::lock_guard<std::mutex> lock(mutex);
    ++owed;
  }
  void finished() {
    std::lock_guard<std::mutex> lock(mutex);
    if (--owed == 0) idle.notify_all();
  }
};

struct Responder::State {
  State(std::shared_ptr<Lifecycle> lifecycle, Pistache::Http::ResponseWriter writer, std::string request_id,
        std::string method, std::string route, bool keep_alive)
      : lifecycle(std::move(lifecycle)), writer(std::move(writer)), request_id(std::move(request_id)),
        method(std::move(method)), route(std::move(route)), keep_alive(keep_alive) {
    this->lifecycle->started();
  }
  ~State() {
    if (!sent.exchange(true)) {
      log::http().error("request " + request_id + " was dropped without an answer");
      send(errorReply(500, "Internal server error (request id " + request_id + ")"));
    }
    lifecycle->finished();
  }
  void send(const Reply& reply);

  const std::shared_ptr<Lifecycle> lifecycle;
  Pistache::Http::ResponseWriter writer;
  const std::string request_id, method, route;
  const bool keep_alive;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<bool> sent{false};
};

void Responder::operator()(Reply reply) const {
  if (!state_->sent.exchange(true)) state_->send(reply);
}

void Responder::State::send(const Reply& reply) {
  namespace H = Pistache::Http::Header;
  if (keep_alive) {
    writer.headers().remove<H::Connection>();
    writer.headers().add<H::Connection>(Pistache::Http::ConnectionControl::KeepAlive);
  }
  writer.headers().add<H::Server>("hydracore");
  writer.headers().add(std::make_shared<NamedHeader>("X-Request-Id", request_id));
  for (const auto& [name, value] : reply.headers) writer.headers().add(std::make_shared<NamedHeader>(name, value));
  if (!reply.body.empty()) writer.setMime(Pistache::Http::Mime::MediaType("application/json"));
  std::shared_lock<std::shared_mutex> lock(lifecycle->sending);
  if (lifecycle->stopped) return;  // the endpoint and its connections are gone
  try {
    // Pistache checks that the connection is still open before it queues the answer.
    writer.send(static_cast<Code>(reply.status), reply.body);
  } catch (const std::exception& e) {
    log::http().debug("request " + request_id + ": the client left before its answer: " + e.what());
  }

  if (log::http().information()) {  // the access line; off below information level (benchmarks)
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    char ms_text[32];
    std::snprintf(ms_text, sizeof ms_text, "%.1fms", ms);
    log::http().information(method + " " + route + " " + std::to_string(reply.status) + " " + ms_text + " id=" + request_id);
  }
}

const std::string& currentRequestId() { return current_request_id; }

Server::Server(ServerOptions options)
    : options_(std::move(options)), lifecycle_(std::make_shared<Responder::Lifecycle>()) {
  router_.addNotFoundHandler(wrap("*", "(no route)", [](const Request&, const Responder& respond) {
    respond(errorReply(404, "Not Found"));
  }));
}

Server::~Server() { stop(); }

Pistache::Rest::Route::Handler Server::wrap(const std::string& method, const std::string& route,
                                            AsyncHandler handler) const {
  const auto max_body = options_.max_body_bytes;
  return [method, route, handler = std::move(handler), max_body, lifecycle = lifecycle_](
             const Request& req, Pistache::Http::ResponseWriter res) {
    current_request_id = newRequestId();
    const Responder respond(std::make_shared<Responder::State>(lifecycle, std::move(res), current_request_id, method,
                                                               route, keepAliveByDefault(req)));
    try {
      if (req.body().size() > max_body) {
        throw ApiError(413, "Request body is larger than " + std::to_string(max_body / 1024) + " KiB");
      }
      handler(req, respond);
    } catch (...) {
      respond(replyForCurrentException(current_request_id));
    }
    return Pistache::Rest::Route::Result::Ok;
  };
}

void Server::add(const std::string& method, const std::string& route, AsyncHandler handler) {
  auto wrapped = wrap(method, route, std::move(handler));
  if (method == "GET") router_.get(route, std::move(wrapped));
  if (method == "POST") router_.post(route, std::move(wrapped));
  if (method == "PUT") router_.put(route, std::move(wrapped));
  if (method == "PATCH") router_.patch(route, std::move(wrapped));
  if (method == "DELETE") router_.del(route, std::move(wrapped));
  methods_by_route_[route].insert(method);
}

namespace {

// A handler that answers before it returns.
AsyncHandler answering(Handler handler) {
  return [handler = std::move(handler)](const Request& req, const Responder& respond) { respond(handler(req)); };
}

}  // namespace

void Server::get(const std::string& route, Handler handler) { add("GET", route, answering(std::move(handler))); }
void Server::post(const std::string& route, Handler handler) { add("POST", route, answering(std::move(handler))); }
void Server::patch(const std::string& route, Handler handler) { add("PATCH", route, answering(std::move(handler))); }
void Server::del(const std::string& route, Handler handler) { add("DELETE", route, answering(std::move(handler))); }
void Server::getAsync(const std::string& route, AsyncHandler handler) { add("GET", route, std::move(handler)); }

void Server::start() {
  // Pistache's own 405 is plain text: answer the other methods of each path ourselves.
  for (const auto& [route, methods] : std::map(methods_by_route_)) {
    std::string allow;
    for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + m;
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      if (methods.count(method) != 0) continue;
      add(method, route, answering([allow](const Request&) {
        auto reply = errorReply(405, "Method Not Allowed");
        reply.headers.emplace_back("Allow", allow);
        return reply;
      }));
    }
  }

  // Pistache parses "host:port" itself: an IPv6 host goes in brackets.
  const Pistache::Address address(options_.listen.withPort(options_.listen.port));
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

void Server::stop(std::chrono::milliseconds grace) {
  if (!endpoint_) return;
  {
    std::unique_lock<std::mutex> lock(lifecycle_->mutex);
    lifecycle_->idle.wait_for(lock, grace, [&] { return lifecycle_->owed == 0; });
  }
  {
    std::unique_lock<std::shared_mutex> lock(lifecycle_->sending);
    lifecycle_->stopped = true;
  }
  endpoint_->shutdown();
  endpoint_.reset();
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
