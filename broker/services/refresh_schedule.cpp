#include "broker/services/refresh_schedule.hpp"

namespace hydra::broker {
namespace {

// Round robin over groups kept in the order of their first member.
template <typename Item, typename Key>
std::vector<Item> roundRobin(const std::vector<Item>& items, Key key) {
  std::vector<std::deque<Item>> groups;
  std::map<std::string, std::size_t> index;
  for (const auto& item : items) {
    const auto [it, added] = index.emplace(key(item), groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(item);
  }
  std::vector<Item> out;
  out.reserve(items.size());
  while (out.size() < items.size()) {
    for (auto& group : groups) {
      if (group.empty()) continue;
      out.push_back(std::move(group.front()));
      group.pop_front();
    }
  }
  return out;
}

}  // namespace

std::vector<DueConnection> fairOrder(const std::vector<DueConnection>& due) {
  // Each customer's own turns over its providers first, then customers take turns.
  std::vector<std::vector<DueConnection>> by_customer;
  std::map<std::string, std::size_t> index;
  for (const auto& c : due) {
    const auto [it, added] = index.emplace(c.customer_id, by_customer.size());
    if (added) by_customer.emplace_back();
    by_customer[it->second].push_back(c);
  }
  std::vector<std::deque<DueConnection>> turns;
  for (const auto& connections : by_customer) {
    const auto ordered = roundRobin(connections, [](const DueConnection& c) { return c.provider; });
    turns.emplace_back(ordered.begin(), ordered.end());
  }
  std::vector<DueConnection> out;
  out.reserve(due.size());
  while (out.size() < due.size()) {
    for (auto& customer : turns) {
      if (customer.empty()) continue;
      out.push_back(std::move(customer.front()));
      customer.pop_front();
    }
  }
  return out;
}

RefreshSchedule::RefreshSchedule(std::vector<DueConnection> ordered, std::size_t per_provider,
                                 Clock::duration provider_budget)
    : left_(ordered.begin(), ordered.end()), per_provider_(per_provider), provider_budget_(provider_budget) {}

std::optional<DueConnection> RefreshSchedule::next(Clock::time_point now) {
  for (auto it = left_.begin(); it != left_.end();) {
    auto& provider = providers_[it->provider];
    if (provider.first_start && now - *provider.first_start >= provider_budget_) {
      it = left_.erase(it);  // this provider has had its share of the pass
      ++dropped_;
      continue;
    }
    if (provider.running >= per_provider_) {
      ++it;
      continue;
    }
    ++provider.running;
    if (!provider.first_start) provider.first_start = now;
    auto taken = std::move(*it);
    left_.erase(it);
    return taken;
  }
  return std::nullopt;
}

void RefreshSchedule::finished(const std::string& provider) {
  auto& p = providers_[provider];
  if (p.running > 0) --p.running;
}

}  // namespace hydra::broker
