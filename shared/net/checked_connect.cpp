#include "shared/net/checked_connect.hpp"

#include <algorithm>

#include <Poco/Exception.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>

#include "shared/net/resolver.hpp"

namespace hydra::net {

Poco::Net::Context::Ptr verifyingClientContext(const std::string& ca_file, bool system_cas) {
  Poco::Net::initializeSSL();
  // VERIFY_STRICT: a server without a certificate, or with one that does not chain to a trusted
  // CA, fails the handshake. Without an InvalidCertificateHandler that says otherwise, Poco's
  // verify callback refuses; the host name is checked after the handshake (SecureSocketImpl).
  Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, ca_file,
                                                           Poco::Net::Context::VERIFY_STRICT, 9, system_cas);
  context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  return context;
}

std::variant<std::vector<Address>, ConnectError> resolveAllowed(const Destination& to, const AddressPolicy& policy,
                                                                std::chrono::milliseconds resolve_timeout,
                                                                const std::atomic<bool>* stopping) {
  std::vector<Address> addresses;
  if (const auto literal = parseAddress(to.host)) {
    addresses.push_back(*literal);
  } else {
    std::string error;
    addresses = resolveWithin(to.host, resolve_timeout, error, stopping);
    if (addresses.empty()) {
      if (stopping != nullptr && *stopping) return ConnectError{ConnectError::Kind::kStopped, error, {}};
      return ConnectError{ConnectError::Kind::kUnresolved, error, {}};
    }
  }
  // Every address, not only the one we would use: a name is refused as a whole when any of its
  // addresses is (a name that points into our network is not a provider's or a receiver's).
  for (const auto& address : addresses) {
    if (const auto refused = policy.refusal(address)) {
      return ConnectError{ConnectError::Kind::kRefused, *refused, address};
    }
    if (!to.tls && classify(address) != Range::kLoopback) {
      return ConnectError{ConnectError::Kind::kPlainHttp, toString(address) + " is not loopback", address};
    }
  }
  return addresses;
}

std::variant<Connection, ConnectError> connectToAny(const Destination& to, const std::vector<Address>& addresses,
                                                    const Poco::Net::Context::Ptr& tls,
                                                    ConnectClock::time_point deadline) {
  const bool literal = parseAddress(to.host).has_value();
  std::string last_error;
  for (const auto& address : addresses) {
    if (ConnectClock::now() >= deadline) break;
    try {
      const Poco::Net::SocketAddress target(Poco::Net::IPAddress(toString(address)), to.port);
      if (to.tls) {
        auto secure = std::make_unique<Poco::Net::SecureStreamSocket>(tls);
        // SNI and the name the certificate must carry: the host, while the TCP connection goes
        // to the address checked above. An IP literal is matched against the certificate's IP
        // addresses instead (and sent without SNI, which may not carry one).
        if (!literal) secure->setPeerHostName(to.host);
        secure->setLazyHandshake(true);  // the handshake runs under the caller's watchdog
        secure->connect(target, remainingUntil(deadline));
        return Connection{std::move(secure), address};
      }
      auto plain = std::make_unique<Poco::Net::StreamSocket>();
      plain->connect(target, remainingUntil(deadline));
      return Connection{std::move(plain), address};
    } catch (const Poco::Exception& e) {
      last_error = "cannot connect to " + toString(address) + ": " + e.displayText();
    }
  }
  if (ConnectClock::now() >= deadline) return ConnectError{ConnectError::Kind::kTimedOut, last_error, {}};
  return ConnectError{ConnectError::Kind::kUnreachable, last_error, {}};
}

Poco::Timespan remainingUntil(ConnectClock::time_point deadline) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(deadline - ConnectClock::now()).count();
  return Poco::Timespan(std::max<long long>(us, 1000));
}

}  // namespace hydra::net
