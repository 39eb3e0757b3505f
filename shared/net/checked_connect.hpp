#pragma once
// Outbound connections that cannot be steered into our own network (webhook deliveries, the
// broker's provider calls): the host is resolved here, every address it resolves to is checked
// against an AddressPolicy, and the TCP connection goes to a checked address, never through a
// second lookup that DNS rebinding could change. For TLS the certificate is verified for the
// host name (SNI and host-name check) while the connection goes to the checked address. Plain
// http is allowed to loopback addresses only. Callers word their own messages from ConnectError.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include "shared/net/address.hpp"
#include "shared/net/address_policy.hpp"

namespace hydra::net {

using ConnectClock = std::chrono::steady_clock;

/// Where an outbound call goes.
struct Destination {
  std::string host;  // a DNS name (resolved here) or an IP literal, lower case, no brackets
  std::uint16_t port = 0;
  bool tls = true;   // https; plain http only ever to loopback addresses
};

/// Why no connection was made.
struct ConnectError {
  enum class Kind {
    kUnresolved,    // the name did not resolve (in time): `detail` is the resolver's words
    kRefused,       // `address` is in a range the policy refuses: `detail` is "127.0.0.1 is loopback"
    kPlainHttp,     // plain http to `address`, which is not loopback
    kStopped,       // the process is stopping
    kTimedOut,      // the deadline passed before a connection: `detail` is the last error, maybe ""
    kUnreachable,   // no address accepted: `detail` is "cannot connect to <address>: <why>" (the last)
  };
  Kind kind = Kind::kUnreachable;
  std::string detail;
  Address address;  // kRefused, kPlainHttp
};

/// A client TLS context that verifies strictly (chain and host name) and refuses, never prompts:
/// against `ca_file` (a PEM bundle; empty: none), plus the system's CAs when `system_cas`.
/// TLS 1.2 at least. Throws Poco::Exception when `ca_file` cannot be read.
Poco::Net::Context::Ptr verifyingClientContext(const std::string& ca_file, bool system_cas);

/// The addresses `to.host` stands for (an IP literal stands for itself), each allowed by
/// `policy` and, for plain http, loopback: all of them or an error naming the first that is not.
/// The lookup is given up on after `resolve_timeout` or once `stopping` (may be null) is set.
std::variant<std::vector<Address>, ConnectError> resolveAllowed(const Destination& to, const AddressPolicy& policy,
                                                                std::chrono::milliseconds resolve_timeout,
                                                                const std::atomic<bool>* stopping);

/// A connected socket and the address it reached.
struct Connection {
  std::unique_ptr<Poco::Net::StreamSocket> socket;
  Address address;
};

/// Connects to the first of `addresses` (checked by resolveAllowed) that accepts before
/// `deadline`. For TLS the socket is a Poco SecureStreamSocket over `tls` with SNI and the
/// certificate's host name set to `to.host` (an IP literal is matched against the certificate's
/// IP addresses, without SNI), and a lazy handshake: it runs with the first read or write, so
/// put the socket under a SocketWatchdog before using it. The process should ignore SIGPIPE
/// (a socket the watchdog shut down may still be written to).
std::variant<Connection, ConnectError> connectToAny(const Destination& to, const std::vector<Address>& addresses,
                                                    const Poco::Net::Context::Ptr& tls,
                                                    ConnectClock::time_point deadline);

/// What is left until `deadline` as a Poco timespan, at least 1 ms (Poco treats 0 as "none").
Poco::Timespan remainingUntil(ConnectClock::time_point deadline);

}  // namespace hydra::net
