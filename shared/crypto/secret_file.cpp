#include "shared/crypto/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace hydra::crypto {
namespace {

// Key files and client secrets are a few hundred bytes; the cap keeps a wrong path from being slurped.
constexpr std::size_t kMaxFileSize = 64 * 1024;

}  // namespace

Botan::secure_vector<std::uint8_t> readOwnerOnlyFile(const std::string& path, const std::string& what) {
  const auto fileError = [&](const std::string& problem) { return std::runtime_error(what + " " + path + ": " + problem); };
  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw fileError(errno == ELOOP ? "is a symbolic link" : "cannot open");
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) throw fileError("not a regular file");
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) throw fileError("is accessible by group or others; chmod 600 it");
  if (info.st_uid != geteuid()) throw fileError("is not owned by the user running this process");
  Botan::secure_vector<std::uint8_t> data(kMaxFileSize + 1);
  std::size_t size = 0;
  while (size < data.size()) {
    const auto n = read(fd, data.data() + size, data.size() - size);
    if (n < 0) throw fileError("read error");
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  if (size > kMaxFileSize) throw fileError("file too large");
  data.resize(size);
  return data;
}

}  // namespace hydra::crypto
