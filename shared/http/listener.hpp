#pragma once
// Pistache keeps its listening socket to itself; these find it by what it is, and take it
// away from Pistache gracefully, which its Endpoint::shutdown() (everything closed at once)
// does not.

#include <chrono>
#include <cstdint>

namespace hydra::http {

/// The descriptor of this process's IPv4 listening socket bound to `port`; throws
/// std::runtime_error if there is none.
int findListeningSocket(std::uint16_t port);

/// Stops accepting on listening socket `fd` without dropping a connection the kernel already
/// completed: a socket filter drops new SYNs (a client retries, then finds the port closed);
/// Pistache's accepting thread keeps taking what is queued until the queue has stayed empty
/// for a moment (at most `max_wait`); then the socket is closed by putting an inert socket in
/// its place, so the number stays Pistache's to close. Returns false if the filter could not
/// be attached (the socket is closed all the same).
bool stopListening(int fd, std::chrono::milliseconds max_wait);

}  // namespace hydra::http
