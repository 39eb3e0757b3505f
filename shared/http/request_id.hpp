#pragma once
// Request ids: taken from the client's X-Request-Id when it is well formed, so a request can
// be followed across a load balancer and our logs and audit trail; generated otherwise.

#include <optional>
#include <string>
#include <string_view>

namespace hydra::http {

/// 16 random hex characters.
std::string newRequestId();

/// 1 to 64 printable ASCII characters without spaces (0x21-0x7E): what we accept from a client.
bool wellFormedRequestId(std::string_view id);

/// The client's id if it is well formed, else a new one.
std::string requestIdFrom(const std::optional<std::string>& presented);

}  // namespace hydra::http
