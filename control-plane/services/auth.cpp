#include "control-plane/services/auth.hpp"

#include <optional>

#include "shared/crypto/random.hpp"
#include "shared/db/bytea.hpp"
#include "shared/http/errors.hpp"
#include "shared/http/request.hpp"

namespace hydra::cp {
namespace {

using hydra::http::ApiError;

std::optional<std::string> presentedSecret(const Pistache::Rest::Request& req) {
  if (auto token = http::bearerToken(req)) return token;
  return http::header(req, "X-Api-Key");
}

}  // namespace

Authenticator::Authenticator(hydra::db::Pool& pool, std::string admin_token, http::AuthThrottle& throttle)
    : pool_(pool), admin_token_(std::move(admin_token)), throttle_(throttle) {}

void Authenticator::checkThrottle(const Pistache::Rest::Request& req) const {
  if (const auto wait = throttle_.retryAfterSeconds(req.address().host(), http::AuthThrottle::Clock::now())) {
    throw ApiError(429, "Too many failed authentications from this address; retry later", wait);
  }
}

void Authenticator::fail(const Pistache::Rest::Request& req, const char* detail) const {
  throttle_.failed(req.address().host(), http::AuthThrottle::Clock::now());
  throw ApiError(401, detail);
}

bool Authenticator::isAdmin(const std::string& presented) const {
  return crypto::constantTimeEquals(presented, admin_token_);
}

void Authenticator::requireCustomer(const Pistache::Rest::Request& req, const std::string& customer_id) const {
  checkThrottle(req);
  const auto secret = presentedSecret(req);
  if (!secret) fail(req, "Not authenticated");
  // Keys are looked up by their SHA-256, so the lookup itself reveals nothing by timing.
  const auto owner = pool_.run([&](pqxx::connection& c) -> std::optional<std::string> {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_prepared("api_key_customer_by_hash", hydra::db::byteaParam(crypto::tokenHash(*secret)));
    if (rows.empty()) return std::nullopt;
    return std::string(rows[0][0].c_str());
  });
  if (!owner) fail(req, "Invalid or revoked API key");
  if (*owner != customer_id) throw ApiError(403, "This API key does not belong to this customer");
}

void Authenticator::requireAdmin(const Pistache::Rest::Request& req) const {
  checkThrottle(req);
  const auto secret = presentedSecret(req);
  if (!secret) fail(req, "Not authenticated");
  if (!isAdmin(*secret)) fail(req, "Invalid admin token");
}

void Authenticator::requireAdminOrCustomer(const Pistache::Rest::Request& req, const std::string& customer_id) const {
  checkThrottle(req);
  const auto secret = presentedSecret(req);
  if (secret && isAdmin(*secret)) return;
  requireCustomer(req, customer_id);
}

}  // namespace hydra::cp
