#pragma once
// A small HTTP client for the end-to-end tests, on Poco::Net::HTTPClientSession, and checked
// accessors for the JSON it receives (RapidJSON asserts on a wrong-type Get*; these throw,
// which fails the CHECK that called them instead of crashing the test).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

namespace hydra::test {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  bool is_json = false;    // the body parsed as JSON
  rapidjson::Document json;  // the parsed body (null when !is_json)

  std::optional<std::string> header(const std::string& name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

Headers bearer(const std::string& token);

/// HTTPS for a client: the server's certificate verified against `ca_file` (chain and host
/// name), and the client certificate `cert_file` with its key `key_file` presented when the
/// server asks for one (both empty: none).
struct ClientTls {
  std::string ca_file, cert_file, key_file;
};

class HttpClient {
 public:
  /// `host`: the server's address ("127.0.0.1", "::1"); `source`: the address to send from
  /// ("127.0.0.2"; empty: the system chooses).
  explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1", std::string source = "")
      : port_(port), host_(std::move(host)), source_(std::move(source)) {}
  /// The same over HTTPS with `tls`.
  HttpClient(std::uint16_t port, ClientTls tls, std::string host = "127.0.0.1", std::string source = "")
      : port_(port), host_(std::move(host)), source_(std::move(source)), tls_(std::move(tls)) {}

  /// This client presenting `cert_file` and `key_file` (it must speak HTTPS already).
  HttpClient withClientCertificate(const std::string& cert_file, const std::string& key_file) const;

  /// One request on a fresh connection (so a test never depends on the server's idle
  /// timeouts). A non-empty body is sent as application/json unless `headers` says otherwise.
  Response request(const std::string& method, const std::string& path, const std::string& body = "",
                   const Headers& headers = {}) const;

  std::uint16_t port() const { return port_; }
  const std::optional<ClientTls>& tls() const { return tls_; }

 private:
  friend class HttpSession;

  std::uint16_t port_;
  std::string host_, source_;
  std::optional<ClientTls> tls_;
};

/// One connection of `client`'s, kept open for several requests (HTTP/1.1 keep-alive, and over
/// HTTPS one handshake): for what a server decides per request on a connection it keeps. A
/// request the server no longer answers on it throws (the session never reconnects).
class HttpSession {
 public:
  explicit HttpSession(const HttpClient& client);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  Response request(const std::string& method, const std::string& path, const std::string& body = "",
                   const Headers& headers = {});

 private:
  struct Connection;
  std::string host_;
  std::uint16_t port_;
  std::unique_ptr<Connection> connection_;
};

// Reading response JSON --------------------------------------------------------------------

/// Compact JSON text of a value: compare whole values with R"(...)" literals.
std::string jsonText(const rapidjson::Value& value);
/// True if `value` equals the JSON in `expected` (object member order does not matter).
bool sameJson(const rapidjson::Value& value, const std::string& expected);
/// The member `key` of an object; throws if `value` is not an object or has no such member.
const rapidjson::Value& member(const rapidjson::Value& value, const char* key);
/// The string member `key`; throws if missing or not a string.
std::string text(const rapidjson::Value& value, const char* key);
/// The member names of an object (throws if not an object).
std::set<std::string> keys(const rapidjson::Value& value);
/// The elements of an array (throws if not an array).
std::vector<const rapidjson::Value*> items(const rapidjson::Value& value);

/// The element of an array of objects whose "id" is `id`; throws if there is none.
const rapidjson::Value& findById(const rapidjson::Value& array, const std::string& id);

/// RFC 3339 in UTC with a Z suffix: 2024-05-01T12:00:00Z or with a fraction.
bool isUtcTimestamp(const std::string& s);
/// Lower-case 8-4-4-4-12 hex.
bool isUuid(const std::string& s);
std::string randomUuid();

/// One entry of a FastAPI 422: loc as compact JSON text, e.g. ["body","name"].
struct Problem {
  std::string loc, msg, type;
  bool operator<(const Problem& o) const { return std::tie(loc, type, msg) < std::tie(o.loc, o.type, o.msg); }
};
/// The entries of a 422 body, which must be exactly {"detail":[{"loc","msg","type"}...]}
/// (throws otherwise). Sorted, so tests need not depend on the order of problems.
std::vector<Problem> validationProblems(const Response& r);
/// The loc/type pairs only, sorted: "[\"body\",\"name\"] missing".
std::vector<std::string> problemLocTypes(const Response& r);
/// The detail of an error body that must be exactly {"detail": "<string>"} (throws otherwise).
std::string errorDetail(const Response& r);

}  // namespace hydra::test
