#pragma once
// A runtime's credential fetch: one lookup, the rules (decision.hpp), the audit record
// committed, and only then the opened credentials.

#include <optional>
#include <string>

#include "broker/services/audit_trail.hpp"
#include "broker/services/decision.hpp"
#include "broker/services/refresher.hpp"
#include "shared/crypto/open.hpp"
#include "shared/db/pool.hpp"
#include "shared/http/errors.hpp"

namespace hydra::broker {

struct Released {
  std::string credentials_json;   // plaintext: goes into the response and nowhere else
  std::string capabilities_json;  // the grant's capabilities
};

class FetchService {
 public:
  FetchService(hydra::db::Pool& pool, const crypto::Opener& opener, AuditTrail& audit, Refresher& refresher)
      : pool_(pool), opener_(opener), audit_(audit), refresher_(refresher) {}

  /// Throws http::ApiError for every refusal, after its audit record is committed.
  Released fetch(const FetchQuery& query, const std::optional<std::string>& proxy_key, const std::string& peer);

 private:
  Lookup lookup(const std::string& proxy_key, const FetchQuery& query);
  /// Commits `record` as a refusal, then throws `error`.
  [[noreturn]] void refuse(AuditRecord record, const char* outcome, const std::string& reason,
                           const http::ApiError& error);

  hydra::db::Pool& pool_;
  const crypto::Opener& opener_;
  AuditTrail& audit_;
  Refresher& refresher_;
};

}  // namespace hydra::broker
