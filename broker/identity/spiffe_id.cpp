#include "broker/identity/spiffe_id.hpp"

namespace hydra::broker::identity {
namespace {

constexpr std::string_view kScheme = "spiffe://";
constexpr std::string_view kCustomers = "/hydracore/customers/";
constexpr std::string_view kInstances = "/instances/";
constexpr std::size_t kUuidLength = 36;

bool canonicalUuid(std::string_view text) {
  if (text.size() != kUuidLength) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Takes a canonical UUID off the front of `rest`.
bool takeUuid(std::string_view& rest, std::string& out) {
  if (rest.size() < kUuidLength || !canonicalUuid(rest.substr(0, kUuidLength))) return false;
  out.assign(rest.substr(0, kUuidLength));
  rest.remove_prefix(kUuidLength);
  return true;
}

bool startsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

}  // namespace

bool validTrustDomain(std::string_view trust_domain) {
  if (trust_domain.empty() || trust_domain.size() > 255) return false;
  for (const char c : trust_domain) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) return false;
  }
  return true;
}

std::variant<SpiffeId, Malformed> parseSpiffeId(std::string_view uri) {
  if (!startsWith(uri, kScheme)) return Malformed{"it does not start with spiffe://"};
  std::string_view rest = uri.substr(kScheme.size());
  const auto slash = rest.find('/');
  SpiffeId id;
  id.trust_domain.assign(rest.substr(0, slash));
  // Also refuses a port, user information, a query or a fragment in the authority.
  if (!validTrustDomain(id.trust_domain)) return Malformed{"its trust domain is not a valid SPIFFE trust domain"};
  if (slash == std::string_view::npos) return Malformed{"it has no path"};
  rest.remove_prefix(slash);
  const Malformed wrong_path{
      "its path is not /hydracore/customers/<customer id>/instances/<instance id> "
      "with lower-case UUIDs"};
  if (!startsWith(rest, kCustomers)) return wrong_path;
  rest.remove_prefix(kCustomers.size());
  if (!takeUuid(rest, id.customer_id) || !startsWith(rest, kInstances)) return wrong_path;
  rest.remove_prefix(kInstances.size());
  if (!takeUuid(rest, id.instance_id) || !rest.empty()) return wrong_path;
  return id;
}

}  // namespace hydra::broker::identity
