#include "tests/support/http_client.hpp"

#include <strings.h>

#include <algorithm>
#include <csignal>
#include <mutex>
#include <random>
#include <regex>
#include <stdexcept>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace hydra::test {

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::optional<std::string> Response::header(const std::string& name) const {
  const auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

namespace {

/// One client context per set of files, made once: loading the files for every request would
/// slow the load tests, and an SSL_CTX serves many connections and threads.
Poco::Net::Context::Ptr clientContext(const ClientTls& tls) {
  static std::mutex mutex;
  static std::map<std::tuple<std::string, std::string, std::string>, Poco::Net::Context::Ptr> contexts;
  const std::lock_guard<std::mutex> lock(mutex);
  static const bool initialized = [] {
    Poco::Net::initializeSSL();
    // A server certificate that fails verification is refused, never prompted for.
    Poco::SharedPtr<Poco::Net::InvalidCertificateHandler> reject = new Poco::Net::RejectCertificateHandler(false);
    Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, nullptr);
    return true;
  }();
  (void)initialized;
  auto& context = contexts[{tls.ca_file, tls.cert_file, tls.key_file}];
  if (!context) {
    context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, tls.key_file, tls.cert_file, tls.ca_file,
                                     Poco::Net::Context::VERIFY_RELAXED, 9, false);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  }
  return context;
}

}  // namespace

HttpClient HttpClient::withClientCertificate(const std::string& cert_file, const std::string& key_file) const {
  if (!tls_) throw std::logic_error("withClientCertificate: this client does not speak HTTPS");
  return HttpClient(port_, ClientTls{tls_->ca_file, cert_file, key_file}, host_, source_);
}

namespace {

/// A connection to `host`:`port` from `source` (empty: any), TLS over it with `tls`.
Poco::Net::StreamSocket connectTo(const std::string& host, std::uint16_t port, const std::string& source,
                                  const std::optional<ClientTls>& tls) {
  // A server that answers early and closes must fail the request, not kill the test.
  static const bool sigpipe_ignored = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;
  (void)sigpipe_ignored;
  const Poco::Net::SocketAddress server(host, port);
  Poco::Net::StreamSocket socket(server.family());
  if (!source.empty()) socket.impl()->bind(Poco::Net::SocketAddress(source, 0), false);
  socket.connect(server, Poco::Timespan(15, 0));
  // Over HTTPS the socket does the TLS (handshake included) and the session sees plain HTTP.
  if (tls) return Poco::Net::SecureStreamSocket::attach(socket, host, clientContext(*tls));
  return socket;
}

/// One request and its response on `session`.
Response exchange(Poco::Net::HTTPClientSession& session, const std::string& host, std::uint16_t port,
                  const std::string& method, const std::string& path, const std::string& body,
                  const Headers& headers) {
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setHost(host, port);  // Poco brackets an IPv6 host itself
  if (!body.empty()) request.setContentType("application/json");
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    request.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  session.sendRequest(request) << body;

  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Response out;
  out.status = static_cast<int>(response.getStatus());
  for (const auto& [name, value] : response) out.headers.emplace(name, value);
  Poco::StreamCopier::copyToString(in, out.body);
  if (!out.body.empty()) {
    out.json.Parse(out.body.data(), out.body.size());
    out.is_json = !out.json.HasParseError();
    if (!out.is_json) out.json.SetNull();
  }
  return out;
}

}  // namespace

Response HttpClient::request(const std::string& method, const std::string& path, const std::string& body,
                             const Headers& headers) const {
  Poco::Net::HTTPClientSession session(connectTo(host_, port_, source_, tls_));
  session.setTimeout(Poco::Timespan(15, 0));  // a hang fails the test instead of blocking it
  return exchange(session, host_, port_, method, path, body, headers);
}

struct HttpSession::Connection {
  explicit Connection(const Poco::Net::StreamSocket& socket) : session(socket) {}
  Poco::Net::HTTPClientSession session;
};

HttpSession::HttpSession(const HttpClient& client)
    : host_(client.host_),
      port_(client.port_),
      connection_(std::make_unique<Connection>(connectTo(client.host_, client.port_, client.source_, client.tls_))) {
  connection_->session.setTimeout(Poco::Timespan(15, 0));
  connection_->session.setKeepAlive(true);
}

HttpSession::~HttpSession() = default;

Response HttpSession::request(const std::string& method, const std::string& path, const std::string& body,
                              const Headers& headers) {
  return exchange(connection_->session, host_, port_, method, path, body, headers);
}

std::string jsonText(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool sameJson(const rapidjson::Value& value, const std::string& expected) {
  rapidjson::Document doc;
  doc.Parse(expected.data(), expected.size());
  if (doc.HasParseError()) throw std::runtime_error("sameJson: bad expected JSON " + expected);
  return value == doc;  // RapidJSON compares object members by name, in any order
}

const rapidjson::Value& member(const rapidjson::Value& value, const char* key) {
  if (!value.IsObject()) throw std::runtime_error(std::string("not a JSON object, looking for ") + key);
  const auto it = value.FindMember(key);
  if (it == value.MemberEnd()) throw std::runtime_error(std::string("no member ") + key + " in " + jsonText(value));
  return it->value;
}

std::string text(const rapidjson::Value& value, const char* key) {
  const auto& v = member(value, key);
  if (!v.IsString()) throw std::runtime_error(std::string("member ") + key + " is not a string: " + jsonText(v));
  return std::string(v.GetString(), v.GetStringLength());
}

std::set<std::string> keys(const rapidjson::Value& value) {
  if (!value.IsObject()) throw std::runtime_error("not a JSON object: " + jsonText(value));
  std::set<std::string> out;
  for (const auto& m : value.GetObject()) out.emplace(m.name.GetString(), m.name.GetStringLength());
  return out;
}

std::vector<const rapidjson::Value*> items(const rapidjson::Value& value) {
  if (!value.IsArray()) throw std::runtime_error("not a JSON array: " + jsonText(value));
  std::vector<const rapidjson::Value*> out;
  for (const auto& v : value.GetArray()) out.push_back(&v);
  return out;
}

const rapidjson::Value& findById(const rapidjson::Value& array, const std::string& id) {
  for (const auto* item : items(array)) {
    if (text(*item, "id") == id) return *item;
  }
  throw std::runtime_error("no element with id " + id + " in " + jsonText(array));
}

bool isUtcTimestamp(const std::string& s) {
  static const std::regex rfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z)");
  return std::regex_match(s, rfc3339);
}

bool isUuid(const std::string& s) {
  static const std::regex uuid(R"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
  return std::regex_match(s, uuid);
}

std::string randomUuid() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    out += "0123456789abcdef"[rd() % 16];
  }
  out[14] = '4';  // version 4, as a database would generate
  return out;
}

std::vector<Problem> validationProblems(const Response& r) {
  if (r.status != 422 || !r.is_json) throw std::runtime_error("not a JSON 422: " + r.body);
  if (keys(r.json) != std::set<std::string>{"detail"}) throw std::runtime_error("422 body has other keys: " + r.body);
  std::vector<Problem> out;
  for (const auto* entry : items(member(r.json, "detail"))) {
    if (keys(*entry) != std::set<std::string>{"loc", "msg", "type"}) {
      throw std::runtime_error("422 entry is not exactly {loc, msg, type}: " + jsonText(*entry));
    }
    const auto& loc = member(*entry, "loc");
    for (const auto* part : items(loc)) {
      if (!part->IsString() && !part->IsInt()) throw std::runtime_error("bad loc element: " + jsonText(loc));
    }
    out.push_back({jsonText(loc), text(*entry, "msg"), text(*entry, "type")});
  }
  if (out.empty()) throw std::runtime_error("422 with an empty detail list");
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> problemLocTypes(const Response& r) {
  std::vector<std::string> out;
  for (const auto& p : validationProblems(r)) out.push_back(p.loc + " " + p.type);
  std::sort(out.begin(), out.end());
  return out;
}

std::string errorDetail(const Response& r) {
  if (!r.is_json) throw std::runtime_error("error body is not JSON: " + r.body);
  if (keys(r.json) != std::set<std::string>{"detail"}) throw std::runtime_error("error body has other keys: " + r.body);
  return text(r.json, "detail");
}

}  // namespace hydra::test
