// Benchmark data: N customers, each with instances, connections (credentials sealed exactly
// as the control plane seals them), grants and one proxy key per instance, written with
// COPY. Prints one line per instance key for wrk: "<instance_id> <proxy_key> <provider> <name>".
//   hydra-bench-seed DATABASE_URL PUBLIC_KEY_PEM CUSTOMERS > targets.txt
#include <iostream>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "shared/crypto/public_key_file.hpp"
#include "shared/crypto/random.hpp"
#include "shared/crypto/seal.hpp"

namespace {

using namespace hydra;

constexpr int kInstancesPerCustomer = 2;
constexpr int kConnectionsPerCustomer = 10;  // every connection granted to both instances
const std::vector<std::string> kProviders = {"gmail", "google_calendar", "xero", "deputy", "microsoft"};

std::string uuid() {
  auto b = crypto::randomBytes(16);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const auto h = crypto::hex(b.data(), b.size());
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string bytea(const std::vector<std::uint8_t>& bytes) { return "\\x" + crypto::hex(bytes.data(), bytes.size()); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: hydra-bench-seed DATABASE_URL PUBLIC_KEY_PEM CUSTOMERS\n";
    return 2;
  }
  const crypto::Sealer sealer(crypto::readPublicKeyPem(argv[2]));
  const int customers = std::stoi(argv[3]);
  pqxx::connection c(argv[1]);
  pqxx::work tx(c);
  // One COPY stream at a time per transaction: ids first, then each table in turn.
  struct Row { std::string customer, instance[kInstancesPerCustomer], connection[kConnectionsPerCustomer]; };
  std::vector<Row> rows(static_cast<std::size_t>(customers));
  for (auto& r : rows) {
    r.customer = uuid();
    for (auto& i : r.instance) i = uuid();
    for (auto& conn : r.connection) conn = uuid();
  }
  pqxx::stream_to customer_rows(tx, "customers", std::vector<std::string>{"id", "name"});
  for (const auto& r : rows) customer_rows << std::make_tuple(r.customer, "bench customer");
  customer_rows.complete();
  pqxx::stream_to instance_rows(tx, "instances", std::vector<std::string>{"id", "customer_id", "name"});
  for (const auto& r : rows) {
    for (const auto& i : r.instance) instance_rows << std::make_tuple(i, r.customer, "agent");
  }
  instance_rows.complete();

  pqxx::stream_to connection_rows(tx, "connections",
                                  std::vector<std::string>{"id", "customer_id", "provider", "name", "auth_type"});
  for (const auto& r : rows) {
    for (int k = 0; k < kConnectionsPerCustomer; ++k) {
      connection_rows << std::make_tuple(r.connection[k], r.customer, kProviders[k % kProviders.size()],
                                         "account-" + std::to_string(k) + "@example.com", "api_key");
    }
  }
  connection_rows.complete();

  pqxx::stream_to secret_rows(tx, "connection_secrets", std::vector<std::string>{"connection_id", "key_id", "ciphertext"});
  for (const auto& r : rows) {
    for (const auto& conn : r.connection) {
      const auto sealed = sealer.seal(R"({"api_key":"bench-)" + conn + R"(","base_url":"https://api.example.com"})",
                                      crypto::connectionAad(r.customer, conn));
      secret_rows << std::make_tuple(conn, sealed.key_id, bytea(sealed.ciphertext));
    }
  }
  secret_rows.complete();
  pqxx::stream_to grant_rows(tx, "grants",
                             std::vector<std::string>{"customer_id", "connection_id", "instance_id", "capabilities"});
  for (const auto& r : rows) {
    for (const auto& conn : r.connection) {
      for (const auto& i : r.instance) grant_rows << std::make_tuple(r.customer, conn, i, R"(["read","write"])");
    }
  }
  grant_rows.complete();

  pqxx::stream_to key_rows(tx, "proxy_keys", std::vector<std::string>{"customer_id", "instance_id", "key_hash"});
  for (const auto& r : rows) {
    for (const auto& i : r.instance) {
      const auto key = crypto::newSecretToken("hcp_");
      key_rows << std::make_tuple(r.customer, i, bytea(crypto::tokenHash(key)));
      for (int k = 0; k < kConnectionsPerCustomer; ++k) {
        std::cout << i << ' ' << key << ' ' << kProviders[k % kProviders.size()] << " account-" << k
                  << "%40example.com\n";
      }
    }
  }
  key_rows.complete();
  tx.commit();
  return 0;
}
