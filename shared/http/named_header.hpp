#pragma once
// Pistache 0.0.5 only writes typed headers into responses (addRaw is ignored), so headers
// known only by name at run time go through this one type.

#include <functional>
#include <ostream>
#include <string>

#include <pistache/http_header.h>

namespace hydra::http {

class NamedHeader : public Pistache::Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
#ifdef SAFE_HEADER_CAST
  std::uint64_t hash() const override { return std::hash<std::string>{}(name_); }
#endif

 private:
  std::string name_, value_;
};

}  // namespace hydra::http
