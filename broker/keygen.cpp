#include "broker/keygen.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "broker/audit/signing_key.hpp"
#include "shared/audit/note.hpp"
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

// Both files or neither: checked before anything is written.
void writeKeyPair(const std::string& private_path, const std::string& private_text, const std::string& public_path,
                  const std::string& public_text, bool force) {
  if (!force) {
    struct stat info {};
    for (const auto& path : {private_path, public_path}) {
      if (lstat(path.c_str(), &info) == 0) throw std::runtime_error(path + " exists; refusing to overwrite it (use --force)");
    }
  }
  writeNewFile(private_path, private_text, 0600, force);
  writeNewFile(public_path, public_text, 0644, force);
}

}  // namespace

void keygen(const std::string& private_key_path, const std::string& public_key_path, bool force) {
  const auto [private_key, public_key] = crypto::generateKeyPair();
  writeKeyPair(private_key_path, crypto::privateKeyPem(private_key), public_key_path, crypto::publicKeyPem(public_key),
               force);
}

void keygenAudit(const std::string& signing_key_path, const std::string& verifier_key_path, bool force) {
  const auto key = audit::generateSigningKey();
  writeKeyPair(signing_key_path, audit::signingKeyPem(*key), verifier_key_path,
               hydra::audit::verifierKeyText(audit::kVerifierKeyName, key->get_public_key()) + "\n", force);
}

}  // namespace hydra::broker
