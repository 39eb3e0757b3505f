#include "shared/http/tls_acceptor.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pistache/endpoint.h>
#include <pistache/listener.h>
#include <pistache/peer.h>

#include "shared/http/client_certificate.hpp"
#include "shared/http/tls.hpp"

namespace hydra::http {
namespace {

// Pistache keeps the one step we need private: Listener::dispatchPeer(peer) gives a connected
// Peer to one of its transports (what its own accepting thread does after SSL_accept), and the
// Endpoint keeps its Listener private. An explicit template instantiation may name private
// members (C++17 [temp.explicit]/12); these two lines are the whole of that reach.
template <typename Tag, typename Tag::type Member>
struct Reach {
  friend typename Tag::type reach(Tag) { return Member; }
};
struct EndpointListener {
  using type = Pistache::Tcp::Listener Pistache::Http::Endpoint::*;
  friend type reach(EndpointListener);
};
struct ListenerDispatch {
  using type = void (Pistache::Tcp::Listener::*)(const std::shared_ptr<Pistache::Tcp::Peer>&);
  friend type reach(ListenerDispatch);
};
template struct Reach<EndpointListener, &Pistache::Http::Endpoint::listener>;
template struct Reach<ListenerDispatch, &Pistache::Tcp::Listener::dispatchPeer>;

std::string openSslError(const std::string& what) {
  const auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return what + ": " + text;
}

SSL_CTX* serverContext(const config::TlsSettings& tls) {
  restrictTlsProtocols();  // before the context: OpenSSL applies it to contexts made afterwards
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!ctx) throw std::runtime_error(openSslError("cannot create a TLS context"));
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION);
  // As Pistache's own context: its transport retries a write that would block with the rest of
  // the answer copied to a new buffer, which OpenSSL refuses as a bad retry without these.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) != 1) {
    throw std::runtime_error(openSslError("cannot load the certificate"));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    throw std::runtime_error(openSslError("cannot load the key, or it does not match the certificate"));
  }
  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), tls.client_ca_file.c_str(), nullptr) != 1) {
      throw std::runtime_error(openSslError("cannot load the client CA file"));
    }
    if (auto* names = SSL_load_client_CA_file(tls.client_ca_file.c_str())) SSL_CTX_set_client_CA_list(ctx.get(), names);
    if (tls.client_certificate_required) {
      // Verify the peer, and fail the handshake when it sends no certificate.
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    } else {
      // Ask for a certificate and verify it, but let the handshake finish whatever the result:
      // the application reads the result (client_certificate.hpp) and refuses in HTTP, with
      // its reason, in its audit trail. Clients with no certificate (health checks) connect.
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    }
    // Session resumption with verified peers needs a context id (any constant of ours).
    static const unsigned char kSessionContext[] = "hydracore";
    SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  }
  return ctx.release();
}

int listenOn(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found) != 0 || !found) {
    throw std::runtime_error("cannot resolve " + host);
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, &freeaddrinfo);
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int on = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) close(fd);
    throw std::runtime_error(reason);
  }
  return fd;
}

std::uint16_t boundPort(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
}

// The address alone (no port): what the per-peer bound counts.
std::string hostOf(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text, sizeof text);
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
  }
  return text;
}

struct Handshake {
  int fd = -1;
  SSL* ssl = nullptr;
  sockaddr_storage address{};
  std::string host;
  std::chrono::steady_clock::time_point deadline;
};

}  // namespace

TlsAcceptor::TlsAcceptor(const config::TlsSettings& tls, const std::string& host, std::uint16_t port,
                         Pistache::Http::Endpoint& endpoint, TlsAcceptorLimits limits)
    : endpoint_(endpoint), limits_(limits) {
  // OpenSSL writes with write(), not send(MSG_NOSIGNAL): a client gone mid-handshake (or
  // mid-answer, in Pistache's SSL_write) must be an error, not SIGPIPE ending the process.
  std::signal(SIGPIPE, SIG_IGN);
  ctx_ = serverContext(tls);
  try {
    listening_ = listenOn(host, port);
  } catch (...) {
    SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
    throw;
  }
  port_ = boundPort(listening_);
  wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (wake_ < 0 || epoll_ < 0) {
    const std::string reason = std::strerror(errno);
    if (wake_ >= 0) close(wake_);
    if (epoll_ >= 0) close(epoll_);
    close(listening_);
    SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
    throw std::runtime_error("cannot create the TLS acceptor's event descriptors: " + reason);
  }
  thread_ = std::thread([this] { run(); });
}

TlsAcceptor::~TlsAcceptor() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = write(wake_, &one, sizeof one);  // cannot fail: one count
  if (thread_.joinable()) thread_.join();
  close(wake_);
  close(epoll_);
  close(listening_);  // after Server::stop's stopListening, an inert socket in its place
  SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

void TlsAcceptor::run() {
  const int poll = epoll_;
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_;
  epoll_ctl(poll, EPOLL_CTL_ADD, wake_, &event);
  event.data.fd = listening_;
  epoll_ctl(poll, EPOLL_CTL_ADD, listening_, &event);

  std::map<int, Handshake> pending;  // by descriptor
  std::map<std::string, std::size_t> per_host;
  auto drop = [&](std::map<int, Handshake>::iterator it) {
    epoll_ctl(poll, EPOLL_CTL_DEL, it->first, nullptr);
    if (it->second.ssl) SSL_free(it->second.ssl);
    close(it->first);
    if (--per_host[it->second.host] == 0) per_host.erase(it->second.host);
    pending.erase(it);
  };
  // One step of a handshake: done (handed over), failed (dropped) or waiting for the socket.
  auto advance = [&](std::map<int, Handshake>::iterator it) {
    auto& h = it->second;
    ERR_clear_error();
    const int result = SSL_accept(h.ssl);
    if (result == 1) {
      epoll_ctl(poll, EPOLL_CTL_DEL, h.fd, nullptr);
      recordClientCertificate(h.ssl);
      std::shared_ptr<Pistache::Tcp::Peer> peer;
      try {
        peer = Pistache::Tcp::Peer::CreateSSL(
            h.fd, Pistache::Address::fromUnix(reinterpret_cast<sockaddr*>(&h.address)), h.ssl);
        h.ssl = nullptr;  // Pistache's now (the Peer frees it; its transport closes the socket)
        auto& listener = endpoint_.*reach(EndpointListener{});
        (listener.*reach(ListenerDispatch{}))(peer);
      } catch (...) {
        // Not Pistache's after all: the Peer (gone with `peer`) frees the SSL it took.
        if (h.ssl) SSL_free(h.ssl);
        h.ssl = nullptr;
        close(h.fd);
      }
      if (--per_host[h.host] == 0) per_host.erase(h.host);
      pending.erase(it);
      return;
    }
    const int error = SSL_get_error(h.ssl, result);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
      ERR_clear_error();
      drop(it);
      return;
    }
    epoll_event wanted{};
    wanted.events = error == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
    wanted.data.fd = h.fd;
    epoll_ctl(poll, EPOLL_CTL_MOD, h.fd, &wanted);
  };

  bool accept_paused = false;
  std::chrono::steady_clock::time_point accept_paused_until{};
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (accept_paused && accept_paused_until <= now) {
      epoll_event again{};
      again.events = EPOLLIN;
      again.data.fd = listening_;
      epoll_ctl(poll, EPOLL_CTL_ADD, listening_, &again);
      accept_paused = false;
    }
    // Wake for the nearest deadline (or the end of a pause) at the latest.
    int timeout_ms = -1;
    auto soonest = [&](std::chrono::steady_clock::time_point when) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(when - now).count() + 1;
      const int bounded = static_cast<int>(std::max<long long>(0, left));
      if (timeout_ms < 0 || bounded < timeout_ms) timeout_ms = bounded;
    };
    if (accept_paused) soonest(accept_paused_until);
    for (const auto& entry : pending) soonest(entry.second.deadline);
    epoll_event ready[64];
    const int count = epoll_wait(poll, ready, 64, timeout_ms);
    bool stop = false;
    for (int i = 0; i < count; ++i) {
      const int fd = ready[i].data.fd;
      if (fd == wake_) {
        stop = true;
      } else if (fd == listening_) {
        // What is queued, each bounded before any byte of it is read; at most 64 per wake-up,
        // so a flood of connections never holds up the handshakes under way or their deadlines
        // (the socket is level-triggered: the rest is reported again at once).
        for (int accepted = 0; accepted < 64; ++accepted) {
          Handshake h;
          socklen_t size = sizeof h.address;
          const int client =
              accept4(listening_, reinterpret_cast<sockaddr*>(&h.address), &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (client < 0) {
            // Out of descriptors or memory (or the socket is gone): what is queued stays ready;
            // pause accepting a moment rather than spin (handshakes under way go on meanwhile).
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED && errno != EPROTO) {
              epoll_ctl(poll, EPOLL_CTL_DEL, listening_, nullptr);
              accept_paused = true;
              accept_paused_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
            }
            break;  // nothing more queued, or an error of that one connection
          }
          h.fd = client;
          // No Nagle: an answer written after the TLS 1.3 session tickets would otherwise wait
          // for the client's delayed ACK (~40 ms on every new connection, bench/broker.sh).
          const int no_delay = 1;
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof no_delay);
          h.host = hostOf(h.address);
          if (pending.size() >= limits_.max_total || per_host[h.host] >= limits_.max_per_peer) {
            if (per_host[h.host] == 0) per_host.erase(h.host);
            close(client);
            continue;
          }
          h.ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
          if (!h.ssl || SSL_set_fd(h.ssl, client) != 1) {
            if (h.ssl) SSL_free(h.ssl);
            close(client);
            continue;
          }
          h.deadline = std::chrono::steady_clock::now() + limits_.handshake_deadline;
          ++per_host[h.host];
          epoll_event added{};
          added.events = EPOLLIN;
          added.data.fd = client;
          epoll_ctl(poll, EPOLL_CTL_ADD, client, &added);
          advance(pending.emplace(client, std::move(h)).first);
        }
      } else if (const auto it = pending.find(fd); it != pending.end()) {
        advance(it);
      }
    }
    if (stop) break;
    const auto later = std::chrono::steady_clock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      const auto next = std::next(it);
      if (it->second.deadline <= later) drop(it);
      it = next;
    }
  }
  while (!pending.empty()) drop(pending.begin());
  close(poll);
}

}  // namespace hydra::http
