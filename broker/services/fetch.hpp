#pragma once
// A runtime's credential fetch: one lookup, the rules (decision.hpp), the audit record
// committed, and only then the opened credentials.

#include <optional>
#include <string>

#include "broker/services/audit_trail.hpp"
#include "broker/services/decision.hpp"
#include "shared/crypto/open.hpp"
#include "shared/db/pool.hpp"

namespace hydra::broker {

struct Released {
  std::string credentials_json;   // plaintext: goes into the response and nowhere else
  std::string capabilities_json;  // the grant's capabilities
};

class FetchService {
 public:
  FetchService(hydra::db::Pool& pool, const crypto::Opener& opener, AuditTrail& audit)
      : pool_(pool), opener_(opener), audit_(audit) {}

  /// Throws http::ApiError for every refusal, after its audit record is committed.
  Released fetch(const FetchQuery& query, const std::optional<std::string>& proxy_key, const std::string& peer);

 private:
  Lookup lookup(const std::string& proxy_key, const FetchQuery& query);
  /// Commits `record` as a refusal and throws the matching ApiError.
  [[noreturn]] void refuse(AuditRecord record, const char* outcome, int status, const std::string& reason,
                           const std::string& detail);

  hydra::db::Pool& pool_;
  const crypto::Opener& opener_;
  AuditTrail& audit_;
};

}  // namespace hydra::broker
