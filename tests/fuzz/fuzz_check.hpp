#pragma once
// What every fuzz target shares. A target fails (and libFuzzer keeps the input) on a sanitizer
// report, on an exception other than the documented ones escaping (std::terminate aborts), or
// on a FUZZ_CHECK of a property that must hold for every input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__);   \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace hydra::fuzz {

inline std::string text(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace hydra::fuzz
