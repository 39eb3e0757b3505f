#pragma once
// The two error types handlers throw. Both are turned into HTTP responses in one place
// (http/server.cpp), in FastAPI's shapes:
//   ApiError        -> {"detail": "<message>"}
//   ValidationError -> 422 {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace hydra::http {

/// An error whose detail is safe to show the client.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string detail, int retry_after_seconds = 0)
      : std::runtime_error(detail), status_(status), retry_after_seconds_(retry_after_seconds) {}
  int status() const { return status_; }
  const char* detail() const { return what(); }
  /// Sent as Retry-After when non-zero (503s).
  int retryAfterSeconds() const { return retry_after_seconds_; }

 private:
  int status_;
  int retry_after_seconds_;
};

inline ApiError notFound(std::string what) { return ApiError(404, std::move(what) + " not found"); }

/// A FastAPI location element: a name ("body", "name") or an array index.
using LocPart = std::variant<std::string, int>;

struct Problem {
  std::vector<LocPart> loc;
  std::string msg;
  std::string type;
};

class ValidationError : public std::runtime_error {
 public:
  explicit ValidationError(std::vector<Problem> problems)
      : std::runtime_error("request validation failed"), problems_(std::move(problems)) {}
  const std::vector<Problem>& problems() const { return problems_; }

 private:
  std::vector<Problem> problems_;
};

/// Collects problems so that one response lists all of them, as FastAPI does.
class Problems {
 public:
  void add(std::vector<LocPart> loc, std::string msg, std::string type) {
    list_.push_back({std::move(loc), std::move(msg), std::move(type)});
  }
  bool empty() const { return list_.empty(); }
  /// Appends this list's problems to `other` (a part read on its own, then merged).
  void moveInto(Problems& other) {
    for (auto& p : list_) other.list_.push_back(std::move(p));
    list_.clear();
  }
  /// Throws ValidationError when any problem was added.
  void throwIfAny() {
    if (!list_.empty()) throw ValidationError(std::move(list_));
  }

 private:
  std::vector<Problem> list_;
};

}  // namespace hydra::http
