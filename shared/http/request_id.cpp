#include "shared/http/request_id.hpp"

#include <algorithm>

#include "shared/crypto/random.hpp"

namespace hydra::http {

std::string newRequestId() {
  const auto bytes = crypto::randomBytes(8);
  return crypto::hex(bytes.data(), bytes.size());
}

bool wellFormedRequestId(std::string_view id) {
  // Bounded and without spaces or control characters: it goes into log lines (one per line,
  // space-separated in the text format), response headers and the audit trail.
  return !id.empty() && id.size() <= 64 &&
         std::all_of(id.begin(), id.end(), [](char c) { return c >= 0x21 && c <= 0x7E; });
}

std::string requestIdFrom(const std::optional<std::string>& presented) {
  if (presented && wellFormedRequestId(*presented)) return *presented;
  return newRequestId();
}

}  // namespace hydra::http
