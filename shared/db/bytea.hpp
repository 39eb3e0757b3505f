#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/crypto/random.hpp"

namespace hydra::db {

/// A bytea statement parameter in PostgreSQL's hex input form ("\x0a1b...").
inline std::string byteaParam(const std::vector<std::uint8_t>& bytes) {
  return "\\x" + crypto::hex(bytes.data(), bytes.size());
}

}  // namespace hydra::db
