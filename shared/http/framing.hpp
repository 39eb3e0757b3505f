#pragma once
// What every request must look like before Pistache's parser sees a byte of it. Pistache 0.0.5
// answers malformed or oversized requests itself, in plain text, before any handler (a request
// line over its buffer: 413; an unknown method or version: 400; a chunk extension: 400), and
// reads a body of any declared length into memory before a handler could refuse it. The
// screen holds each request head back until it is complete and checked, passes bodies on as
// they arrive, and says when to refuse, so the edge (edge.hpp) answers in JSON and closes:
//   431  request line and headers together over the limit (or too many header lines)
//   413  a Content-Length over the body limit (at once, without reading the body), or a
//        chunked body growing past it
//   400  malformed framing: a bad request line or header line, a Content-Length that is not
//        a plain number or differs between copies, Content-Length with Transfer-Encoding,
//        Transfer-Encoding on HTTP/1.0, a bad chunk size line or chunk end, a repeated
//        Authorization or X-Api-Key (one credential per request)
//   501  a method Pistache does not know, or a transfer coding other than chunked
//   505  an HTTP version other than 1.0 and 1.1
// Headers that Pistache parses into types (Host, Date, Accept, Content-Type, Cache-Control,
// User-Agent, Cookie, ...; not Connection, Authorization and the framing headers) are handed over renamed,
// "Hydra-Screened-<name as written>": its parsers answer values they refuse in plain text, some
// with a 500, and a renamed field is stored raw, unparsed. A name's repeated lines are handed
// over as one line at the place of the first, joined with ", " in order ("; " for Cookie): Pistache
// keeps only the first line of a name. The request target's query string, exactly as written,
// is handed over as "Hydra-Screened-Query" (Pistache keeps the query in an unordered map: order
// and repeated names are lost), only when it is not empty. A client's own Hydra-Screened-* line
// is refused (400), so what a route reads under these names is what the client sent (request.hpp:
// requestHeaders, rawQuery). Content-Length and Transfer-Encoding are handed over in canonical
// form, chunk sizes too (Pistache knows no chunk extensions). Repeated X-Forwarded-For lines are
// handed over as one, joined with ", " in order (RFC 9110, 5.3): Pistache would keep the first,
// the one a client writes before its proxy's.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::http {

/// The prefix of the names under which the screen hands over the fields Pistache would parse.
inline constexpr std::string_view kScreenedPrefix = "Hydra-Screened-";
/// The field holding the request target's query string as written (without the '?').
inline constexpr std::string_view kScreenedQuery = "Hydra-Screened-Query";

class FramingScreen {
 public:
  struct Limits {
    std::size_t max_head_bytes = 16 * 1024;  // request line + headers + the blank line
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_lines = 100;
  };
  struct Refusal {
    int status;
    std::string detail;
  };

  explicit FramingScreen(Limits limits) : limits_(limits) {}

  /// How much longer than the client's head (at most max_head_bytes) the head handed over can
  /// be: a prefix (and a space after the colon) per renamed line, the query string copied into
  /// a field of its own, and a little for canonical framing headers. Pistache's buffer must
  /// hold max_head_bytes + this + max_body_bytes (+ chunk size slack).
  static std::size_t maxHeadGrowth(const Limits& limits) {
    return limits.max_head_bytes + limits.max_header_lines * (kScreenedPrefix.size() + 1) + 64;
  }

  /// Consumes bytes received. Appends to `requests` what Pistache may parse now, one string per
  /// request at most (Pistache drops whatever follows a complete request in one read, so
  /// requests a client pipelines are handed over one by one). Returns the refusal once the
  /// stream must be refused; after that everything is swallowed.
  std::optional<Refusal> feed(std::string_view data, std::vector<std::string>& requests);

  /// True between requests with nothing held back: no request is being received.
  bool idle() const { return state_ == State::kHead && head_.empty(); }
  bool refused() const { return state_ == State::kRefused; }
  /// The version of the request being received (HTTP/1.0 or 1.1), for a refusal's status line.
  bool http10() const { return http10_; }

 private:
  enum class State { kHead, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kRefused };

  std::optional<Refusal> headDone(std::vector<std::string>& requests);
  std::optional<Refusal> refuse(int status, std::string detail);

  const Limits limits_;
  State state_ = State::kHead;
  std::string head_;     // the head being received, held back until complete
  std::string line_;     // a chunk size or trailer line being received
  std::string current_;  // bytes of the current request not yet handed over
  std::uint64_t remaining_ = 0;   // body bytes (Content-Length) or chunk bytes still to come
  std::uint64_t body_passed_ = 0;  // chunked: bytes of body and framing handed over so far
  std::size_t trailer_bytes_ = 0;
  bool http10_ = false;
};

}  // namespace hydra::http
