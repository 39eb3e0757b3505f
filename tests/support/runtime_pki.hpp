#pragma once
// Runtime identity (issue 17) for the end-to-end tests: a throwaway runtime CA made with openssl
// at test time, the broker's server certificate (from a CA of its own, as in production: the
// runtime CA signs runtimes only), and runtime certificates naming one customer and instance
// (spiffe://<trust domain>/hydracore/customers/<c>/instances/<i>), well-formed or not.

#include <optional>
#include <string>
#include <vector>

#include "tests/support/broker.hpp"

namespace hydra::test {

/// A certificate and its private key (mode 0600) as files.
struct CertFiles {
  std::string cert, key;
};

/// How a runtime certificate departs from a valid one (the default: it does not).
struct CertOptions {
  enum class Validity { Current, Expired, NotYetValid };
  /// The URI SANs instead of the one SPIFFE id (empty: no SAN extension at all).
  std::optional<std::vector<std::string>> uri_sans;
  /// Another trust domain in the SPIFFE id (empty: the PKI's).
  std::string trust_domain;
  Validity validity = Validity::Current;
  /// With Validity::Current: valid from now until this instant (UTC, YYYYMMDDHHMMSSZ) instead
  /// of for a day.
  std::string not_after;
  /// Signed by another CA (one the broker does not trust), with the same subject as the runtime
  /// CA: what a party that can write the database but does not hold the runtime CA could make.
  bool from_other_ca = false;
};

/// A throwaway CA and a server certificate it signed.
struct ServerPki {
  std::string ca;  // the CA's certificate (what a client trusts)
  CertFiles server;
};
/// A new CA (<name>-ca.pem in `dir`) and a serverAuth certificate it signs for
/// `subject_alt_names` (openssl's syntax: "DNS:localhost,IP:127.0.0.1"), valid for a day: a
/// private provider's or a test server's PKI.
ServerPki makeServerPki(const TempDir& dir, const std::string& name, const std::string& subject_alt_names);

class RuntimePki {
 public:
  explicit RuntimePki(std::string trust_domain = "hydracore.test");
  RuntimePki(const RuntimePki&) = delete;
  RuntimePki& operator=(const RuntimePki&) = delete;

  const std::string& trustDomain() const { return trust_domain_; }
  /// The runtime CA (HYDRA_RUNTIME_CA_FILE).
  const std::string& runtimeCa() const { return runtime_ca_; }
  /// The CA the broker's server certificate chains to (what clients verify the broker with).
  const std::string& serverCa() const { return server_ca_; }
  const CertFiles& server() const { return server_; }

  /// spiffe://<trust domain>/hydracore/customers/<customer_id>/instances/<instance_id>
  std::string spiffeId(const std::string& customer_id, const std::string& instance_id,
                       const std::string& trust_domain = "") const;

  /// A runtime certificate for `customer_id`'s instance `instance_id` (clientAuth), valid for a
  /// day unless `options` say otherwise.
  CertFiles issue(const std::string& customer_id, const std::string& instance_id, const CertOptions& options = {}) const;

  /// The broker's settings for runtime identity: HTTPS with the server certificate, the runtime
  /// CA and the trust domain.
  Environment brokerSettings() const;
  /// The broker's settings for HTTPS alone (runtime identity off).
  Environment tlsSettings() const;

 private:
  std::string trust_domain_;
  TempDir dir_;
  std::string runtime_ca_, server_ca_;
  CertFiles server_;
};

}  // namespace hydra::test
