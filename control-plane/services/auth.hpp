#pragma once
// Who is calling. Customer endpoints take an API key ("Authorization: Bearer hck_..." or
// "X-Api-Key: hck_..."); bootstrap endpoints take the operator's admin token.

#include <optional>
#include <string>
#include <vector>

#include <pistache/router.h>

#include "shared/db/pool.hpp"
#include "shared/http/auth_throttle.hpp"
#include "shared/net/address.hpp"

namespace hydra::cp {

class Authenticator {
 public:
  /// `throttle`: failed authentications per peer (auth_throttle.hpp): a key found bad gets 401 at
  /// once and counts once; a peer past its burst gets 429 with Retry-After before a key never
  /// seen is looked up, so garbage keys cannot flood the database; a valid key waits only for its
  /// own refusals. API keys never come back once revoked, so its verdicts need no clearing.
  /// `trusted_proxies`: HYDRA_TRUSTED_PROXIES, whose X-Forwarded-For names the peer.
  Authenticator(hydra::db::Pool& pool, std::string admin_token, http::AuthThrottle& throttle,
                std::vector<net::Cidr> trusted_proxies);

  /// 401 without a live API key; 403 when the key belongs to another customer.
  void requireCustomer(const Pistache::Rest::Request& req, const std::string& customer_id) const;
  /// 401 unless the admin token is presented.
  void requireAdmin(const Pistache::Rest::Request& req) const;
  /// The admin token, or an API key of this customer.
  void requireAdminOrCustomer(const Pistache::Rest::Request& req, const std::string& customer_id) const;

 private:
  bool isAdmin(const std::string& presented) const;
  /// The peer, behind any trusted proxy.
  std::string peer(const Pistache::Rest::Request& req) const;
  /// Throws 401 if the secret is known bad, 429 if it (valid) or the peer (never seen) must wait.
  /// `bad_detail`: the 401's detail for a secret known bad.
  void checkThrottle(const std::string& peer, const std::optional<std::string>& hash, const char* bad_detail) const;
  /// requireCustomer once the throttle admitted the request: the key's lookup and owner.
  void requireCustomerKey(const std::string& from, const std::optional<std::string>& secret,
                          const std::optional<std::string>& hash, const std::string& customer_id) const;
  /// Counts a failure of the peer (once per secret) and throws the 401.
  [[noreturn]] void fail(const std::string& peer, const std::optional<std::string>& hash, const char* detail) const;

  hydra::db::Pool& pool_;
  std::string admin_token_;
  http::AuthThrottle& throttle_;
  const std::vector<net::Cidr> trusted_proxies_;
};

}  // namespace hydra::cp
