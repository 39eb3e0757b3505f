#pragma once
// The proxy tests (issue 19): hydra-mock-provider (tests/support/mock_provider.cpp) as a child
// process, serving HTTPS on 127.0.0.1 with a certificate from a throwaway CA made for it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/api.hpp"
#include "tests/support/runtime_pki.hpp"

namespace hydra::test {

std::string mockProviderBinary();

/// One request the mock provider received.
struct ProviderRequest {
  std::string method;
  std::string target;  // raw, as on the request line: path and query
  std::vector<std::pair<std::string, std::string>> headers;  // in order (repeated names kept together)
  std::string body;  // exactly the bytes received (de-chunked)
  long long received_ms = 0;  // wall clock, milliseconds since the epoch
  std::string peer;           // the broker's address:port: the same for calls on one connection
  int answered = 0;           // the status it answered (0: dropped)

  /// The first value of header `name` (any case), or "" when there is none.
  std::string header(const std::string& name) const;
  /// How many headers are named `name` (any case).
  std::size_t count(const std::string& name) const;
};

struct MockProviderOptions {
  /// HTTPS (the default) or plain http.
  bool tls = true;
  /// The names the certificate carries (openssl's syntax).
  std::string subject_alt_names = "DNS:localhost,IP:127.0.0.1";
};

/// hydra-mock-provider on free loopback ports, started by the constructor.
class MockProvider {
 public:
  explicit MockProvider(const MockProviderOptions& options = {});

  std::uint16_t port() const { return port_; }
  /// The throwaway CA its certificate chains to (HYDRA_PROXY_CA_FILE in tests); "" without TLS.
  const std::string& caFile() const { return ca_file_; }
  /// "<scheme>://<host>:<port>"
  std::string baseUrl(const std::string& host = "localhost") const;

  /// POST /admin/configure (see mock_provider.cpp), e.g.
  /// R"({"answers":[{"status":302,"headers":[["Location","/elsewhere"]],"body":""}]})".
  void configure(const std::string& json) const;
  /// Forgets the requests received and the answers configured.
  void reset() const;
  /// Everything received, in arrival order.
  std::vector<ProviderRequest> requests() const;
  /// Waits until at least `n` requests were received; returns them (maybe fewer on timeout).
  std::vector<ProviderRequest> await(std::size_t n,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  int stop() { return child_->terminate(); }
  std::string log() const { return child_->out() + child_->err(); }

 private:
  std::unique_ptr<TempDir> dir_;  // before the child: its files outlive it
  std::string ca_file_;
  std::string scheme_;
  std::unique_ptr<ChildProcess> child_;
  std::uint16_t port_ = 0;
  std::uint16_t admin_port_ = 0;
};

}  // namespace hydra::test
