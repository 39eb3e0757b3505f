#include "control-plane/webhooks/retry_policy.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>

#include "shared/text/comma_list.hpp"

namespace hydra::cp::webhooks {
namespace {

constexpr int kMaxScheduleEntries = 50;
constexpr int kMaxDelaySeconds = 7 * 24 * 3600;
constexpr long long kMaxRetryAfter = 24 * 3600;

}  // namespace

const std::vector<int>& defaultRetrySchedule() {
  static const std::vector<int> schedule{0,        5,         5 * 60,    30 * 60,   2 * 3600,
                                         5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600};
  return schedule;
}

std::vector<int> parseRetrySchedule(std::string_view text) {
  std::vector<int> out;
  for (const auto item : hydra::text::commaSeparated(text)) {
    if (item.empty() || item.size() > 6 ||
        !std::all_of(item.begin(), item.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
      throw std::invalid_argument("must be comma-separated whole seconds, e.g. 0,5,300");
    }
    const int seconds = std::stoi(std::string(item));
    if (seconds > kMaxDelaySeconds) throw std::invalid_argument("has a delay over 604800 seconds (7 days)");
    out.push_back(seconds);
  }
  if (out.empty() || static_cast<int>(out.size()) > kMaxScheduleEntries) {
    throw std::invalid_argument("must have 1 to 50 entries");
  }
  // Messages are due the moment they are written (schema/0014_webhooks.sql: webhook_emit).
  if (out.front() != 0) throw std::invalid_argument("must start with 0: the first attempt is immediate");
  return out;
}

Verdict verdictFor(int status) {
  if (status >= 200 && status < 300) return Verdict::kDelivered;
  if (status == 410) return Verdict::kDisable;
  if (status == 429 || (status >= 500 && status < 600)) return Verdict::kRetry;
  return Verdict::kFail;
}

std::optional<double> nextDelay(const std::vector<int>& schedule, int attempts_made, double jitter,
                                std::optional<long long> retry_after) {
  if (attempts_made < 0 || attempts_made >= static_cast<int>(schedule.size())) return std::nullopt;
  const double base = schedule[static_cast<std::size_t>(attempts_made)];
  double delay = base * (0.9 + 0.2 * std::clamp(jitter, 0.0, 1.0));
  if (retry_after) delay = std::max(delay, static_cast<double>(std::clamp(*retry_after, 0LL, kMaxRetryAfter)));
  return delay;
}

}  // namespace hydra::cp::webhooks
