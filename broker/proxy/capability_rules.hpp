#pragma once
// A capability as the broker enforces it on proxied calls: the provider endpoints it allows and
// denies, as "METHOD /path/template" rules. In a template `*` stands for exactly one segment and
// a final `**` for one or more; every other segment matches itself exactly (case-sensitive, as
// paths are). Rules are matched against normalised paths (request_path.hpp), query strings
// aside. Deny wins over allow, across every capability of the grant, and what no rule allows is
// refused.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::broker::proxy {

struct Rule {
  std::string method;                 // GET, POST, PUT, PATCH, DELETE
  std::vector<std::string> segments;  // the template's segments; "*" and a last "**" are wildcards
  std::string text;                   // as written, for messages
};

/// Parses "METHOD /path/template"; throws std::invalid_argument with what is wrong.
Rule parseRule(std::string_view text);

bool matches(const Rule& rule, std::string_view method, std::string_view normal_path);

struct CapabilityRules {
  std::vector<Rule> allow, deny;
};

/// A provider's capabilities by name.
using CapabilityTable = std::map<std::string, CapabilityRules>;

/// The capability of `granted` (in the grant's order) whose rules allow the call, or none when
/// no granted capability allows it or any of them denies it.
std::optional<std::string> allowingCapability(const CapabilityTable& table, const std::vector<std::string>& granted,
                                              std::string_view method, std::string_view normal_path);

}  // namespace hydra::broker::proxy
