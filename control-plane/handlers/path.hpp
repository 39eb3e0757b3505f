#pragma once
// The path ids of the customer routes, validated together so one 422 lists every bad id.

#include <string>

#include <pistache/router.h>

#include "shared/http/request.hpp"

namespace hydra::cp::handlers {

struct CustomerPath {
  std::string customer_id;
};
struct ChildPath {
  std::string customer_id, child_id;  // child: connection, instance or API key
};
struct GrantPath {
  std::string customer_id, connection_id, grant_id;
};
struct ProxyKeyPath {
  std::string customer_id, instance_id, key_id;
};

inline CustomerPath customerPath(const Pistache::Rest::Request& req) {
  http::Problems problems;
  CustomerPath path{http::pathUuid(req, "customer_id", problems)};
  problems.throwIfAny();
  return path;
}

inline ChildPath childPath(const Pistache::Rest::Request& req, const char* child) {
  http::Problems problems;
  ChildPath path{http::pathUuid(req, "customer_id", problems), http::pathUuid(req, child, problems)};
  problems.throwIfAny();
  return path;
}

inline GrantPath grantPath(const Pistache::Rest::Request& req) {
  http::Problems problems;
  GrantPath path{http::pathUuid(req, "customer_id", problems), http::pathUuid(req, "connection_id", problems),
                 http::pathUuid(req, "grant_id", problems)};
  problems.throwIfAny();
  return path;
}

inline ProxyKeyPath proxyKeyPath(const Pistache::Rest::Request& req) {
  http::Problems problems;
  ProxyKeyPath path{http::pathUuid(req, "customer_id", problems), http::pathUuid(req, "instance_id", problems),
                    http::pathUuid(req, "key_id", problems)};
  problems.throwIfAny();
  return path;
}

}  // namespace hydra::cp::handlers
