#include "broker/proxy/capability_rules.hpp"

#include <stdexcept>

namespace hydra::broker::proxy {
namespace {

std::vector<std::string_view> splitSegments(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

bool knownMethod(std::string_view method) {
  return method == "GET" || method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

}  // namespace

Rule parseRule(std::string_view text) {
  const auto space = text.find(' ');
  if (space == std::string_view::npos) throw std::invalid_argument("'" + std::string(text) + "' is not 'METHOD /path'");
  Rule rule;
  rule.text = std::string(text);
  rule.method = std::string(text.substr(0, space));
  if (!knownMethod(rule.method)) {
    throw std::invalid_argument("'" + rule.text + "': the method must be GET, POST, PUT, PATCH or DELETE");
  }
  const auto path = text.substr(space + 1);
  if (path.size() < 2 || path.front() != '/' || path.back() == '/') {
    throw std::invalid_argument("'" + rule.text + "': the path must start with '/' and not end with one");
  }
  for (const auto segment : splitSegments(path)) {
    if (segment.empty()) throw std::invalid_argument("'" + rule.text + "': the path has an empty segment");
    if (segment.find_first_of("?#% ") != std::string_view::npos || segment == "." || segment == "..") {
      throw std::invalid_argument("'" + rule.text + "': a segment holds '?', '#', '%', a space, or is '.' or '..'");
    }
    if (!rule.segments.empty() && rule.segments.back() == "**") {
      throw std::invalid_argument("'" + rule.text + "': '**' may only be the last segment");
    }
    if (segment != "*" && segment != "**" && segment.find('*') != std::string_view::npos) {
      throw std::invalid_argument("'" + rule.text + "': '*' must be a whole segment");
    }
    rule.segments.emplace_back(segment);
  }
  return rule;
}

bool matches(const Rule& rule, std::string_view method, std::string_view normal_path) {
  if (method != rule.method) return false;
  const auto segments = splitSegments(normal_path);
  for (std::size_t i = 0; i < rule.segments.size(); ++i) {
    const auto& pattern = rule.segments[i];
    if (pattern == "**") return i < segments.size() && !segments[i].empty();
    if (i >= segments.size() || segments[i].empty()) return false;
    if (pattern != "*" && pattern != segments[i]) return false;
  }
  return segments.size() == rule.segments.size();
}

std::optional<std::string> allowingCapability(const CapabilityTable& table, const std::vector<std::string>& granted,
                                              std::string_view method, std::string_view normal_path) {
  std::optional<std::string> allowing;
  for (const auto& name : granted) {
    const auto found = table.find(name);
    if (found == table.end()) continue;  // a capability with no rules allows no call
    for (const auto& rule : found->second.deny) {
      if (matches(rule, method, normal_path)) return std::nullopt;
    }
    if (allowing) continue;
    for (const auto& rule : found->second.allow) {
      if (matches(rule, method, normal_path)) {
        allowing = name;
        break;
      }
    }
  }
  return allowing;
}

}  // namespace hydra::broker::proxy
