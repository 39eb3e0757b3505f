#pragma once
// Answers written as they are produced, in chunks (HTTP/1.1 chunked transfer coding), for
// bodies too large to hold: exports. Server::getStreamed (server.hpp) serves them; this is the
// part that writes one to its connection.
//
// Why not Pistache's own ResponseWriter::stream: its ResponseStream::flush() writes on the
// calling thread (Transport::flush), racing the connection's worker for the socket and, over
// TLS, for the SSL object; and it gives no sign of when a chunk is written, so a client that
// reads slowly would make the server hold the whole answer in memory. Here every write goes
// through the worker's queue (Tcp::Peer::send, safe from any thread, as every answer given
// from another thread is), and the writer waits until one chunk is in the socket before it
// hands over the next: at most two chunks are in memory at once.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <pistache/peer.h>

namespace hydra::http {

/// What a streamed route's handler returns once the request is checked and authorized.
struct Streamed {
  std::string content_type;
  /// The next piece of the body, or none at the end. Called on a thread of the server's until it
  /// returns none, never twice at once; an empty piece is skipped. Throwing ends the answer: if
  /// nothing was sent yet, the client gets the usual error reply (a 503 when the database is
  /// away); otherwise the connection is closed without the last chunk, so the client sees an
  /// incomplete answer.
  std::function<std::optional<std::string>()> next;
};

/// The bytes of one chunk of `data` (not empty) in the chunked coding.
std::string chunkOf(const std::string& data);
/// The last chunk: the end of a complete body.
inline constexpr const char* kLastChunk = "0\r\n\r\n";

/// The status line and headers of a streamed 200 (HTTP/1.1, chunked), ending in the blank line.
std::string streamHead(const std::string& content_type, bool keep_alive,
                       const std::vector<std::pair<std::string, std::string>>& headers);

/// Writes bytes to one connection from any thread, one write in flight at a time.
class ChunkedWriter {
 public:
  /// `connection_thread`: the Pistache worker that owns the connection (the thread its route's
  /// handler was called on).
  ChunkedWriter(const std::shared_ptr<Pistache::Tcp::Peer>& peer, std::thread::id connection_thread);

  /// Hands `bytes` to the connection's worker to write. False if the connection is gone.
  /// `close`: once written, shut down the sending side (the client sees the end of the stream).
  bool send(std::string bytes, bool close = false);

  enum class Wait { kWritten, kGone, kStalled, kAbandoned };
  /// Waits until the last send is written to the socket; or the connection is gone; or `stall`
  /// passes without that; or `abandon()` (asked every 100 ms) says to stop waiting.
  Wait waitWritten(std::chrono::milliseconds stall, const std::function<bool()>& abandon);

  std::weak_ptr<Pistache::Tcp::Peer> peer() const { return peer_; }

 private:
  struct Progress {
    std::mutex mutex;
    std::condition_variable changed;
    std::uint64_t sent = 0, written = 0;
    bool failed = false;
  };
  std::weak_ptr<Pistache::Tcp::Peer> peer_;
  std::thread::id connection_thread_;
  std::shared_ptr<Progress> progress_ = std::make_shared<Progress>();
};

}  // namespace hydra::http
