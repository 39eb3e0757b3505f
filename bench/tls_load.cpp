// Load client for bench/broker.sh over HTTPS, with or without runtime certificates (issue 17):
// wrk cannot present a client certificate, let alone one per connection. A runtime holds one
// connection per instance, so each connection here is bound to one instance of the targets
// file ("<instance_id> <proxy_key> <provider> <name>", hydra-bench-seed's output), presents that
// instance's certificate (CERT_DIR/<instance>.pem and CERT_DIR/<instance>-key.pem, as
// scripts/runtime-cert.sh issue --out CERT_DIR/<instance> writes them) and fetches that
// instance's connections at random, keep-alive, one request at a time, for the run's length.
// --new-connection: a new TCP connection and a full TLS handshake (no resumption) per request,
// closed after its answer: the cost of a new connection. --plain: the same over HTTP, so the
// baseline is measured with the same client. One blocking thread per connection: the runs use
// few connections, and a thread waiting on a read costs no CPU. Prints one line of key=value.
// TLS_LOAD_QUICKACK=1: the client ACKs at once (TCP_QUICKACK), to tell the broker's own latency
// from a small write of its waiting on Nagle for the client's delayed ACK (about 40 ms).
//   hydra-bench-tls-load --port P [--host 127.0.0.1] (--ca FILE | --plain) [--cert-dir DIR]
//       (--targets FILE | --path PATH) [--connections N] [--duration S] [--new-connection]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string ca_file;
  bool plain = false;
  std::string cert_dir;
  std::string targets_file;
  std::string path;
  int connections = 64;
  double duration = 10;
  bool new_connection = false;
};

struct Target {
  std::string request;  // the whole HTTP request, keep-alive
  std::string request_close;  // the same with Connection: close (--new-connection)
};

struct Binding {
  std::string instance;  // empty for --path
  std::vector<Target> targets;
};

struct Result {
  std::vector<std::uint32_t> latencies_us;
  long requests = 0, errors = 0, io_errors = 0, opened = 0;
  std::string first_error;
};

std::atomic<bool> stop{false};
std::mutex print_mutex;
std::string negotiated;  // protocol and cipher of the first handshake

[[noreturn]] void die(const std::string& what) {
  std::cerr << "tls_load: " << what << '\n';
  std::exit(2);
}

std::string sslError() {
  const auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

std::string request(const Options& o, const std::string& path, const std::string& key, bool close) {
  std::string r = "GET " + path + " HTTP/1.1\r\nHost: " + o.host + "\r\n";
  if (!key.empty()) r += "Authorization: Bearer " + key + "\r\n";
  r += close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
  return r;
}

// Instances in the order they first appear; connection i is bound to instance i (modulo).
std::vector<Binding> bindings(const Options& o) {
  std::vector<Binding> out;
  if (!o.path.empty()) {
    out.push_back({"", {{request(o, o.path, "", false), request(o, o.path, "", true)}}});
    return out;
  }
  std::ifstream in(o.targets_file);
  if (!in) die("cannot read " + o.targets_file);
  std::map<std::string, std::size_t> index;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string instance, key, provider, name;
    if (!(fields >> instance >> key >> provider >> name)) continue;
    auto it = index.find(instance);
    if (it == index.end()) {
      if (static_cast<int>(out.size()) == o.connections) continue;  // enough instances
      it = index.emplace(instance, out.size()).first;
      out.push_back({instance, {}});
    }
    const auto path = "/internal/v1/instances/" + instance + "/connections?provider=" + provider + "&name=" + name;
    out[it->second].targets.push_back({request(o, path, key, false), request(o, path, key, true)});
  }
  if (out.empty()) die(o.targets_file + " holds no target");
  return out;
}

SSL_CTX* clientContext(const Options& o, const std::string& instance) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) die("SSL_CTX_new: " + sslError());
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);  // every handshake is a full one
  if (SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1) die("cannot load " + o.ca_file + ": " + sslError());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!o.cert_dir.empty() && !instance.empty()) {
    const auto cert = o.cert_dir + "/" + instance + ".pem", key = o.cert_dir + "/" + instance + "-key.pem";
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) die("cannot load " + cert + ": " + sslError());
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
      die("cannot load " + key + " or it does not match " + cert + ": " + sslError());
    }
  }
  return ctx;
}

// One connection, plain or TLS, blocking.
class Connection {
 public:
  Connection(const Options& o, SSL_CTX* ctx) : o_(o), ctx_(ctx) {}
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool open() {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    const int on = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    timeval timeout{10, 0};  // a broker that stops answering ends the run as errors, not a hang
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(o_.port));
    if (inet_pton(AF_INET, o_.host.c_str(), &address.sin_addr) != 1) die("--host must be an IPv4 address");
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return false;
    if (!ctx_) return true;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), o_.host.c_str());  // the server's certificate names it
    if (SSL_connect(ssl_) != 1) {
      std::lock_guard lock(print_mutex);
      std::cerr << "tls_load: handshake failed: " << sslError() << '\n';
      return false;
    }
    if (negotiated.empty()) {
      std::lock_guard lock(print_mutex);
      if (negotiated.empty()) negotiated = std::string(SSL_get_version(ssl_)) + "/" + SSL_get_cipher_name(ssl_);
    }
    return true;
  }

  void close() {
    if (ssl_) {
      SSL_shutdown(ssl_);  // sends close_notify, does not wait for the peer's
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

  // Closes with a reset (after close_notify): thousands of connections a second closed by us would
  // leave their ports in TIME_WAIT for a minute, where the next benchmark's listener may land.
  void reset() {
    if (fd_ >= 0) {
      const linger now{1, 0};
      setsockopt(fd_, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    }
    close();
  }

  bool isOpen() const { return fd_ >= 0; }

  bool send(const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const int n = ssl_ ? SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done))
                         : static_cast<int>(::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL));
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Reads one response (Content-Length framing); status, body, and whether the server keeps it open.
  bool receive(int& status, std::string& body, bool& keep_alive) {
    std::size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return false;
    }
    const std::string head = buffer_.substr(0, header_end);
    if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) return false;
    status = std::atoi(head.c_str() + 9);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    const auto length_at = lower.find("\r\ncontent-length:");
    const std::size_t length = length_at == std::string::npos ? 0 : std::strtoul(lower.c_str() + length_at + 17, nullptr, 10);
    keep_alive = lower.find("\r\nconnection: close") == std::string::npos;
    while (buffer_.size() < header_end + 4 + length) {
      if (!fill()) return false;
    }
    body = buffer_.substr(header_end + 4, length);
    buffer_.erase(0, header_end + 4 + length);
    return true;
  }

 private:
  bool fill() {
    // TLS_LOAD_QUICKACK=1 (diagnosis): ACK at once instead of delaying, so that a broker whose
    // small writes wait on Nagle for our ACK answers without the delayed-ACK timer (~40 ms).
    static const bool quickack = std::getenv("TLS_LOAD_QUICKACK") != nullptr;
    if (quickack) {
      const int on = 1;
      setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
    }
    char chunk[16384];
    const int n = ssl_ ? SSL_read(ssl_, chunk, sizeof chunk) : static_cast<int>(::recv(fd_, chunk, sizeof chunk, 0));
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  const Options& o_;
  SSL_CTX* ctx_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

void drive(const Options& o, const Binding& binding, unsigned seed, Result& result) {
  SSL_CTX* ctx = o.plain ? nullptr : clientContext(o, binding.instance);
  Connection connection(o, ctx);
  std::mt19937 random(seed);
  std::uniform_int_distribution<std::size_t> pick(0, binding.targets.size() - 1);
  result.latencies_us.reserve(200000);
  int status = 0;
  std::string body;
  bool keep_alive = true;
  while (!stop.load(std::memory_order_relaxed)) {
    const auto& target = binding.targets[pick(random)];
    const auto start = std::chrono::steady_clock::now();
    bool ok = true;
    if (o.new_connection || !connection.isOpen()) {
      ok = connection.open();
      ++result.opened;
    }
    ok = ok && connection.send(o.new_connection ? target.request_close : target.request);
    ok = ok && connection.receive(status, body, keep_alive);
    const auto end = std::chrono::steady_clock::now();
    if (!ok) {
      ++result.io_errors;
      connection.close();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // no spinning on a refusing broker
      continue;
    }
    if (o.new_connection) connection.reset();
    else if (!keep_alive) connection.close();
    if (stop.load(std::memory_order_relaxed)) break;  // finished after the window: not counted
    ++result.requests;
    result.latencies_us.push_back(
        static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(end - start).count()));
    if (status != 200) {
      if (result.errors++ == 0) result.first_error = std::to_string(status) + " " + body.substr(0, 300);
    }
  }
  if (ctx) SSL_CTX_free(ctx);
}

double cpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--host") o.host = value();
    else if (arg == "--port") o.port = std::atoi(value().c_str());
    else if (arg == "--ca") o.ca_file = value();
    else if (arg == "--plain") o.plain = true;
    else if (arg == "--cert-dir") o.cert_dir = value();
    else if (arg == "--targets") o.targets_file = value();
    else if (arg == "--path") o.path = value();
    else if (arg == "--connections") o.connections = std::atoi(value().c_str());
    else if (arg == "--duration") o.duration = std::atof(value().c_str());
    else if (arg == "--new-connection") o.new_connection = true;
    else die("unknown argument " + arg);
  }
  if (o.port <= 0) die("--port is required");
  if (o.plain == !o.ca_file.empty()) die("one of --ca FILE (HTTPS) and --plain");
  if (o.targets_file.empty() == o.path.empty()) die("one of --targets FILE and --path PATH");
  if (o.connections < 1 || o.duration <= 0) die("--connections and --duration must be positive");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  // OpenSSL writes with write(): a close_notify or request to a connection the broker has
  // closed would end the run by SIGPIPE instead of counting an I/O error.
  std::signal(SIGPIPE, SIG_IGN);
  const auto bound = bindings(o);
  std::vector<Result> results(static_cast<std::size_t>(o.connections));
  std::vector<std::thread> threads;
  const double cpu_before = cpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < o.connections; ++i) {
    threads.emplace_back(drive, std::cref(o), std::cref(bound[static_cast<std::size_t>(i) % bound.size()]),
                         static_cast<unsigned>(i * 7919 + 1), std::ref(results[static_cast<std::size_t>(i)]));
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));
  stop = true;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& t : threads) t.join();
  const double cpu = cpuSeconds() - cpu_before;

  std::vector<std::uint32_t> all;
  long requests = 0, errors = 0, io_errors = 0, opened = 0;
  std::string first_error;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    requests += r.requests;
    errors += r.errors;
    io_errors += r.io_errors;
    opened += r.opened;
    if (first_error.empty()) first_error = r.first_error;
  }
  std::sort(all.begin(), all.end());
  auto percentile = [&](double p) {
    if (all.empty()) return 0.0;
    return all[std::min(all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())))] / 1000.0;
  };
  if (!first_error.empty()) std::cerr << "tls_load: first non-200 answer: " << first_error << '\n';
  std::printf("requests=%ld seconds=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%ld io_errors=%ld "
              "client_cpu_us_per_request=%.1f instances=%zu connections_opened=%ld tls=%s\n",
              requests, elapsed, static_cast<double>(requests) / elapsed, percentile(0.50), percentile(0.99), errors,
              io_errors, requests ? cpu * 1e6 / static_cast<double>(requests) : 0.0, bound.size(), opened,
              o.plain ? "none" : negotiated.c_str());
  return requests > 0 && errors == 0 && io_errors == 0 ? 0 : 1;
}
