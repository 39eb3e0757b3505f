#include "shared/http/retry_after.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <string>

namespace hydra::http {

std::optional<long long> parseRetryAfter(std::string_view value, std::time_t now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    if (value.size() > 9) return kRetryAfterTooLong;
    return std::stoll(std::string(value));
  }
  // An HTTP-date in the IMF-fixdate form senders must use ("Sun, 06 Nov 1994 08:49:37 GMT").
  static const std::regex fixdate(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)");
  const std::string text(value);
  if (!std::regex_match(text, fixdate)) return std::nullopt;
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::max(0LL, static_cast<long long>(timegm(&tm)) - static_cast<long long>(now));
}

}  // namespace hydra::http
