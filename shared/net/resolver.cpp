#include "shared/net/resolver.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include "shared/net/address_policy.hpp"

namespace hydra::net {
namespace {

/// One lookup, shared by the waiting worker and the thread that runs it (whichever ends last
/// frees it).
struct Pending {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::vector<Address> addresses;
  std::string error;
};

std::atomic<int> lookups_in_flight{0};

}  // namespace

std::vector<Address> systemLookup(const std::string& host, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return {};
  }
  std::vector<Address> out;
  for (auto* a = found; a != nullptr; a = a->ai_next) {
    const auto address = socketAddress(a->ai_addr);
    if (!address) continue;
    bool seen = false;
    for (const auto& o : out) seen = seen || (o.v4 == address->v4 && o.bytes == address->bytes);
    if (!seen) out.push_back(*address);
  }
  freeaddrinfo(found);
  if (out.empty()) error = "cannot resolve " + host + ": no addresses";
  return out;
}

std::vector<Address> resolveWithin(const std::string& host, std::chrono::milliseconds timeout, std::string& error,
                                        const std::atomic<bool>* stopping, const Lookup& lookup) {
  if (lookups_in_flight.fetch_add(1) >= kMaxLookupsInFlight) {
    lookups_in_flight.fetch_sub(1);
    error = "cannot resolve " + host + ": too many lookups still running (is DNS answering?)";
    return {};
  }
  auto pending = std::make_shared<Pending>();
  try {
    std::thread([host, pending, lookup] {
      std::string found_error;
      auto found = lookup(host, found_error);
      {
        std::lock_guard<std::mutex> lock(pending->mutex);
        pending->addresses = std::move(found);
        pending->error = std::move(found_error);
        pending->done = true;
      }
      pending->done_cv.notify_all();
      lookups_in_flight.fetch_sub(1);
    }).detach();
  } catch (const std::system_error&) {
    lookups_in_flight.fetch_sub(1);
    error = "cannot resolve " + host + ": no thread for the lookup";
    return {};
  }
  // In slices, so that a stop does not wait for the deadline.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(pending->mutex);
  while (!pending->done) {
    if (stopping != nullptr && *stopping) {
      error = "cannot resolve " + host + ": stopped (shutting down)";
      return {};
    }
    const auto slice = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
    if (!pending->done_cv.wait_until(lock, slice, [&] { return pending->done; }) &&
        std::chrono::steady_clock::now() >= deadline) {
      error = "cannot resolve " + host + ": no answer within " + std::to_string(timeout.count()) + " ms";
      return {};
    }
  }
  error = pending->error;
  return std::move(pending->addresses);
}

}  // namespace hydra::net
