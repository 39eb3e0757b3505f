#pragma once
// 404 checks shared by the services. A row of another customer looks exactly like no row.

#include <string>

#include <pqxx/pqxx>

#include "shared/http/errors.hpp"

namespace hydra::cp {

inline void requireCustomerExists(pqxx::transaction_base& tx, const std::string& customer_id) {
  if (tx.exec_prepared("customer_exists", customer_id).empty()) throw http::notFound("Customer");
}

inline void requireInstanceExists(pqxx::transaction_base& tx, const std::string& customer_id,
                                  const std::string& instance_id) {
  if (tx.exec_prepared("instance_exists", customer_id, instance_id).empty()) throw http::notFound("Instance");
}

}  // namespace hydra::cp
