#pragma once
// Newest-first lists paged by id (audit events, webhook deliveries): `limit` (1-500, default
// 50) and `before`, an id: pass the previous page's next_before to page back in time.

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include <pistache/router.h>

#include "shared/http/request.hpp"

namespace hydra::cp::handlers {

struct Page {
  std::optional<long long> before;  // none: the newest
  long long limit = 50;
};

inline Page pageQuery(const Pistache::Rest::Request& req, http::Problems& problems) {
  Page page;
  page.limit = http::queryInteger(req, "limit", 50, 1, 500, problems);
  const auto before = http::queryInteger(req, "before", 0, 1, std::numeric_limits<std::int64_t>::max(), problems);
  if (http::query(req, "before")) page.before = before;
  return page;
}

/// The next page's `before`: the last id of a full page; none after a shorter one.
template <typename Item>
std::optional<long long> nextBefore(const std::vector<Item>& items, const Page& page) {
  if (static_cast<long long>(items.size()) < page.limit) return std::nullopt;
  return items.back().id;
}

}  // namespace hydra::cp::handlers
