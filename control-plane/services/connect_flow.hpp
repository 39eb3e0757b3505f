#pragma once
// The browser's side of the connect flow (issue 20): what the link's page shows, Continue (to
// the provider), Cancel, the provider's callback and the waiting page's status. The link's
// token, the OAuth state and the browser's cookie are each checked by their SHA-256 hash; the
// code is stored only sealed to the broker (with the PKCE verifier and the redirect URI), in the
// transaction that makes the pending connection and its grants (design interface 3).

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shared/crypto/seal.hpp"
#include "shared/db/pool.hpp"

namespace hydra::cp {

/// Why a page refuses: the link (or callback) is unknown, used, expired, or not this browser's.
enum class LinkState { kOk, kUnknown, kUsed, kExpired };

struct LinkPage {
  LinkState state = LinkState::kUnknown;
  std::string customer_name, provider;
  /// Each scope asked for, with what it allows in words where the provider's registry says.
  std::vector<std::pair<std::string, std::optional<std::string>>> scopes;
  /// Where the page's forms may lead (its form-action): the provider's authorization URL and
  /// the customer's error_url, as origins.
  std::vector<std::string> form_targets;
};

struct ContinueResult {
  LinkState state = LinkState::kUnknown;
  bool no_client = false;   // the provider lost its shared client since the link was made
  std::string location;     // the provider's authorization URL with the flow's parameters
  std::string cookie;       // the browser's new hydra_connect value
};

struct CancelResult {
  LinkState state = LinkState::kUnknown;
  std::optional<std::string> location;  // error_url?error=access_denied, when there is one
};

struct CallbackInput {
  std::optional<std::string> state, code, error, error_description, cookie;
};

struct CallbackResult {
  enum class Kind { kWaiting, kRefused, kDenied } kind = Kind::kRefused;
  int status = 400;
  std::string message;                  // why, for the error page (plain text, escaped there)
  std::optional<std::string> location;  // a denial's error_url?error=...
  std::string session_id;               // kWaiting: what the waiting page polls
};

struct FlowStatus {
  bool found = false;  // false: no such session, or not this browser's
  std::string status;
  std::optional<std::string> connection_id, error;
  /// Where the waiting page sends the browser once the session has ended: success_url with
  /// connection_id, or error_url with error; none: the page shows the outcome itself.
  std::optional<std::string> location;
  bool ended = false;
};

class ConnectFlow {
 public:
  /// `public_url`: HYDRA_PUBLIC_URL (the redirect URI is public_url + "/connect/callback").
  ConnectFlow(hydra::db::Pool& pool, const crypto::Sealer& sealer, std::string public_url)
      : pool_(pool), sealer_(sealer), public_url_(std::move(public_url)) {}

  std::string redirectUri() const { return public_url_ + "/connect/callback"; }
  /// The cookie must be Secure: the public URL is https.
  bool secureCookie() const { return public_url_.rfind("https://", 0) == 0; }
  /// The cookie's Path: the public URL's path (a proxy's prefix, if any) + "/connect".
  std::string cookiePath() const;

  LinkPage view(const std::string& token);
  /// pending -> authorizing, once: a random state and cookie (stored hashed), the PKCE challenge
  /// of the verifier derived from both (connect/secrets.hpp), and the URL to send the browser to.
  ContinueResult begin(const std::string& token);
  /// pending -> failed ("access_denied").
  CancelResult cancel(const std::string& token);
  CallbackResult callback(const CallbackInput& input);
  FlowStatus status(const std::string& session_id, const std::optional<std::string>& cookie);

 private:
  /// Marks an authorizing session failed with `error` in a transaction of its own.
  void fail(const std::string& session_id, const std::string& error);

  hydra::db::Pool& pool_;
  const crypto::Sealer& sealer_;
  const std::string public_url_;
};

}  // namespace hydra::cp
