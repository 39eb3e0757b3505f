#include "control-plane/services/auth.hpp"

#include <optional>

#include "shared/crypto/random.hpp"
#include "shared/db/bytea.hpp"
#include "shared/http/errors.hpp"
#include "shared/http/request.hpp"
#include "shared/net/client_address.hpp"

namespace hydra::cp {
namespace {

using hydra::http::ApiError;

std::optional<std::string> presentedSecret(const Pistache::Rest::Request& req) {
  if (auto token = http::bearerToken(req)) return token;
  return http::header(req, "X-Api-Key");
}

// The throttle's name for a secret: its SHA-256, never the secret.
std::optional<std::string> secretHash(const std::optional<std::string>& secret) {
  if (!secret) return std::nullopt;
  const auto hash = crypto::tokenHash(*secret);
  return std::string(hash.begin(), hash.end());
}

}  // namespace

Authenticator::Authenticator(hydra::db::Pool& pool, std::string admin_token, http::AuthThrottle& throttle,
                             std::vector<net::Cidr> trusted_proxies)
    : pool_(pool), admin_token_(std::move(admin_token)), throttle_(throttle), trusted_proxies_(std::move(trusted_proxies)) {}

std::string Authenticator::peer(const Pistache::Rest::Request& req) const {
  return net::clientAddress(req.address().host(), http::header(req, "X-Forwarded-For"), trusted_proxies_).text;
}

void Authenticator::checkThrottle(const std::string& peer, const std::optional<std::string>& hash,
                                  const char* bad_detail) const {
  using Admission = http::AuthThrottle::Admission;
  const auto admission = throttle_.admit(peer, hash ? &*hash : nullptr, http::AuthThrottle::Clock::now());
  switch (admission.kind) {
    case Admission::known_bad:
      throw ApiError(401, bad_detail);
    case Admission::key_waits:
      throw ApiError(429, "Too many refused requests with this key; retry later", admission.retry_after_seconds);
    case Admission::peer_waits:
      throw ApiError(429, "Too many failed authentications from this address; retry later",
                     admission.retry_after_seconds);
    case Admission::look_up:
      break;
  }
}

void Authenticator::fail(const std::string& peer, const std::optional<std::string>& hash, const char* detail) const {
  const auto now = http::AuthThrottle::Clock::now();
  if (hash) {
    throttle_.failed(peer, *hash, now);
  } else {
    throttle_.failed(peer, now);
  }
  throw ApiError(401, detail);
}

bool Authenticator::isAdmin(const std::string& presented) const {
  return crypto::constantTimeEquals(presented, admin_token_);
}

void Authenticator::requireCustomer(const Pistache::Rest::Request& req, const std::string& customer_id) const {
  const auto from = peer(req);
  const auto secret = presentedSecret(req);
  const auto hash = secretHash(secret);
  checkThrottle(from, hash, "Invalid or revoked API key");
  requireCustomerKey(from, secret, hash, customer_id);
}

void Authenticator::requireCustomerKey(const std::string& from, const std::optional<std::string>& secret,
                                       const std::optional<std::string>& hash, const std::string& customer_id) const {
  if (!secret) fail(from, hash, "Not authenticated");
  // Keys are looked up by their SHA-256, so the lookup itself reveals nothing by timing.
  const auto owner = pool_.run([&](pqxx::connection& c) -> std::optional<std::string> {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_prepared("api_key_customer_by_hash", hydra::db::byteaParam(crypto::tokenHash(*secret)));
    if (rows.empty()) return std::nullopt;
    return std::string(rows[0][0].c_str());
  });
  if (!owner) fail(from, hash, "Invalid or revoked API key");
  throttle_.valid(*hash);
  if (*owner != customer_id) {
    throttle_.refused(*hash, http::AuthThrottle::Clock::now());
    throw ApiError(403, "This API key does not belong to this customer");
  }
}

void Authenticator::requireAdmin(const Pistache::Rest::Request& req) const {
  const auto from = peer(req);
  const auto secret = presentedSecret(req);
  const auto hash = secretHash(secret);
  checkThrottle(from, hash, "Invalid admin token");
  if (!secret) fail(from, hash, "Not authenticated");
  if (!isAdmin(*secret)) fail(from, hash, "Invalid admin token");
  throttle_.valid(*hash);
}

void Authenticator::requireAdminOrCustomer(const Pistache::Rest::Request& req, const std::string& customer_id) const {
  const auto from = peer(req);
  const auto secret = presentedSecret(req);
  const auto hash = secretHash(secret);
  // Before the admin token is compared: a peer past its budget learns nothing of its guesses.
  checkThrottle(from, hash, "Invalid or revoked API key");
  if (secret && isAdmin(*secret)) {
    throttle_.valid(*hash);
    return;
  }
  requireCustomerKey(from, secret, hash, customer_id);
}

}  // namespace hydra::cp
