#include "shared/http/stream.hpp"

#include <sys/socket.h>

#include <cstdio>

#include <pistache/async.h>
#include <pistache/stream.h>

namespace hydra::http {

std::string chunkOf(const std::string& data) {
  char size[24];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string chunk;
  chunk.reserve(static_cast<std::size_t>(n) + data.size() + 2);
  chunk.append(size, static_cast<std::size_t>(n)).append(data).append("\r\n");
  return chunk;
}

std::string streamHead(const std::string& content_type, bool keep_alive,
                       const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: " + content_type +
                     "\r\nTransfer-Encoding: chunked\r\nConnection: " + (keep_alive ? "keep-alive" : "close") + "\r\n";
  for (const auto& [name, value] : headers) head += name + ": " + value + "\r\n";
  return head + "\r\n";
}

ChunkedWriter::ChunkedWriter(const std::shared_ptr<Pistache::Tcp::Peer>& peer, std::thread::id connection_thread)
    : peer_(peer), connection_thread_(connection_thread) {}

bool ChunkedWriter::send(std::string bytes, bool close) {
  const auto peer = peer_.lock();
  if (!peer) return false;
  {
    std::lock_guard<std::mutex> lock(progress_->mutex);
    ++progress_->sent;
  }
  const auto length = bytes.size();
  // Pistache resolves a write on the connection's worker once its last byte is in the socket
  // (or, should the write have completed before this attaches, here). The worker is the only
  // place the descriptor is surely still this connection's: there, a shutdown cannot hit a
  // connection that reused the number (the worker closes descriptors itself, in between). From
  // here it is left to Pistache's keep-alive timer, which closes the connection a little later.
  peer->send(Pistache::RawBuffer(std::move(bytes), length))
      .then(
          [progress = progress_, weak = peer_, thread = connection_thread_, close](ssize_t) {
            if (close && std::this_thread::get_id() == thread) {
              if (const auto open = weak.lock()) ::shutdown(open->fd(), SHUT_WR);
            }
            std::lock_guard<std::mutex> lock(progress->mutex);
            ++progress->written;
            progress->changed.notify_all();
          },
          [progress = progress_](std::exception_ptr) {
            std::lock_guard<std::mutex> lock(progress->mutex);
            progress->failed = true;
            progress->changed.notify_all();
          });
  return true;
}

ChunkedWriter::Wait ChunkedWriter::waitWritten(std::chrono::milliseconds stall, const std::function<bool()>& abandon) {
  const auto deadline = std::chrono::steady_clock::now() + stall;
  std::unique_lock<std::mutex> lock(progress_->mutex);
  for (;;) {
    if (progress_->written == progress_->sent) return Wait::kWritten;
    // A write the client reset is dropped by Pistache without a word: the connection going away
    // (its Peer is released when the worker closes it) is how that shows.
    if (progress_->failed || peer_.expired()) return Wait::kGone;
    if (abandon()) return Wait::kAbandoned;
    if (std::chrono::steady_clock::now() >= deadline) return Wait::kStalled;
    progress_->changed.wait_for(lock, std::chrono::milliseconds(100));
  }
}

}  // namespace hydra::http
