// The latency of this disk's fdatasync, as the audit journal uses it: a ~300-byte line appended,
// then synced, N times. Prints p50, p90, p99 and the maximum in milliseconds.
//   hydra-bench-fsync FILE [N]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: hydra-bench-fsync FILE [N]\n");
    return 2;
  }
  const int n = argc > 2 ? std::stoi(argv[2]) : 2000;
  const int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600);
  if (fd < 0) return 1;
  const std::string line(299, 'x');
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (write(fd, (line + "\n").data(), line.size() + 1) < 0 || fdatasync(fd) != 0) return 1;
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  close(fd);
  unlink(argv[1]);
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) { return ms[static_cast<std::size_t>(q * (ms.size() - 1))]; };
  std::printf("fdatasync of a 300-byte append (%d): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", n, at(0.5),
              at(0.9), at(0.99), ms.back());
  return 0;
}
