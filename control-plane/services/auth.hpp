#pragma once
// Who is calling. Customer endpoints take an API key ("Authorization: Bearer hck_..." or
// "X-Api-Key: hck_..."); bootstrap endpoints take the operator's admin token.

#include <string>

#include <pistache/router.h>

#include "shared/db/pool.hpp"

namespace hydra::cp {

class Authenticator {
 public:
  Authenticator(hydra::db::Pool& pool, std::string admin_token);

  /// 401 without a live API key; 403 when the key belongs to another customer.
  void requireCustomer(const Pistache::Rest::Request& req, const std::string& customer_id) const;
  /// 401 unless the admin token is presented.
  void requireAdmin(const Pistache::Rest::Request& req) const;
  /// The admin token, or an API key of this customer.
  void requireAdminOrCustomer(const Pistache::Rest::Request& req, const std::string& customer_id) const;

 private:
  bool isAdmin(const std::string& presented) const;

  hydra::db::Pool& pool_;
  std::string admin_token_;
};

}  // namespace hydra::cp
