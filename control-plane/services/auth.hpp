#pragma once
// Who is calling. Customer endpoints take an API key ("Authorization: Bearer hck_..." or
// "X-Api-Key: hck_..."); bootstrap endpoints take the operator's admin token.

#include <string>

#include <pistache/router.h>

#include "shared/db/pool.hpp"
#include "shared/http/auth_throttle.hpp"

namespace hydra::cp {

class Authenticator {
 public:
  /// `throttle`: failed authentications per peer; a peer past its burst gets 429 with
  /// Retry-After before its key is looked up, so garbage keys cannot flood the database.
  Authenticator(hydra::db::Pool& pool, std::string admin_token, http::AuthThrottle& throttle);

  /// 401 without a live API key; 403 when the key belongs to another customer.
  void requireCustomer(const Pistache::Rest::Request& req, const std::string& customer_id) const;
  /// 401 unless the admin token is presented.
  void requireAdmin(const Pistache::Rest::Request& req) const;
  /// The admin token, or an API key of this customer.
  void requireAdminOrCustomer(const Pistache::Rest::Request& req, const std::string& customer_id) const;

 private:
  bool isAdmin(const std::string& presented) const;
  /// 429 if the peer must wait.
  void checkThrottle(const Pistache::Rest::Request& req) const;
  /// Counts a failure of the peer and throws the 401.
  [[noreturn]] void fail(const Pistache::Rest::Request& req, const char* detail) const;

  hydra::db::Pool& pool_;
  std::string admin_token_;
  http::AuthThrottle& throttle_;
};

}  // namespace hydra::cp
