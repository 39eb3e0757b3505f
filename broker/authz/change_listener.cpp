#include "broker/authz/change_listener.hpp"

#include <algorithm>
#include <charconv>

#include <pqxx/pqxx>

#include "broker/db/listen_retry.hpp"
#include "shared/crypto/random.hpp"
#include "shared/log/log.hpp"

namespace hydra::broker::authz {
namespace {

using Clock = Memory::Clock;
constexpr const char* kChangesChannel = "hydra_authz";
constexpr auto kMaxRetryWait = std::chrono::seconds(2);

// "<table> <customer id>", or "<table> *" when a TRUNCATE emptied the table (schema/0017).
class ChangeReceiver : public pqxx::notification_receiver {
 public:
  ChangeReceiver(pqxx::connection_base& c, Memory& memory, const std::function<void()>& changed)
      : notification_receiver(c, kChangesChannel), memory_(memory), changed_(changed) {}
  void operator()(const std::string& payload, int) override {
    if (changed_) changed_();
    const auto space = payload.find(' ');
    const auto customer =
        space == std::string::npos ? std::string_view(payload) : std::string_view(payload).substr(space + 1);
    if (customer == "*") {
      memory_.allCustomersChanged();
    } else {
      memory_.customerChanged(customer);
    }
  }

 private:
  Memory& memory_;
  const std::function<void()>& changed_;
};

// Our own ticks: the payload is the monotonic time at which it was sent. Only our session
// sends on this channel; one from another backend (not ours) is ignored.
class TickReceiver : public pqxx::notification_receiver {
 public:
  TickReceiver(pqxx::connection_base& c, const std::string& channel, Memory& memory, int backend)
      : notification_receiver(c, channel), memory_(memory), backend_(backend) {}
  void operator()(const std::string& payload, int backend_pid) override {
    Clock::rep sent = 0;
    const auto parsed = std::from_chars(payload.data(), payload.data() + payload.size(), sent);
    if (backend_pid != backend_ || parsed.ec != std::errc() || parsed.ptr != payload.data() + payload.size()) return;
    memory_.tickReturned(Clock::time_point(Clock::duration(sent)));
  }

 private:
  Memory& memory_;
  const int backend_;
};

}  // namespace

ChangeListener::ChangeListener(std::string database_url, Memory& memory, std::chrono::milliseconds staleness,
                               std::function<void()> changed)
    : url_(std::move(database_url)), memory_(memory), changed_(std::move(changed)),
      tick_interval_(std::max<std::chrono::milliseconds>(staleness / 4, std::chrono::milliseconds(1))),
      thread_([this] { run(); }) {}

ChangeListener::~ChangeListener() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool ChangeListener::stopping() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

void ChangeListener::run() {
  db::ListenRetry retry(kMaxRetryWait);
  while (!stopping()) {
    bool listened = false;
    try {
      listen(listened);
    } catch (const std::exception& e) {
      // Until a new connection listens, nothing is served from memory.
      memory_.everythingChanged();
      if (changed_) changed_();
      if (retry.failed(listened)) {
        log::app().warning(std::string("change listener: ") + e.what() +
                           "; fetches are decided from the database until it listens again");
      }
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, retry.nextWait(), [&] { return stopping_; });
  }
}

void ChangeListener::listen(bool& listened) {
  pqxx::connection connection(url_);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  // A silent reconnection would drop our LISTENs and every notification sent meanwhile, while
  // the ticks went on proving memory current: fail instead, and start over.
  connection.inhibit_reactivation(true);
#pragma GCC diagnostic pop
  const auto id = crypto::randomBytes(8);
  const auto tick_channel = "hydra_tick_" + crypto::hex(id.data(), id.size());
  ChangeReceiver changes(connection, memory_, changed_);
  TickReceiver ticks(connection, tick_channel, memory_, connection.backendpid());
  // Listening from here on: forget what may have changed before.
  memory_.everythingChanged();
  log::app().information("change listener: listening (memory is used once the first tick returns)");
  listened = true;

  auto next_tick = Clock::now();
  while (!stopping()) {
    const auto now = Clock::now();
    if (now >= next_tick) {
      pqxx::nontransaction(connection)
          .exec_params("SELECT pg_notify($1, $2)", tick_channel, std::to_string(now.time_since_epoch().count()));
      next_tick = now + tick_interval_;
    }
    const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(next_tick - Clock::now());
    connection.await_notification(0, std::max<long>(static_cast<long>(wait.count()), 0));
  }
}

}  // namespace hydra::broker::authz
