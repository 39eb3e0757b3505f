// The audit trail's listing filters and its export (issue 21, "Listing"): connection_id,
// instance_id, outcome, since and until, alone and together, across pages of the id cursor;
// FastAPI 422s for bad values; one customer never sees another's events, even events naming the
// same connection and instance ids; the export streams JSON lines, oldest first, in chunks, each
// line exactly the listing's event, honouring the same filters, and a failure in the middle of
// it shows as an answer without its last chunk. Rows are inserted as the superuser (the
// broker's shipping is tested in test_broker_audit.cpp and test_audit_journal.cpp), so their
// times and values are chosen; one test makes them with the real broker.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <limits>
#include <map>
#include <sstream>
#include <thread>

#include "tests/support/api.hpp"
#include "tests/support/broker.hpp"

using namespace hydra::test;

namespace {

// Events are a minute apart from here on.
constexpr const char* kStart = "2026-03-01T00:00:00Z";

struct Ids {
  std::vector<std::string> connections{randomUuid(), randomUuid(), randomUuid()};
  std::vector<std::string> instances{randomUuid(), randomUuid()};
};

// Rows 1..n of the pattern (event g at kStart + g minutes): connection g % 3, instance g % 2,
// denied when g % 7 == 0, else error when g % 11 == 0, else allowed; every fifth a proxied
// call. `customer_of(g)` is an SQL expression of g naming the customer.
void seed(const TestDatabase& db, const std::string& customer_of, const Ids& ids, int n) {
  // The trail is partitioned by week (schema/0022): the weeks seeded need their partitions.
  db.exec("SELECT audit_events_create_partition(w) FROM generate_series($1::timestamptz, "
          "$1::timestamptz + ($2 + 1) * interval '1 minute' + interval '1 week', interval '1 week') w",
          kStart, n);
  db.exec("INSERT INTO audit_events (occurred_at, customer_id, connection_id, instance_id, proxy_key_id, outcome, "
          "reason, request_id, provider, name, capability, peer, method, path, upstream_status, request_bytes, "
          "response_bytes, duration_us) "
          "SELECT $1::timestamptz + g * interval '1 minute', " +
              customer_of +
              ", (ARRAY[$2, $3, $4]::uuid[])[g % 3 + 1], (ARRAY[$5, $6]::uuid[])[g % 2 + 1], gen_random_uuid(), "
              "CASE WHEN g % 7 = 0 THEN 'denied' WHEN g % 11 = 0 THEN 'error' ELSE 'allowed' END, "
              "'seeded ' || g, 'req-' || g, 'gmail', 'inbox', 'send_mail', '127.0.0.1', "
              "CASE WHEN g % 5 = 0 THEN 'POST' END, CASE WHEN g % 5 = 0 THEN '/gmail/v1/users/me/messages/send' END, "
              "CASE WHEN g % 5 = 0 THEN 200 END, CASE WHEN g % 5 = 0 THEN g END, CASE WHEN g % 5 = 0 THEN 2 * g END, "
              "CASE WHEN g % 5 = 0 THEN 1000 + g END "
              "FROM generate_series(1, $7) g",
          kStart, ids.connections[0], ids.connections[1], ids.connections[2], ids.instances[0], ids.instances[1], n);
}

// kStart + `minutes`, as RFC 3339 UTC.
std::string at(int minutes, const std::string& fraction = "") {
  char text[40];
  std::snprintf(text, sizeof text, "2026-03-%02dT%02d:%02d:00%sZ", 1 + minutes / 1440, minutes / 60 % 24, minutes % 60,
                fraction.c_str());
  return text;
}

// A case: the query string, and the same filter as SQL over audit_events for the oracle.
struct Case {
  std::string query, sql;
};

std::vector<Case> filterCases(const Ids& ids) {
  const auto& c = ids.connections;
  const auto& i = ids.instances;
  return {
      {"", "true"},
      {"connection_id=" + c[1], "connection_id = '" + c[1] + "'"},
      // Upper case is the same UUID.
      {"instance_id=" + [&] { auto u = i[0]; for (auto& ch : u) ch = static_cast<char>(std::toupper(ch)); return u; }(),
       "instance_id = '" + i[0] + "'"},
      {"outcome=allowed", "outcome = 'allowed'"},
      {"outcome=denied", "outcome = 'denied'"},
      {"outcome=error", "outcome = 'error'"},
      {"outcome=refresh_failed", "outcome = 'refresh_failed'"},  // none
      {"outcome=connected", "outcome = 'connected'"},            // none: accepted (schema/0026)
      {"outcome=connect_failed", "outcome = 'connect_failed'"},  // none
      {"since=" + at(100), "occurred_at >= '" + at(100) + "'"},
      // A fraction below a microsecond still excludes the event at the whole minute.
      {"since=" + at(100, ".0000001"), "occurred_at > '" + at(100) + "'"},
      {"until=" + at(200), "occurred_at < '" + at(200) + "'"},
      // Offsets: 03:20+02:00 is 01:20Z; '+' written %2B.
      {"since=2026-03-01T03:20:00%2B02:00&until=" + at(300),
       "occurred_at >= '" + at(80) + "' AND occurred_at < '" + at(300) + "'"},
      {"connection_id=" + c[0] + "&outcome=denied", "connection_id = '" + c[0] + "' AND outcome = 'denied'"},
      {"connection_id=" + c[2] + "&instance_id=" + i[1] + "&outcome=allowed&since=" + at(50) + "&until=" + at(500),
       "connection_id = '" + c[2] + "' AND instance_id = '" + i[1] + "' AND outcome = 'allowed' AND occurred_at >= '" +
           at(50) + "' AND occurred_at < '" + at(500) + "'"},
      {"instance_id=" + i[1] + "&outcome=error&until=" + at(400),
       "instance_id = '" + i[1] + "' AND outcome = 'error' AND occurred_at < '" + at(400) + "'"},
      {"connection_id=" + randomUuid(), "false"},
  };
}

std::vector<long long> oracle(const TestDatabase& db, const std::string& customer_id, const std::string& sql,
                              bool oldest_first) {
  std::vector<long long> ids;
  for (const auto& row : db.exec("SELECT id FROM audit_events WHERE customer_id = $1 AND (" + sql + ") ORDER BY id " +
                                     (oldest_first ? "ASC" : "DESC"),
                                 customer_id)) {
    ids.push_back(row[0].as<long long>());
  }
  return ids;
}

// Every page of the listing for `query`, `limit` at a time: the ids, in order.
std::vector<long long> allPages(const Stack& s, const Tenant& t, const std::string& query, int limit,
                                int* pages = nullptr) {
  std::vector<long long> ids;
  std::string before;
  for (int page = 0;; ++page) {
    REQUIRE(page < 1000);
    const auto r = s.as(t, "GET", t.path() + "/audit-events?limit=" + std::to_string(limit) +
                                      (query.empty() ? "" : "&" + query) + before);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    const auto events = items(member(r.json, "events"));
    for (const auto* e : events) ids.push_back(member(*e, "id").GetInt64());
    const auto& next = member(r.json, "next_before");
    if (next.IsNull()) {
      if (pages) *pages = page + 1;
      return ids;
    }
    CHECK(static_cast<int>(events.size()) == limit);
    CHECK(next.GetInt64() == ids.back());
    before = "&before=" + std::to_string(next.GetInt64());
  }
}

// One export read over a socket of its own, the chunked coding decoded here (not by a client
// library that might hide a missing last chunk).
struct Exported {
  int status = 0;
  std::string head, body;
  int chunks = 0;
  bool complete = false;  // the last chunk arrived
  bool closed = false;    // the server closed the connection
};

class ExportClient {
 public:
  /// `receive_buffer`: SO_RCVBUF before connecting (0: the system's), to make the server wait.
  explicit ExportClient(std::uint16_t port, int receive_buffer = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    if (receive_buffer > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  }
  ~ExportClient() { close(fd_); }
  ExportClient(const ExportClient&) = delete;
  ExportClient& operator=(const ExportClient&) = delete;

  void get(const std::string& path, const std::string& api_key, const std::string& version = "HTTP/1.1") {
    const auto request = "GET " + path + " " + version + "\r\nHost: x\r\nX-Api-Key: " + api_key + "\r\n\r\n";
    REQUIRE(::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  }

  /// Reads (at most `per_read` bytes a read, `pause` between reads) until the answer ends, the
  /// connection closes or `timeout` passes.
  Exported read(std::chrono::milliseconds timeout = std::chrono::seconds(30), std::size_t per_read = 1 << 16,
                std::chrono::milliseconds pause = std::chrono::milliseconds(0),
                std::size_t stop_after = std::numeric_limits<std::size_t>::max()) {
    Exported out;
    std::string raw;
    std::size_t at = 0;  // parsed up to here
    bool in_body = false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<char> buffer(per_read);
    for (;;) {
      // Parse what there is.
      for (bool progress = true; progress && !out.complete;) {
        progress = false;
        if (!in_body) {
          const auto end = raw.find("\r\n\r\n");
          if (end == std::string::npos) break;
          out.head = raw.substr(0, end + 2);
          out.status = std::stoi(out.head.substr(9, 3));
          at = end + 4;
          in_body = true;
          progress = true;
          if (out.head.find("Transfer-Encoding: chunked") == std::string::npos) {
            out.body = raw.substr(at);  // an error answer: its Content-Length body
            at = raw.size();
          }
          continue;
        }
        if (out.head.find("Transfer-Encoding: chunked") == std::string::npos) break;
        const auto line_end = raw.find("\r\n", at);
        if (line_end == std::string::npos) break;
        const auto size = std::stoul(raw.substr(at, line_end - at), nullptr, 16);
        if (raw.size() < line_end + 2 + size + 2) break;
        REQUIRE(raw.compare(line_end + 2 + size, 2, "\r\n") == 0);
        if (size == 0) {
          out.complete = true;
        } else {
          out.body.append(raw, line_end + 2, size);
          ++out.chunks;
        }
        at = line_end + 2 + size + 2;
        progress = true;
      }
      if (out.complete || raw.size() >= stop_after) return out;
      if (in_body && out.head.find("Transfer-Encoding: chunked") == std::string::npos &&
          out.head.find("Content-Length") != std::string::npos) {
        const auto length = std::stoul(out.head.substr(out.head.find("Content-Length: ") + 16));
        if (out.body.size() >= length) return out;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return out;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      const auto n = recv(fd_, buffer.data(), buffer.size(), 0);
      if (n <= 0) {
        out.closed = true;
        return out;
      }
      raw.append(buffer.data(), static_cast<std::size_t>(n));
      if (!in_body || out.head.find("Transfer-Encoding: chunked") == std::string::npos) {
        if (in_body) out.body.append(buffer.data(), static_cast<std::size_t>(n));
      }
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
  }

 private:
  int fd_ = -1;
};

// The JSON lines of an export body, each parsed (a line that is not a JSON object fails).
std::vector<rapidjson::Document> jsonLines(const std::string& body) {
  std::vector<rapidjson::Document> lines;
  if (body.empty()) return lines;
  REQUIRE(body.back() == '\n');
  std::stringstream in(body);
  for (std::string line; std::getline(in, line);) {
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    REQUIRE_MESSAGE((!doc.HasParseError() && doc.IsObject()), line);
    lines.push_back(std::move(doc));
  }
  return lines;
}

std::vector<long long> idsOf(const std::vector<rapidjson::Document>& lines) {
  std::vector<long long> ids;
  for (const auto& line : lines) ids.push_back(member(line, "id").GetInt64());
  return ids;
}

std::string exportPath(const Tenant& t, const std::string& query) { return t.path() + "/audit-events/export?" + query; }

}  // namespace

TEST_CASE("audit events: each filter alone and combined, across pages of the cursor, and never another customer's") {
  Stack s;
  const auto a = s.newTenant("a");
  const auto b = s.newTenant("b");
  const Ids ids;
  // 600 events, every other one b's, with the very same connection and instance ids.
  seed(s.db, "CASE WHEN g % 2 = 0 THEN '" + a.id + "'::uuid ELSE '" + b.id + "'::uuid END", ids, 600);
  const auto b_ids = oracle(s.db, b.id, "true", false);
  REQUIRE(b_ids.size() == 300);

  for (const auto& c : filterCases(ids)) {
    CAPTURE(c.query);
    const auto expected = oracle(s.db, a.id, c.sql, false);
    int pages = 0;
    const auto got = allPages(s, a, c.query, 7, &pages);
    CHECK(got == expected);
    CHECK(pages == static_cast<int>(expected.size()) / 7 + 1);
    for (const auto id : got) CHECK(std::find(b_ids.begin(), b_ids.end(), id) == b_ids.end());
    // b sees b's own, by the same filter.
    CHECK(allPages(s, b, c.query, 50) == oracle(s.db, b.id, c.sql, false));
  }
  // The cases are not all trivial: some filter out most rows, none selects nothing but the last.
  CHECK(oracle(s.db, a.id, "outcome = 'denied'", false).size() > 20);
  CHECK(oracle(s.db, a.id, "outcome = 'error'", false).size() > 10);
}

TEST_CASE("audit events: bad filter values are FastAPI 422s naming each, before authentication") {
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "GET", t.path() + "/audit-events?connection_id=nope&instance_id=1234&outcome=maybe"
                                          "&since=yesterday&until=2026-02-30T00:00:00Z&limit=0&before=-1");
  CHECK(r.status == 422);
  CHECK(problemLocTypes(r) == std::vector<std::string>{
                                  R"(["query","before"] greater_than_equal)",
                                  R"(["query","connection_id"] uuid_parsing)",
                                  R"(["query","instance_id"] uuid_parsing)",
                                  R"(["query","limit"] greater_than_equal)",
                                  R"(["query","outcome"] literal_error)",
                                  R"(["query","since"] datetime_parsing)",
                                  R"(["query","until"] datetime_parsing)",
                              });
  for (const auto& bad : {"since=2026-03-01", "since=2026-03-01%2000:00:00Z", "since=2026-03-01T00:00:00",
                          "since=2026-03-01T24:00:00Z", "since=2026-03-01T00:00:00%2B24:00", "since=0000-01-01T00:00:00Z",
                          "since=2026-03-01T00:00:00.Z", "until=2026-03-01T00:00:00z", "since=%00"}) {
    const std::string query = bad;
    CAPTURE(query);
    const auto bad_time = s.as(t, "GET", t.path() + "/audit-events?" + query);
    CHECK(bad_time.status == 422);
    CHECK(problemLocTypes(bad_time).size() == 1);
  }
  // until must come after since: an empty window is a mistake, not an empty page.
  for (const auto* path : {"/audit-events?", "/audit-events/export?"}) {
    const auto window = s.as(t, "GET", t.path() + path + "since=" + at(10) + "&until=" + at(10));
    CHECK(window.status == 422);
    CHECK(problemLocTypes(window) == std::vector<std::string>{R"(["query","until"] value_error)"});
  }
  // The export needs since.
  const auto no_since = s.as(t, "GET", t.path() + "/audit-events/export?until=" + at(10));
  CHECK(problemLocTypes(no_since) == std::vector<std::string>{R"(["query","since"] missing)"});
  // Validation comes first, as on every route: no key and a bad value is a 422.
  CHECK(s.http.request("GET", t.path() + "/audit-events?outcome=maybe").status == 422);
  // A time far in the future is fine (and finds nothing).
  const auto future = s.as(t, "GET", t.path() + "/audit-events?since=9999-12-31T23:59:59.9999999-23:59");
  CHECK(future.status == 200);
}

TEST_CASE("audit events: the export streams every event oldest first, as JSON lines in chunks, each the listing's event") {
  Stack s;
  const auto a = s.newTenant("a");
  const auto b = s.newTenant("b");
  const Ids ids;
  // 3,500 of a's (three full batches of 1,000 and a part) among as many of b's.
  seed(s.db, "CASE WHEN g % 2 = 0 THEN '" + a.id + "'::uuid ELSE '" + b.id + "'::uuid END", ids, 7000);
  const auto expected = oracle(s.db, a.id, "true", true);
  REQUIRE(expected.size() == 3500);

  ExportClient client(s.server.port());
  client.get(exportPath(a, "since=" + at(0)), a.api_key);
  const auto out = client.read();
  CHECK(out.status == 200);
  CHECK(out.complete);
  CHECK(out.head.find("Content-Type: application/x-ndjson\r\n") != std::string::npos);
  CHECK(out.head.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(out.head.find("Content-Length") == std::string::npos);
  CHECK(out.chunks == 4);  // one per batch
  const auto lines = jsonLines(out.body);
  CHECK(idsOf(lines) == expected);

  // Each line is exactly the event as the listing has it (same members, same values).
  std::map<long long, std::string> listed;
  std::string before;
  for (;;) {
    const auto page = s.as(a, "GET", a.path() + "/audit-events?limit=500" + before);
    REQUIRE(page.status == 200);
    for (const auto* e : items(member(page.json, "events"))) listed[member(*e, "id").GetInt64()] = jsonText(*e);
    if (member(page.json, "next_before").IsNull()) break;
    before = "&before=" + std::to_string(member(page.json, "next_before").GetInt64());
  }
  REQUIRE(listed.size() == lines.size());
  for (const auto& line : lines) {
    const auto id = member(line, "id").GetInt64();
    CHECK(jsonText(line) == listed[id]);
  }
  // Proxied calls' fields come through too.
  CHECK(text(lines[4], "method") == "POST");

  // Through an ordinary client too (Poco decodes the chunks).
  const auto plain = s.as(a, "GET", exportPath(a, "since=" + at(0)));
  CHECK(plain.status == 200);
  CHECK(plain.header("Transfer-Encoding") == "chunked");
  CHECK(plain.header("Content-Type") == "application/x-ndjson");
  CHECK(plain.body == out.body);
}

TEST_CASE("audit events: the export honours since, until and the filters, and an empty window is an empty body") {
  Stack s;
  const auto a = s.newTenant("a");
  const auto b = s.newTenant("b");
  const Ids ids;
  seed(s.db, "CASE WHEN g % 2 = 0 THEN '" + a.id + "'::uuid ELSE '" + b.id + "'::uuid END", ids, 2400);
  for (const auto& c : filterCases(ids)) {
    auto query = c.query;
    auto sql = c.sql;
    if (query.find("since=") == std::string::npos) {
      query += std::string(query.empty() ? "" : "&") + "since=" + at(0);
    }
    CAPTURE(query);
    ExportClient client(s.server.port());
    client.get(exportPath(a, query), a.api_key);
    const auto out = client.read();
    CHECK(out.status == 200);
    CHECK(out.complete);
    CHECK(idsOf(jsonLines(out.body)) == oracle(s.db, a.id, sql, true));
  }
  // A window in which nothing happened: 200, no line, the last chunk at once.
  ExportClient empty(s.server.port());
  empty.get(exportPath(a, "since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z"), a.api_key);
  const auto none = empty.read();
  CHECK(none.status == 200);
  CHECK(none.complete);
  CHECK(none.body.empty());
  // until defaults to now: events after now (there are none before 2026-03-01 in this data...
  // the seeded ones lie in the past or the future of the test run: both fine) are left out.
  const auto now_rows = oracle(s.db, a.id, "occurred_at < now()", true);
  const auto by_default = s.as(a, "GET", exportPath(a, "since=" + at(0)));
  CHECK(idsOf(jsonLines(by_default.body)) == now_rows);
}

TEST_CASE("audit events: the export refuses what the listing refuses: no key, another customer's key, the admin token") {
  Stack s;
  const auto a = s.newTenant("a");
  const auto b = s.newTenant("b");
  seed(s.db, "'" + a.id + "'::uuid", Ids{}, 10);
  const auto path = exportPath(a, "since=" + at(0));
  CHECK(refusal(s.http.request("GET", path), 401) == "");
  CHECK(refusal(s.http.request("GET", path, "", bearer(s.server.adminToken())), 401) == "");
  CHECK(refusal(s.as(b, "GET", path), 403) == "");
  CHECK(refusal(s.http.request("GET", path, "", {{"X-Api-Key", b.api_key}}), 403) == "");
  CHECK(refusal(s.as(b, "GET", a.path() + "/audit-events?since=" + at(0)), 403) == "");
  // b's own export of the same window holds none of a's.
  const auto own = s.as(b, "GET", exportPath(b, "since=" + at(0)));
  CHECK(own.status == 200);
  CHECK(own.body.empty());
  // HTTP/1.0 has no chunked answers.
  ExportClient old(s.server.port());
  old.get(path, a.api_key, "HTTP/1.0");
  const auto refused = old.read(std::chrono::seconds(10));
  CHECK(refused.status == 505);
}

TEST_CASE("audit events: a database failure in the middle of an export ends it without the last chunk") {
  // The control plane as its own role, so its reading can be taken away mid-export.
  Stack s("hydracore_control_plane");
  const auto a = s.newTenant("a");
  seed(s.db, "'" + a.id + "'::uuid", Ids{}, 30000);
  // A client that reads nothing at first: the server fills the socket and waits with the next
  // batch in hand (never the whole answer), so the database can go before the export is done.
  ExportClient client(s.server.port(), 32 * 1024);
  client.get(exportPath(a, "since=" + at(0)), a.api_key);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  s.db.exec("REVOKE SELECT ON audit_events FROM hydracore_control_plane");
  const auto out = client.read(std::chrono::seconds(40));
  CHECK(out.status == 200);
  CHECK_FALSE(out.complete);
  CHECK(out.closed);
  const auto lines = jsonLines(out.body);  // whole lines only, each valid
  CHECK(lines.size() < 30000);
  CHECK(lines.size() % 1000 == 0);
  auto first = oracle(s.db, a.id, "true", true);
  first.resize(lines.size());
  CHECK(idsOf(lines) == first);
  CHECK(s.server.log().find("streamed answer cut off") != std::string::npos);
  // Nothing leaks: the failure's SQL stays in the log.
  CHECK(out.body.find("permission denied") == std::string::npos);
}

TEST_CASE("audit events: a slow reader's export outlives the server's request timers and arrives complete") {
  Stack s;
  const auto a = s.newTenant("a");
  seed(s.db, "'" + a.id + "'::uuid", Ids{}, 12000);
  ExportClient client(s.server.port(), 32 * 1024);
  client.get(exportPath(a, "since=" + at(0)), a.api_key);
  const auto started = std::chrono::steady_clock::now();
  // ~5 MB at under 1 MB/s: longer than the header timeout (5 s), which would otherwise answer 408.
  const auto out = client.read(std::chrono::seconds(60), 16 * 1024, std::chrono::milliseconds(20));
  CHECK(std::chrono::steady_clock::now() - started > std::chrono::seconds(6));
  CHECK(out.complete);
  CHECK(jsonLines(out.body).size() == 12000);  // nothing else in the body (a 408 would be no JSON line)
}

TEST_CASE("audit events: exports at once are bounded (503), and one whose client reads nothing is cut off") {
  Stack s("", {{"HYDRA_EXPORTS_MAX", "1"}, {"HYDRA_EXPORT_STALL_SECONDS", "2"}});
  const auto a = s.newTenant("a");
  seed(s.db, "'" + a.id + "'::uuid", Ids{}, 30000);
  ExportClient stalled(s.server.port(), 32 * 1024);
  stalled.get(exportPath(a, "since=" + at(0)), a.api_key);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto busy = s.as(a, "GET", exportPath(a, "since=" + at(0)));
  CHECK(refusal(busy, 503) == "");
  CHECK(busy.header("Retry-After") == "5");
  // The listing is not held up meanwhile.
  CHECK(s.as(a, "GET", a.path() + "/audit-events?limit=1").status == 200);
  // The stalled one is cut off after 2 s of nothing taken in; its thread is free again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (s.server.log().find("took in nothing") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(s.server.log().find("streamed answer cut off") != std::string::npos);
  Response after;
  do {  // the thread is given back just after its log line
    after = s.as(a, "GET", exportPath(a, "since=" + at(0) + "&until=" + at(10)));
  } while (after.status == 503 && std::chrono::steady_clock::now() < deadline);
  CHECK(after.status == 200);
  CHECK(jsonLines(after.body).size() == 9);
  // The stalled client, reading now, gets part of the body and then the end of the stream.
  const auto out = stalled.read(std::chrono::seconds(40));
  CHECK_FALSE(out.complete);
  CHECK(out.closed);
}

TEST_CASE("audit events: a client that leaves in the middle of an export frees its thread at once") {
  Stack s("", {{"HYDRA_EXPORTS_MAX", "1"}});
  const auto a = s.newTenant("a");
  seed(s.db, "'" + a.id + "'::uuid", Ids{}, 30000);
  {
    ExportClient leaving(s.server.port(), 32 * 1024);
    leaving.get(exportPath(a, "since=" + at(0)), a.api_key);
    const auto part = leaving.read(std::chrono::seconds(10), 1 << 16, std::chrono::milliseconds(0), 100000);
    CHECK(part.status == 200);
    CHECK_FALSE(part.complete);
  }  // closed with the answer unread
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  Response next;
  do {
    next = s.as(a, "GET", exportPath(a, "since=" + at(0) + "&until=" + at(10)));
  } while (next.status == 503 && std::chrono::steady_clock::now() < deadline);
  REQUIRE_MESSAGE(next.status == 200, s.server.log());
  CHECK(jsonLines(next.body).size() == 9);
  CHECK_MESSAGE(s.server.log().find("the client left") != std::string::npos, s.server.log());
}

TEST_CASE("audit events: the broker's own records, filtered by connection, in the listing and the export alike") {
  BrokerStack s;
  const auto t = s.newTenant();
  const auto inbox = s.createConnection(t, connectionBody("gmail", "inbox"));
  const auto books = s.createConnection(t, connectionBody("xero", "books"));
  const auto runtime = s.grantedRuntime(t, inbox);
  s.createGrant(t, books, runtime.instance_id, R"(["read_invoices"])");
  waitOutStaleness();
  REQUIRE(s.fetch(runtime, "provider=gmail&capability=send_mail").status == 200);
  REQUIRE(s.fetch(runtime, "provider=xero&capability=read_invoices").status == 200);
  REQUIRE(s.fetch(runtime, "provider=xero&capability=delete_everything").status == 403);
  s.awaitShipped();
  const auto listed = s.auditEvents(t, "connection_id=" + books);
  const auto events = items(member(listed.json, "events"));
  REQUIRE(events.size() == 2);
  CHECK(text(*events[0], "outcome") == "denied");
  CHECK(text(*events[1], "outcome") == "allowed");
  const auto exported = s.as(t, "GET", exportPath(t, "connection_id=" + books + "&since=2000-01-01T00:00:00Z"));
  REQUIRE(exported.status == 200);
  const auto lines = jsonLines(exported.body);
  REQUIRE(lines.size() == 2);
  CHECK(jsonText(lines[0]) == jsonText(*events[1]));
  CHECK(jsonText(lines[1]) == jsonText(*events[0]));
  const auto denied = s.auditEvents(t, "outcome=denied&instance_id=" + runtime.instance_id);
  CHECK(items(member(denied.json, "events")).size() == 1);
}

TEST_CASE("audit events: every week's partition, however made, has the tenant statistics the planner needs") {
  Stack s;
  const auto t = s.newTenant();
  // Partitions made by the migration (this week and the next two) and by the function the
  // brokers call (the seeded weeks).
  seed(s.db, "'" + t.id + "'::uuid", Ids{}, 3 * 7 * 24 * 60);
  const auto missing = s.db.exec(
      "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
      "WHERE i.inhparent = 'audit_events'::regclass AND NOT EXISTS ("
      "  SELECT 1 FROM pg_statistic_ext x WHERE x.stxrelid = c.oid AND x.stxkind @> ARRAY['f']::\"char\"[])");
  CHECK(missing.empty());
  CHECK(s.db.exec("SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_events'::regclass")[0][0].as<int>() >= 6);
  // ANALYZE fills them in: a connection's rows are estimated as its own, not one in a million.
  s.db.exec("ANALYZE audit_events");
  CHECK(s.db.exec("SELECT count(*) FROM pg_statistic_ext_data d JOIN pg_statistic_ext x ON x.oid = d.stxoid "
                  "WHERE d.stxddependencies IS NOT NULL")[0][0]
            .as<int>() >= 3);
}
