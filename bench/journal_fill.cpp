// Fills an audit journal with N records through the broker's own Journal (group commits of up to
// a few thousand records), for timing `hydracore-audit verify` on a large journal.
//   hydra-bench-journal DIR SIGNING_KEY_PEM N
#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>

#include "broker/audit/journal.hpp"
#include "broker/audit/signing_key.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: hydra-bench-journal DIR SIGNING_KEY_PEM N\n";
    return 2;
  }
  using namespace hydra::audit;
  using namespace hydra::broker::audit;
  const long n = std::stol(argv[3]);
  JournalOptions options;
  options.dir = argv[1];
  options.checkpoint_interval = std::chrono::seconds(1);
  Journal journal(options, readSigningKey(argv[2]));
  std::mutex mutex;
  std::condition_variable room;
  long in_flight = 0, failed = 0;
  for (long i = 0; i < n; ++i) {
    AuditRecord record;
    record.customer_id = "0473b088-4267-4c93-bd9f-82b8ef17caa1";
    record.instance_id = "9d6c1c6e-1b7e-4b8a-9a57-5b0e6f1c2d3e";
    record.proxy_key_id = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9";
    record.connection_id = "2c3d4e5f-6071-4829-93a4-b5c6d7e8f9a0";
    record.provider = "gmail";
    record.name = "inbox@example.com";
    record.capability = "send_mail";
    record.outcome = "allowed";
    record.reason = "granted";
    record.request_id = std::to_string(i);
    record.peer = "10.20.30.40";
    std::unique_lock<std::mutex> lock(mutex);
    room.wait(lock, [&] { return in_flight < 20000; });
    ++in_flight;
    lock.unlock();
    journal.append(std::move(record), [&](bool durable) {
      std::lock_guard<std::mutex> guard(mutex);
      --in_flight;
      if (!durable) ++failed;
      room.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(mutex);
  room.wait(lock, [&] { return in_flight == 0; });
  std::cout << journal.durableSize() << " records journaled, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
