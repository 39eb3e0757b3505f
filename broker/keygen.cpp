#include "broker/keygen.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "shared/crypto/private_key_file.hpp"
#include "shared/crypto/public_key_file.hpp"

namespace hydra::broker {
namespace {

// O_EXCL: never follow a planted symlink or replace a file behind the operator's back.
void writeNewFile(const std::string& path, const std::string& content, mode_t mode, bool force) {
  if (force && unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw std::runtime_error("cannot replace " + path + ": " + std::strerror(errno));
  }
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) throw std::runtime_error(path + " exists; refusing to overwrite it (use --force)");
    throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  }
  const bool written = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (!written || !synced) throw std::runtime_error("cannot write " + path);
}

}  // namespace

void keygen(const std::string& private_key_path, const std::string& public_key_path, bool force) {
  if (!force) {
    struct stat info {};
    for (const auto& path : {private_key_path, public_key_path}) {
      if (lstat(path.c_str(), &info) == 0) throw std::runtime_error(path + " exists; refusing to overwrite it (use --force)");
    }
  }
  const auto [private_key, public_key] = crypto::generateKeyPair();
  writeNewFile(private_key_path, crypto::privateKeyPem(private_key), 0600, force);
  writeNewFile(public_key_path, crypto::publicKeyPem(public_key), 0644, force);
}

}  // namespace hydra::broker
