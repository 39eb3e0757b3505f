#include "shared/http/listener.hpp"

#include <dirent.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace hydra::http {

int findListeningSocket(std::uint16_t port) {
  struct DirCloser {
    void operator()(DIR* dir) const { closedir(dir); }
  };
  std::unique_ptr<DIR, DirCloser> fds(opendir("/proc/self/fd"));
  if (!fds) throw std::runtime_error("cannot list /proc/self/fd");
  while (const auto* entry = readdir(fds.get())) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(fds.get())) continue;
    int accepting = 0;
    socklen_t size = sizeof accepting;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size) != 0 || !accepting) continue;
    sockaddr_storage address{};
    socklen_t address_size = sizeof address;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&address), &address_size) != 0) continue;
    // IPv4 or IPv6 (HYDRA_LISTEN=[::]:PORT): the same port field, at its family's place.
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    if ((address.ss_family == AF_INET && ntohs(v4.sin_port) == port) ||
        (address.ss_family == AF_INET6 && ntohs(v6.sin6_port) == port)) {
      return static_cast<int>(fd);
    }
  }
  throw std::runtime_error("cannot find the listening socket of port " + std::to_string(port));
}

bool stopListening(int fd, std::chrono::milliseconds max_wait) {
  // A classic BPF program run on every packet the listening socket receives, whose data starts
  // at the TCP header: drop a SYN without ACK (a new connection); keep everything else, the
  // ACKs that complete handshakes already under way above all.
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),           // TCP flags
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),        // SYN | ACK
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),  // SYN alone?
      BPF_STMT(BPF_RET | BPF_K, 0),                     // drop
      BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF),            // keep
  };
  sock_fprog program{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  const bool filtered = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) == 0;
  if (filtered) {
    // For a listening socket, TCP_INFO's tcpi_unacked is the length of its accept queue.
    const auto deadline = std::chrono::steady_clock::now() + max_wait;
    auto empty_since = std::chrono::steady_clock::now();
    constexpr auto kQuiet = std::chrono::milliseconds(250);
    while (std::chrono::steady_clock::now() < deadline) {
      tcp_info info{};
      socklen_t size = sizeof info;
      if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) break;
      const auto now = std::chrono::steady_clock::now();
      if (info.tcpi_unacked != 0) empty_since = now;
      if (now - empty_since >= kQuiet) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  const int inert = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // any socket will do
  if (inert >= 0) {
    dup2(inert, fd);  // closes the listening socket; Pistache's poller forgets it with it
    close(inert);
  } else {
    ::shutdown(fd, SHUT_RDWR);
  }
  return filtered;
}

}  // namespace hydra::http
