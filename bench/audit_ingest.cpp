// PostgreSQL's CPU per shipped audit record, measured where it is spent: ships N journal lines
// through the broker's own Shipment (COPY, and the last uses) in batches of B, as
// the broker role, and reads the CPU time of the PostgreSQL backend serving it from /proc
// (PostgreSQL on this host). CPU time, unlike wall time, barely moves with other load on the
// machine, so variants of the schema can be compared on a busy machine.
//   hydra-bench-audit-ingest DATABASE_URL N BATCH [CUSTOMERS]
// Prints: records, batch, backend CPU us per record, wall us per record.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "broker/audit/shipment.hpp"
#include "broker/db/statements.hpp"
#include "shared/audit/record.hpp"

namespace {

// utime + stime of a process, in microseconds.
double cpuMicros(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string uuidOf(long n, int kind) {
  char text[64];
  std::snprintf(text, sizeof text, "%08lx-%04x-4000-8000-%012lx", static_cast<unsigned long>(n) & 0xffffffffUL,
                kind & 0xffff, (static_cast<unsigned long>(n) * 7919) & 0xffffffffffffUL);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: hydra-bench-audit-ingest DATABASE_URL N BATCH [CUSTOMERS]\n";
    return 2;
  }
  using namespace hydra::audit;
  using namespace hydra::broker::audit;
  const long n = std::stol(argv[2]), batch_size = std::stol(argv[3]);
  const long customers = argc > 4 ? std::stol(argv[4]) : 1000;
  pqxx::connection connection(argv[1]);
  hydra::broker::db::prepareStatements(connection);
  const int backend = pqxx::nontransaction(connection).exec1("SELECT pg_backend_pid()")[0].as<int>();
  const std::string origin = "hydracore-broker/" + uuidOf(static_cast<long>(getpid()), 9);

  // The lines first: the broker writes them before shipping, so their making is not measured.
  std::vector<std::string> lines;
  const auto start_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Fetches in random order, as bench/broker.sh's: each of a customer's 2 instances and 10
  // connections (a fixed seed: every run ships the same records).
  std::mt19937_64 random(21);
  for (long seq = 0; seq < n; ++seq) {
    const long customer = static_cast<long>(random() % static_cast<unsigned long>(customers));
    const long instance = customer * 2 + static_cast<long>(random() % 2);
    AuditRecord r;
    r.customer_id = uuidOf(customer, 1);
    r.instance_id = uuidOf(instance, 2);
    r.proxy_key_id = uuidOf(instance, 3);
    r.connection_id = uuidOf(customer * 10 + static_cast<long>(random() % 10), 4);
    r.provider = "gmail";
    r.name = "inbox";
    r.capability = "send_mail";
    r.outcome = seq % 50 == 0 ? "denied" : "allowed";
    r.reason = seq % 50 == 0 ? "Grant does not include capability" : "granted";
    r.request_id = "req-" + std::to_string(seq);
    r.peer = "10.0.0." + std::to_string(seq % 200);
    lines.push_back(journalLine(static_cast<std::uint64_t>(seq), origin, formatMicros(start_micros + seq * 10), r));
  }

  LastUses last_uses;
  Partitions partitions;
  const auto cpu_before = cpuMicros(backend);
  const auto wall_before = std::chrono::steady_clock::now();
  for (long first = 0; first < n; first += batch_size) {
    Shipment batch(origin);
    for (long i = first; i < std::min(n, first + batch_size); ++i) batch.add(lines[static_cast<std::size_t>(i)], last_uses);
    partitions.make(connection, batch.weeks());
    batch.send(connection);
    last_uses.told(batch.uses());
  }
  const auto wall = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall_before).count();
  const auto cpu = cpuMicros(backend) - cpu_before;
  std::printf("records %ld  batch %ld  PostgreSQL backend CPU %.1f us/record  wall %.1f us/record\n", n, batch_size,
              cpu / static_cast<double>(n), wall / static_cast<double>(n));
  return 0;
}
