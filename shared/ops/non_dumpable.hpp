#pragma once
// Both binaries hold secrets in memory: the broker its private keys and every credential it
// opens, the control plane credentials from request bodies, the admin token and webhook
// secrets. Neither may leave a core file, nor let another process of the same user read its
// memory (ptrace, /proc/<pid>/mem) or its environment (/proc/<pid>/environ).

namespace hydra::ops {

/// RLIMIT_CORE 0 and PR_SET_DUMPABLE 0 for this process (its /proc/<pid> files then belong to
/// root). Exits with a line on stderr naming `program` if either cannot be set. Call first in
/// main, before any secret is read.
void makeNonDumpable(const char* program);

}  // namespace hydra::ops
