#include "control-plane/webhooks/resolver.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include "control-plane/webhooks/address_policy.hpp"

namespace hydra::cp::webhooks {
namespace {

/// One lookup, shared by the waiting worker and the thread that runs it (whichever ends last
/// frees it).
struct Lookup {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::vector<net::Address> addresses;
  std::string error;
};

std::atomic<int> lookups_in_flight{0};

void lookUp(const std::string& host, Lookup& into) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  std::vector<net::Address> out;
  std::string error;
  if (rc != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
  } else {
    for (auto* a = found; a != nullptr; a = a->ai_next) {
      const auto address = addressOf(a->ai_addr);
      if (!address) continue;
      bool seen = false;
      for (const auto& o : out) seen = seen || (o.v4 == address->v4 && o.bytes == address->bytes);
      if (!seen) out.push_back(*address);
    }
    freeaddrinfo(found);
    if (out.empty()) error = "cannot resolve " + host + ": no addresses";
  }
  {
    std::lock_guard<std::mutex> lock(into.mutex);
    into.addresses = std::move(out);
    into.error = std::move(error);
    into.done = true;
  }
  into.done_cv.notify_all();
}

}  // namespace

std::vector<net::Address> resolveWithin(const std::string& host, std::chrono::milliseconds timeout,
                                        std::string& error) {
  if (lookups_in_flight.fetch_add(1) >= kMaxLookupsInFlight) {
    lookups_in_flight.fetch_sub(1);
    error = "cannot resolve " + host + ": too many lookups still running (is DNS answering?)";
    return {};
  }
  auto lookup = std::make_shared<Lookup>();
  try {
    std::thread([host, lookup] {
      lookUp(host, *lookup);
      lookups_in_flight.fetch_sub(1);
    }).detach();
  } catch (const std::system_error&) {
    lookups_in_flight.fetch_sub(1);
    error = "cannot resolve " + host + ": no thread for the lookup";
    return {};
  }
  std::unique_lock<std::mutex> lock(lookup->mutex);
  if (!lookup->done_cv.wait_for(lock, timeout, [&] { return lookup->done; })) {
    error = "cannot resolve " + host + ": no answer within " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + " s";
    return {};
  }
  error = lookup->error;
  return std::move(lookup->addresses);
}

}  // namespace hydra::cp::webhooks
