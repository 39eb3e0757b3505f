#pragma once
// A runtime's credential fetch (see broker/DESIGN.md):
//  - from memory, on the server thread, when memory is current and says "allowed";
//  - otherwise from the database, on a worker thread: misses, every refusal (memory never
//    refuses), and tokens due for a refresh;
// then, on either path, the decision's audit record is appended to the journal, and the
// answer is given only once the record is durable.

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "broker/audit/journal.hpp"
#include "broker/authz/memory.hpp"
#include "broker/services/decision.hpp"
#include "broker/services/refresher.hpp"
#include "broker/services/work_queue.hpp"
#include "shared/crypto/open.hpp"
#include "shared/db/pool.hpp"
#include "shared/http/auth_throttle.hpp"
#include "shared/http/errors.hpp"
#include "shared/net/client_address.hpp"

namespace hydra::broker {

struct FetchRequest {
  FetchQuery query;
  identity::RuntimeCheck runtime;  // what the client certificate proves (runtime identity)
  std::optional<std::string> proxy_key;
  net::ClientAddress client;  // the TCP peer, or who a trusted proxy says sent it
  std::string request_id;
};

struct Released {
  std::string credentials_json;   // plaintext: goes into the response and nowhere else
  std::string capabilities_json;  // the grant's capabilities
};

/// The credentials, or the refusal to send instead.
using FetchResult = std::variant<Released, http::ApiError>;
/// Called exactly once, possibly on another thread, after the audit record is durable.
using FetchDone = std::function<void(FetchResult)>;

/// What the proxy route gets from the checks a fetch makes (query.use = kProxy): the chosen
/// connection and its credentials, opened and, for oauth2, refreshed first when due.
struct Authorized {
  std::string customer_id, proxy_key_id;
  Candidate chosen;
  std::string credentials_json;  // plaintext, refresh token included: used, never released
};
/// The authorization, or the refusal to answer; and the audit record so far (who asked, the
/// connection, and for a refusal its outcome and reason), which the caller completes and
/// appends. No record: a refusal given before any lookup (a throttled key or address), which
/// is not audited, as for the fetch.
using AuthorizeDone =
    std::function<void(std::variant<Authorized, http::ApiError>, std::optional<hydra::audit::AuditRecord>)>;

class FetchService {
 public:
  FetchService(hydra::db::Pool& pool, WorkQueue& workers, authz::Memory& memory, const crypto::Opener& opener,
               Refresher& refresher, audit::Journal& journal, http::AuthThrottle& throttle)
      : pool_(pool), workers_(workers), memory_(memory), opener_(opener), refresher_(refresher), journal_(journal),
        throttle_(throttle) {}

  void fetch(FetchRequest request, FetchDone done);
  /// The same checks, for a call the broker makes with the credentials: nothing is journaled
  /// here and nothing released; `done` is called exactly once, possibly on another thread.
  void authorize(FetchRequest request, AuthorizeDone done);

 private:
  struct Work;
  /// Answers from memory if it can (allowed, and no token to refresh); false if the database
  /// must decide.
  bool fromMemory(Work& work);
  /// The refusal a presented key gets before any lookup (401 if known bad, 429), if any.
  std::optional<http::ApiError> throttleWait(const Work& work, http::AuthThrottle::Clock::time_point now);
  void fromDatabase(const std::shared_ptr<Work>& work);
  std::shared_ptr<const Lookup> lookup(const Work& work);
  /// The chosen connection's credentials, opened: tag and row-bound associated data checked;
  /// with runtime identity, bound to the certificate's customer.
  std::string opened(const Work& work, const Lookup& lookup, const Candidate& chosen) const;
  void start(const std::shared_ptr<Work>& work, FetchRequest request);
  /// `credentials`: opened and fresh.
  void allow(Work& work, const Lookup& lookup, const Candidate& chosen, std::string credentials);
  void refuse(Work& work, const char* outcome, const http::ApiError& error);
  /// A fetch: makes the record durable, then calls done. An authorization: hands both over.
  void finish(Work& work, FetchResult result);
  /// Refused before any lookup: answered without a record.
  void finishUnaudited(Work& work, const http::ApiError& error);

  hydra::db::Pool& pool_;
  WorkQueue& workers_;
  authz::Memory& memory_;
  const crypto::Opener& opener_;
  Refresher& refresher_;
  audit::Journal& journal_;
  http::AuthThrottle& throttle_;
};

}  // namespace hydra::broker
