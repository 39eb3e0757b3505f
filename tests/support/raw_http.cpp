#include "tests/support/raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <stdexcept>

namespace hydra::test {

RawConnection::RawConnection(std::uint16_t port, const std::string& source) {
  static const bool sigpipe_ignored = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;
  (void)sigpipe_ignored;
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    const int error = errno;
    close(fd_);
    fd_ = -1;
    throw std::runtime_error("cannot connect to port " + std::to_string(port) + " from " + source + ": " +
                             std::to_string(error));
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::size_t completeResponseLength(const std::string& raw) {
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  std::size_t length = 0;
  for (auto pos = raw.find("\r\n") + 2; pos < end + 2;) {
    const auto line_end = raw.find("\r\n", pos);
    const auto line = raw.substr(pos, line_end - pos);
    pos = line_end + 2;
    if (strncasecmp(line.c_str(), "Content-Length:", 15) == 0) length = std::stoul(line.substr(15));
  }
  return raw.size() >= end + 4 + length ? end + 4 + length : 0;
}

RawConnection::Read RawConnection::read(std::chrono::milliseconds timeout, bool one_response) {
  Read out;
  out.data = std::move(buffered_);
  buffered_.clear();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (one_response) {
      if (const auto n = completeResponseLength(out.data)) {
        buffered_ = out.data.substr(n);
        out.data.resize(n);
        return out;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      out.timeout = true;
      return out;
    }
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[65536];
    const auto n = recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.reset = errno == ECONNRESET;
      out.eof = !out.reset;
      return out;
    }
    if (n == 0) {
      out.eof = true;
      return out;
    }
    out.data.append(buffer, static_cast<std::size_t>(n));
  }
}

RawConnection::Read RawConnection::readResponse(std::chrono::milliseconds timeout) { return read(timeout, true); }
RawConnection::Read RawConnection::readAll(std::chrono::milliseconds timeout) { return read(timeout, false); }

Response parseResponse(const std::string& raw) {
  const auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) {
    throw std::runtime_error("not an HTTP response: " + raw.substr(0, 200));
  }
  Response r;
  r.status = std::stoi(raw.substr(9, 3));
  for (auto pos = raw.find("\r\n") + 2; pos < end + 2;) {
    const auto line_end = raw.find("\r\n", pos);
    const auto line = raw.substr(pos, line_end - pos);
    pos = line_end + 2;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers.emplace(line.substr(0, colon), value);
  }
  r.body = raw.substr(end + 4);
  if (!r.body.empty()) {
    r.json.Parse(r.body.data(), r.body.size());
    r.is_json = !r.json.HasParseError();
    if (!r.is_json) r.json.SetNull();
  }
  return r;
}

}  // namespace hydra::test
