#include "shared/ops/non_dumpable.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdlib>
#include <iostream>

namespace hydra::ops {

void makeNonDumpable(const char* program) {
  const rlimit no_core{0, 0};
  if (setrlimit(RLIMIT_CORE, &no_core) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    std::cerr << program << ": cannot make the process non-dumpable\n";
    std::exit(1);
  }
}

}  // namespace hydra::ops
