#pragma once
// The broker's side of the connect flow (issue 20): exchanges the authorization codes the
// control plane stored, sealed to the broker, for tokens, and seals those into the connection.
// The control plane never sees a token, a code, a PKCE verifier or a client secret.
//
// One thread: it publishes the registry's connect providers once (retrying until PostgreSQL
// takes them), LISTENs on `hydra_connect` on a connection of its own (the trigger of
// schema/0025 notifies a session's id when it becomes `exchanging`) and also looks every few
// seconds, since notifications are lost with their connection. Each session is claimed with
// `FOR UPDATE SKIP LOCKED` in a transaction held for its whole exchange: across brokers a
// session is exchanged once, and a session being exchanged is skipped, not waited for.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "broker/audit/journal.hpp"
#include "broker/providers/registry.hpp"
#include "shared/crypto/open.hpp"
#include "shared/crypto/seal.hpp"
#include "shared/db/pool.hpp"

namespace hydra::broker {

struct ConnectExchangeSettings {
  std::chrono::milliseconds poll{std::chrono::seconds(3)};  // looks for sessions this often
  std::chrono::milliseconds exchange_timeout{std::chrono::seconds(30)};  // one request, connect to last byte
  int attempts = 4;  // a provider down (5xx, 429, timeout) is asked again, with backoff
  std::chrono::milliseconds first_backoff{500};
};

class ConnectExchange {
 public:
  /// `pool`: connections for the exchanges (each holds one while the provider answers).
  ConnectExchange(std::string database_url, hydra::db::Pool& pool, const crypto::Opener& opener,
                  const crypto::Sealer& sealer, const providers::ProviderRegistry& providers, audit::Journal& journal,
                  ConnectExchangeSettings settings = {});
  ~ConnectExchange();
  ConnectExchange(const ConnectExchange&) = delete;
  ConnectExchange& operator=(const ConnectExchange&) = delete;

 private:
  struct Outcome {
    bool connected = false;
    std::string customer_id, session_id, provider, reason;
    std::optional<std::string> connection_id;
  };
  void run();
  /// One LISTEN connection's life: returns when stopping, throws when it fails; `listened` is
  /// set once it listens.
  void listen(bool& listened);
  /// Exchanges every session waiting, one at a time; database failures are logged.
  void drain();
  /// Claims and exchanges one session; nullopt when none is waiting (or all are taken).
  std::optional<Outcome> exchangeOne();
  /// The claim and exchange in one transaction; sets `granted` once the provider issued tokens.
  std::optional<Outcome> exchangeLocked(bool& granted, std::string& session_id);
  void record(const Outcome& outcome);
  void publishOnce();
  bool stopping();

  const std::string url_;
  hydra::db::Pool& pool_;
  const crypto::Opener& opener_;
  const crypto::Sealer& sealer_;
  const providers::ProviderRegistry& providers_;
  audit::Journal& journal_;
  const ConnectExchangeSettings settings_;
  bool published_ = false;        // the thread's own
  bool draining_failed_ = false;  // the thread's own: the last look failed
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hydra::broker
