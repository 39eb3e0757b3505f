#include "shared/net/client_address.hpp"

#include "shared/log/log.hpp"

namespace hydra::net {
namespace {

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

constexpr std::size_t kMaxUnparsedBytes = 64;

// Canonical text when it is an address (an IPv4 client of a dual-stack socket is 10.0.0.1, not
// ::ffff:10.0.0.1). Anything else is marked as such and escaped: the text goes into the audit
// record as `peer`, and bytes a client chose (invalid UTF-8, NUL, line breaks) would make a
// record that PostgreSQL refuses or that looks like an address.
ClientAddress addressOf(const std::string& text) {
  const auto address = parseAddress(text);
  if (address) return {address, toString(*address)};
  return {std::nullopt, std::string(kNotAnAddress) + log::escape(text, kMaxUnparsedBytes)};
}

}  // namespace

ClientAddress clientAddress(const std::string& tcp_peer, const std::optional<std::string>& forwarded_for,
                            const std::vector<Cidr>& trusted_proxies) {
  ClientAddress client = addressOf(tcp_peer);
  if (!forwarded_for || !client.address || !containsAny(trusted_proxies, *client.address)) return client;
  // Right to left: each trusted proxy appended the address it received the request from.
  auto end = forwarded_for->size();
  while (end > 0) {
    const auto comma = forwarded_for->rfind(',', end - 1);
    const auto start = comma == std::string::npos ? 0 : comma + 1;
    const auto entry = trimmed(forwarded_for->substr(start, end - start));
    client = addressOf(entry);
    // Garbage stops the walk: the client is then unknown, and matches no rule.
    if (!client.address || !containsAny(trusted_proxies, *client.address)) return client;
    if (comma == std::string::npos) break;
    end = comma;
  }
  return client;  // every hop was a trusted proxy: the left-most one sent it
}

}  // namespace hydra::net
