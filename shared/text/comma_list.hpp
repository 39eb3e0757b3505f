#pragma once
// Splitting the comma-separated lists of settings (HYDRA_TRUSTED_PROXIES,
// HYDRA_WEBHOOK_ALLOWED_CIDRS, HYDRA_WEBHOOK_RETRY_SCHEDULE, ...).

#include <algorithm>
#include <string_view>
#include <vector>

namespace hydra::text {

/// Every item of `text` between commas, without the spaces around it. Empty items are kept
/// (an empty text is one empty item): whether they are allowed is the caller's rule.
inline std::vector<std::string_view> commaSeparated(std::string_view text) {
  std::vector<std::string_view> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(',', start), text.size());
    auto item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    items.push_back(item);
    start = end + 1;
  }
  return items;
}

}  // namespace hydra::text
