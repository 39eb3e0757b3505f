#pragma once

#include <cstdint>
#include <string>

#include <botan/secmem.h>

namespace hydra::crypto {

/// The contents of a file holding a secret (a private key, an OAuth client secret). Like
/// OpenSSH, refuses a symbolic link, anything but a regular file, a file group or others may
/// access, or one owned by another user; checked on the descriptor it then reads, so nothing
/// can be swapped in between. At most 64 KiB. Errors are std::runtime_error
/// "<what> <path>: <problem>", never the contents.
Botan::secure_vector<std::uint8_t> readOwnerOnlyFile(const std::string& path, const std::string& what);

}  // namespace hydra::crypto
