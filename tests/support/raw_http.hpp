#pragma once
// Raw TCP connections to a service, for what HttpClient cannot send or hold: malformed,
// oversized, partial or pipelined requests, many idle connections, another source address.

#include <chrono>
#include <cstdint>
#include <string>

#include "tests/support/http_client.hpp"

namespace hydra::test {

class RawConnection {
 public:
  /// Connects to 127.0.0.1:`port` from `source` (any 127.x.y.z address: each is a peer of its
  /// own to the server). Throws if the connection is refused.
  explicit RawConnection(std::uint16_t port, const std::string& source = "127.0.0.1");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// False if the server closed or reset the connection meanwhile.
  bool send(const std::string& bytes);

  struct Read {
    std::string data;
    bool eof = false;      // the server closed its side
    bool reset = false;    // ECONNRESET
    bool timeout = false;  // nothing more within the time
  };
  /// Reads until one complete response (by its Content-Length), the end of the stream, a reset
  /// or `timeout`.
  Read readResponse(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Reads until the end of the stream, a reset or `timeout`.
  Read readAll(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  int fd() const { return fd_; }

 private:
  Read read(std::chrono::milliseconds timeout, bool one_response);
  int fd_ = -1;
  std::string buffered_;  // read past the last response returned
};

/// A raw HTTP/1.1 response parsed: status, headers, body, and the body as JSON if it is.
/// Throws if `raw` does not start with a complete status line and headers.
Response parseResponse(const std::string& raw);

/// The length of the first complete response in `raw` (status line, headers and a body of its
/// Content-Length), or 0 if it is not complete yet.
std::size_t completeResponseLength(const std::string& raw);

}  // namespace hydra::test
