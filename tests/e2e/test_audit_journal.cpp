// The broker's audit journal (issue 7): every decision durable in a local, append-only,
// verifiable log before anything is released; a crash loses nothing that was answered; every
// tampering with the journal or with PostgreSQL's copy is found by `hydracore-audit verify`; a full disk
// refuses (503) and recovers; a database outage delays shipping but loses nothing.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/support/audit.hpp"
#include "tests/support/broker.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// A tenant with gmail/inbox granted to a runtime, and a broker of the test's own (its
/// environment kept, to restart it on the same journal).
struct Journaled {
  BrokerStack s;
  Tenant t = s.newTenant();
  std::string connection = s.createConnection(t, connectionBody("gmail", "inbox", R"({"token":"JOURNAL-CANARY"})"));
  Runtime runtime = s.grantedRuntime(t, connection);
  Environment env = [this] {
    auto e = s.brokerEnvironment();
    e["HYDRA_AUDIT_CHECKPOINT_SECONDS"] = "1";
    return e;
  }();
  std::optional<Broker> broker{std::in_place, env};

  std::string dir() const { return env.at("HYDRA_AUDIT_DIR"); }
  Response fetch(const std::string& query = "provider=gmail") const {
    return fetchFrom(HttpClient(broker->port()), runtime.instance_id, runtime.proxy_key, query);
  }
  /// SIGTERM (a last checkpoint), then start again on the same journal.
  void restart() {
    broker.reset();
    broker.emplace(env);
  }
  void stop() { broker.reset(); }
};

RunResult verifyJournal(const std::string& dir) {
  return runAudit({"verify", "--journal", dir, "--verifier-key", testAuditKey().verifier_key});
}

RunResult verifyDatabase(const TestDatabase& db) {
  return runAudit({"verify", "--database", db.url(), "--verifier-key", testAuditKey().verifier_key});
}

std::string requestIdOf(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  return text(doc, "request_id");
}

std::string lastSegment(const std::string& dir) {
  std::string last;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("segment-", 0) == 0 && entry.path().string() > last) last = entry.path().string();
  }
  return last;
}

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeAll(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

/// A copy of a journal folder, for tampering with.
std::string copyOf(const std::string& dir, const TempDir& into, const std::string& name) {
  const auto copy = into.path(name);
  fs::copy(dir, copy, fs::copy_options::recursive);
  fs::permissions(copy, fs::perms::owner_all);
  return copy;
}

mode_t modeOf(const std::string& path) {
  struct stat info {};
  REQUIRE(stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

}  // namespace

TEST_CASE("audit journal: every decision is a line with its sequence number, the journal's origin and the time") {
  Journaled j;
  std::vector<std::string> request_ids;
  for (const auto* query : {"provider=gmail", "provider=xero", "provider=gmail&capability=nope", "provider=gmail"}) {
    request_ids.push_back(requestId(j.fetch(query)));
  }
  const auto lines = journalLines(j.dir());
  REQUIRE(lines.size() == request_ids.size());
  std::string origin;
  std::getline(std::ifstream(j.dir() + "/origin"), origin);
  CHECK(origin.rfind("hydracore-broker/", 0) == 0);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CAPTURE(lines[i]);
    rapidjson::Document line;
    line.Parse(lines[i].c_str());
    REQUIRE(line.IsObject());
    CHECK(member(line, "seq").GetUint64() == i);
    CHECK(text(line, "journal") == origin);
    CHECK(isUtcTimestamp(text(line, "time")));
    CHECK(text(line, "request_id") == request_ids[i]);
    CHECK(keys(line) == std::set<std::string>{"seq", "journal", "time", "customer_id", "instance_id", "proxy_key_id",
                                              "connection_id", "provider", "name", "capability", "outcome", "reason",
                                              "request_id", "peer"});
  }
  CHECK(lines[0].find(R"("outcome":"allowed")") != std::string::npos);
  CHECK(lines[1].find(R"("outcome":"denied")") != std::string::npos);
  for (const auto& line : lines) CHECK(line.find("JOURNAL-CANARY") == std::string::npos);

  // Private to the broker's user.
  CHECK(modeOf(j.dir()) == 0700);
  for (const auto& entry : fs::directory_iterator(j.dir())) {
    CAPTURE(entry.path());
    CHECK(modeOf(entry.path()) == 0600);
  }
  // A second broker on the same folder is refused at start-up.
  const auto second = runBroker({"serve"}, j.env, 10s);
  CHECK(second.exit_code == 2);
  CHECK(second.err.find("in use by another process") != std::string::npos);
  CHECK(j.broker->running());
}

TEST_CASE("audit journal: a checkpoint is signed within the interval and at shutdown, verify passes on both copies") {
  Journaled j;
  for (int i = 0; i < 5; ++i) REQUIRE(j.fetch().status == 200);
  std::this_thread::sleep_for(2500ms);  // at least one interval (1 s here)
  const auto checkpoints = readAll(j.dir() + "/checkpoints.jsonl");
  CHECK(checkpoints.find(R"(\n5\n)") != std::string::npos);  // a checkpoint of the 5 records
  REQUIRE(j.fetch().status == 200);
  j.stop();  // SIGTERM: a last checkpoint covers the 6th
  CHECK(readAll(j.dir() + "/checkpoints.jsonl").find(R"(\n6\n)") != std::string::npos);

  const auto journal = verifyJournal(j.dir());
  CHECK(journal.exit_code == 0);
  CHECK(journal.out.find("6 records in sequence") != std::string::npos);
  CHECK(journal.out.find("the latest covering 6 records") != std::string::npos);
  j.s.awaitShipped();
  const auto database = verifyDatabase(j.s.db);
  CAPTURE(database.out);
  CHECK(database.exit_code == 0);
  CHECK(database.out.find("6 records in sequence") != std::string::npos);
}

TEST_CASE("audit journal: a broker killed under load loses no record it answered, a torn tail is cut") {
  Journaled j;
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::string> released;
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      while (!stop) {
        try {
          const auto r = j.fetch();
          if (r.status == 200) {
            std::lock_guard<std::mutex> lock(mutex);
            released.push_back(requestId(r));
          }
        } catch (const std::exception&) {
          // the broker is gone: keep trying until told to stop
        }
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  REQUIRE(kill(j.broker->pid(), SIGKILL) == 0);
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& c : clients) c.join();
  REQUIRE(released.size() > 20);

  // As if the machine had stopped mid-write: half a record at the end.
  const auto segment = lastSegment(j.dir());
  const auto synced = readAll(segment);
  std::ofstream(segment, std::ios::app | std::ios::binary) << R"({"seq":999999,"journal":"hydracore-bro)";

  j.broker.reset();
  j.broker.emplace(j.env);
  CHECK(j.broker->log().find("cutting a torn last record") != std::string::npos);
  CHECK(readAll(segment).size() == synced.size());  // cut back to what was there, not a byte less
  std::set<std::string> journaled;
  for (const auto& line : journalLines(j.dir())) journaled.insert(requestIdOf(line));
  for (const auto& id : released) CHECK(journaled.count(id) == 1);

  const auto after = j.fetch();
  REQUIRE(after.status == 200);  // the sequence goes on
  j.stop();
  const auto verified = verifyJournal(j.dir());
  CAPTURE(verified.out);
  CHECK(verified.exit_code == 0);
  awaitShipped(j.s.db, released);
  const auto counts = j.s.db.exec("SELECT count(*), count(DISTINCT seq), max(seq) FROM audit_events WHERE journal_id = "
                                  "(SELECT journal_id FROM audit_events WHERE request_id = $1)",
                                  requestId(after));
  CHECK(counts[0][0].as<long>() == counts[0][1].as<long>());  // each record once
}

TEST_CASE("audit journal: verify names a flipped byte, a deleted line, two lines swapped, a removed checkpoint's records") {
  Journaled j;
  for (int i = 0; i < 8; ++i) REQUIRE(j.fetch(i % 2 ? "provider=xero" : "provider=gmail").status != 0);
  j.stop();
  REQUIRE(verifyJournal(j.dir()).exit_code == 0);
  TempDir work;
  const auto segmentName = fs::path(lastSegment(j.dir())).filename().string();

  const auto tampered = [&](const std::string& name, const std::function<std::string(std::string)>& change) {
    const auto copy = copyOf(j.dir(), work, name);
    writeAll(copy + "/" + segmentName, change(readAll(copy + "/" + segmentName)));
    return verifyJournal(copy);
  };
  const auto lineStart = [](const std::string& content, int n) {
    std::size_t at = 0;
    for (int i = 0; i < n; ++i) at = content.find('\n', at) + 1;
    return at;
  };

  const auto flipped = tampered("flipped", [&](std::string c) {
    const auto at = c.find("denied");  // a record's reason changes, still valid JSON
    c[at] = 'D';
    return c;
  });
  CHECK(flipped.exit_code == 1);
  CHECK(flipped.out.find("does not match the records") != std::string::npos);

  const auto deleted = tampered("deleted", [&](std::string c) {
    const auto from = lineStart(c, 3), to = lineStart(c, 4);
    return c.erase(from, to - from);
  });
  CHECK(deleted.exit_code == 1);
  CHECK(deleted.out.find("record 3: found record 4 in its place") != std::string::npos);

  const auto swapped = tampered("swapped", [&](std::string c) {
    const auto a = lineStart(c, 2), b = lineStart(c, 3), end = lineStart(c, 4);
    return c.substr(0, a) + c.substr(b, end - b) + c.substr(a, b - a) + c.substr(end);
  });
  CHECK(swapped.exit_code == 1);
  CHECK(swapped.out.find("record 2: found record 3 in its place") != std::string::npos);

  const auto truncated = tampered("truncated", [&](std::string c) { return c.substr(0, lineStart(c, 5)); });
  CHECK(truncated.exit_code == 1);
  CHECK(truncated.out.find("records were removed") != std::string::npos);

  // A checkpoint signed by another key is refused too.
  const auto copy = copyOf(j.dir(), work, "foreign-key");
  const auto other_key = work.path("other-verifier.txt");
  REQUIRE(runBroker({"keygen", "--audit-key", work.path("other.pem"), "--verifier-key", other_key}, {}).exit_code == 0);
  const auto foreign = runAudit({"verify", "--journal", copy, "--verifier-key", other_key});
  CHECK(foreign.exit_code == 1);
  CHECK(foreign.out.find("checkpoint #1") != std::string::npos);
}

TEST_CASE("audit journal: verify --database catches a row changed, deleted, inserted or reordered by a superuser") {
  Journaled j;
  for (int i = 0; i < 6; ++i) REQUIRE(j.fetch().status == 200);
  j.stop();
  j.s.awaitShipped();
  // Rows are shipped as columns only (schema/0018): verify rebuilds each line's exact bytes.
  CHECK(j.s.db.exec("SELECT count(*) FROM audit_events WHERE line IS NOT NULL")[0][0].as<int>() == 0);
  REQUIRE(verifyDatabase(j.s.db).exit_code == 0);
  // Whoever holds the owner role can drop the append-only trigger: verify still tells.
  j.s.db.exec("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete");
  const auto check = [&](const std::string& what, const std::string& change, const std::string& undo,
                         const std::string& expected) {
    CAPTURE(what);
    j.s.db.exec(change);
    const auto r = verifyDatabase(j.s.db);
    CAPTURE(r.out);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find(expected) != std::string::npos);
    j.s.db.exec(undo);
    CHECK(verifyDatabase(j.s.db).exit_code == 0);
  };
  // A changed column changes the rebuilt bytes: only the signed tree can tell.
  check("a column changed", "UPDATE audit_events SET outcome = 'denied' WHERE seq = 2",
        "UPDATE audit_events SET outcome = 'allowed' WHERE seq = 2", "does not match the records");
  check("a time moved by a microsecond", "UPDATE audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 2",
        "UPDATE audit_events SET occurred_at = occurred_at - interval '1 microsecond' WHERE seq = 2",
        "does not match the records");
  check("a field emptied", "UPDATE audit_events SET proxy_key_id = NULL WHERE seq = 2",
        "UPDATE audit_events SET proxy_key_id = b.proxy_key_id FROM audit_events b WHERE audit_events.seq = 2 AND b.seq = 1",
        "does not match the records");
  check("two rows' records swapped",
        "UPDATE audit_events a SET request_id = b.request_id, occurred_at = b.occurred_at FROM audit_events b"
        " WHERE (a.seq, b.seq) IN ((1, 2), (2, 1))",
        "UPDATE audit_events a SET request_id = b.request_id, occurred_at = b.occurred_at FROM audit_events b"
        " WHERE (a.seq, b.seq) IN ((1, 2), (2, 1))",
        "does not match the records");
  // A row that keeps its line (shipped before schema/0018, or one the columns cannot rebuild)
  // is checked against that line.
  std::vector<std::string> lines;
  {
    std::istringstream segment(readAll(lastSegment(j.dir())));
    for (std::string line; std::getline(segment, line);) lines.push_back(line);
  }
  REQUIRE(lines.size() >= 4);
  for (const int seq : {1, 2}) j.s.db.exec("UPDATE audit_events SET line = $1 WHERE seq = $2", lines[seq], seq);
  REQUIRE(verifyDatabase(j.s.db).exit_code == 0);
  check("a column changed beside its line", "UPDATE audit_events SET outcome = 'denied' WHERE seq = 2",
        "UPDATE audit_events SET outcome = 'allowed' WHERE seq = 2", "record 2: its columns differ from its line");
  // Line and columns changed together, consistently: only the signed tree can tell.
  check("a record rewritten", "UPDATE audit_events SET line = replace(line, 'granted', 'Granted'), reason = 'Granted' WHERE seq = 2",
        "UPDATE audit_events SET line = replace(line, 'Granted', 'granted'), reason = 'granted' WHERE seq = 2",
        "does not match the records");
  check("two rows' lines swapped",
        "UPDATE audit_events a SET line = b.line, request_id = b.request_id FROM audit_events b"
        " WHERE (a.seq, b.seq) IN ((1, 2), (2, 1))",
        "UPDATE audit_events a SET line = b.line, request_id = b.request_id FROM audit_events b"
        " WHERE (a.seq, b.seq) IN ((1, 2), (2, 1))",
        "record 1: found record 2 in its place");
  j.s.db.exec("CREATE TABLE saved AS SELECT * FROM audit_events WHERE seq = 3");
  check("a row deleted", "DELETE FROM audit_events WHERE seq = 3",
        "INSERT INTO audit_events OVERRIDING SYSTEM VALUE SELECT * FROM saved", "record 3 is missing");
  j.s.db.exec("ALTER TABLE audit_events DROP CONSTRAINT audit_events_journal_seq");
  check("a row inserted", "INSERT INTO audit_events (journal_id, seq, line, customer_id, outcome, reason, request_id)"
                          " SELECT journal_id, seq, line, customer_id, outcome, reason, request_id FROM saved",
        "DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)", "record 4 appears more than once");
}

TEST_CASE("audit journal: an inclusion proof of a record verifies offline, and a changed one does not") {
  Journaled j;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(requestId(j.fetch()));
  j.stop();
  const auto proof = runAudit({"proof", "--journal", j.dir(), "--seq", "3"});
  REQUIRE(proof.exit_code == 0);
  CHECK(proof.out.find(ids[3]) != std::string::npos);
  TempDir work;
  writeAll(work.path("proof.json"), proof.out);
  const auto verified =
      runAudit({"verify", "--proof", work.path("proof.json"), "--verifier-key", testAuditKey().verifier_key});
  CAPTURE(verified.out);
  CHECK(verified.exit_code == 0);

  auto changed = proof.out;
  changed.replace(changed.find(ids[3]), ids[3].size(), ids[2]);  // another request's id in the record
  writeAll(work.path("changed.json"), changed);
  CHECK(runAudit({"verify", "--proof", work.path("changed.json"), "--verifier-key", testAuditKey().verifier_key})
            .exit_code == 1);
  CHECK(runAudit({"proof", "--journal", j.dir(), "--seq", "5"}).exit_code == 1);  // not checkpointed
}

TEST_CASE("audit journal: HYDRA_AUDIT_RETAIN_SEGMENTS keeps the newest segments once shipped, verify and proof start after them") {
  Journaled j;
  j.env["HYDRA_AUDIT_SEGMENT_BYTES"] = "4096";  // about ten records a segment
  j.env["HYDRA_AUDIT_RETAIN_SEGMENTS"] = "2";
  j.restart();
  std::vector<std::string> ids;
  const auto shipped = [&] {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (j.s.db.exec("SELECT count(*) FROM audit_events")[0][0].as<std::size_t>() < ids.size()) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(50ms);
    }
  };
  // Rounds of a segment and a half, each shipped before the next: segments roll over with
  // older ones in PostgreSQL.
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 15; ++i) ids.push_back(requestId(j.fetch()));
    shipped();
  }
  j.stop();
  std::vector<std::uint64_t> firsts;
  for (const auto& entry : fs::directory_iterator(j.dir())) {
    const auto name = entry.path().filename().string();
    if (name.rfind("segment-", 0) == 0) firsts.push_back(std::stoull(name.substr(8)));
  }
  std::sort(firsts.begin(), firsts.end());
  REQUIRE(!firsts.empty());
  CAPTURE(firsts.size());
  CHECK(firsts.size() <= 3);  // two kept, and the one begun since the last removal
  const auto first = firsts.front();
  CHECK(first > 0);
  const auto journal = verifyJournal(j.dir());
  CAPTURE(journal.out);
  CHECK(journal.exit_code == 0);
  CHECK(journal.out.find("starts at tree size " + std::to_string(first)) != std::string::npos);
  // PostgreSQL still holds every record: the database's copy verifies from 0.
  const auto database = verifyDatabase(j.s.db);
  CAPTURE(database.out);
  CHECK(database.exit_code == 0);
  CHECK(j.s.db.exec("SELECT count(*) FROM audit_events")[0][0].as<std::size_t>() == ids.size());

  // A record still in the folder has its inclusion proof; one removed has none.
  const auto seq = ids.size() - 3;
  const auto proof = runAudit({"proof", "--journal", j.dir(), "--seq", std::to_string(seq)});
  CAPTURE(proof.out);
  REQUIRE(proof.exit_code == 0);
  CHECK(proof.out.find(ids[seq]) != std::string::npos);
  TempDir work;
  writeAll(work.path("proof.json"), proof.out);
  CHECK(runAudit({"verify", "--proof", work.path("proof.json"), "--verifier-key", testAuditKey().verifier_key})
            .exit_code == 0);
  const auto removed = runAudit({"proof", "--journal", j.dir(), "--seq", "0"});
  CHECK(removed.exit_code == 1);
  CHECK(removed.out.find("was removed with its segment") != std::string::npos);

  // Without the checkpoint at its first segment's start, the folder does not verify.
  const auto copy = copyOf(j.dir(), work, "copy");
  const auto checkpoints = readAll(copy + "/checkpoints.jsonl");
  writeAll(copy + "/checkpoints.jsonl", checkpoints.substr(checkpoints.find('\n') + 1));
  const auto unanchored = verifyJournal(copy);
  CAPTURE(unanchored.out);
  CHECK(unanchored.exit_code == 1);
  CHECK(unanchored.out.find("no checkpoint of exactly " + std::to_string(first) + " records") != std::string::npos);

  // The broker starts again on the folder and goes on.
  j.restart();
  ids.push_back(requestId(j.fetch()));
  j.stop();
  CHECK(verifyJournal(j.dir()).exit_code == 0);
}

TEST_CASE("audit journal: a full disk answers 503 and releases nothing, serving resumes once there is room") {
  Journaled j;
  REQUIRE(j.fetch().status == 200);
  const auto size = fs::file_size(lastSegment(j.dir()));
  // The broker may not make the journal any longer: the next write fails as on a full disk.
  struct rlimit limit {size, RLIM_INFINITY};
  REQUIRE(prlimit(j.broker->pid(), RLIMIT_FSIZE, &limit, nullptr) == 0);
  for (int i = 0; i < 3; ++i) {
    const auto r = j.fetch();
    CHECK(refusal(r, 503) == "");
    CHECK(r.body.find("JOURNAL-CANARY") == std::string::npos);
    REQUIRE(r.header("Retry-After").has_value());
  }
  CHECK(j.broker->running());
  CHECK(fs::file_size(lastSegment(j.dir())) == size);

  limit.rlim_cur = RLIM_INFINITY;
  REQUIRE(prlimit(j.broker->pid(), RLIMIT_FSIZE, &limit, nullptr) == 0);
  const auto r = j.fetch();
  REQUIRE(r.status == 200);
  CHECK(sameJson(member(r.json, "credentials"), R"({"token":"JOURNAL-CANARY"})"));
  j.stop();
  const auto verified = verifyJournal(j.dir());
  CAPTURE(verified.out);
  CHECK(verified.exit_code == 0);
  CHECK(verified.out.find("2 records in sequence") != std::string::npos);  // the refusals wrote nothing
}

TEST_CASE("audit journal: while the database is down fetches are journaled, afterwards it holds each exactly once") {
  Journaled j;
  std::vector<std::string> ids{requestId(j.fetch())};  // memory now knows the runtime's grant
  execAdmin("ALTER DATABASE " + j.s.db.name() + " ALLOW_CONNECTIONS false");
  execAdmin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + j.s.db.name() + "'");
  // Memory proves itself current for at most B after the database went away: then 503.
  bool refused = false;
  for (int i = 0; i < 20; ++i) {
    const auto r = j.fetch();
    ids.push_back(requestId(r));
    if (r.status == 503) refused = true;
    CHECK((r.status == 200 || r.status == 503));
    std::this_thread::sleep_for(50ms);
  }
  CHECK(refused);
  CHECK(journalLines(j.dir()).size() == ids.size());  // every decision, the 503s included, is in the journal
  execAdmin("ALTER DATABASE " + j.s.db.name() + " ALLOW_CONNECTIONS true");
  awaitShipped(j.s.db, ids);
  REQUIRE(j.fetch().status == 200);
  j.s.awaitShipped();
  const auto rows = j.s.db.exec("SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM audit_events"
                                " WHERE journal_id IS NOT NULL AND request_id = ANY($1::text[])",
                                "{" + [&] {
                                  std::string joined;
                                  for (const auto& id : ids) joined += (joined.empty() ? "" : ",") + id;
                                  return joined;
                                }() + "}");
  CHECK(rows[0][0].as<std::size_t>() == ids.size());
  CHECK(rows[0][1].as<std::size_t>() == ids.size());
}

TEST_CASE("audit journal: keygen's audit key and verifier key, serve refuses a signing key others may read") {
  TempDir dir;
  const auto key = dir.path("audit.pem"), verifier = dir.path("verifier.txt");
  REQUIRE(runBroker({"keygen", "--audit-key", key, "--verifier-key", verifier}, {}).exit_code == 0);
  CHECK(modeOf(key) == 0600);
  const auto text = readAll(verifier);
  CHECK(text.rfind("hydracore-broker-audit+", 0) == 0);
  CHECK(runBroker({"keygen", "--audit-key", key, "--verifier-key", verifier}, {}).exit_code != 0);  // no overwrite

  BrokerStack s;
  auto env = s.brokerEnvironment();
  // An Ed25519 key made by openssl is accepted as it is.
  const auto openssl_key = dir.path("openssl.pem");
  REQUIRE(std::system(("openssl genpkey -algorithm ed25519 -out " + openssl_key + " 2>/dev/null").c_str()) == 0);
  fs::permissions(openssl_key, fs::perms::owner_read | fs::perms::owner_write);
  env["HYDRA_AUDIT_SIGNING_KEY"] = openssl_key;
  { Broker accepted(env); }
  fs::permissions(openssl_key, fs::perms::group_read, fs::perm_options::add);
  env["HYDRA_AUDIT_DIR"] = newAuditDir();
  const auto refused = runBroker({"serve"}, env, 10s);
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("HYDRA_AUDIT_SIGNING_KEY") != std::string::npos);
  env.erase("HYDRA_AUDIT_DIR");
  const auto missing = runBroker({"serve"}, env, 10s);
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("HYDRA_AUDIT_DIR") != std::string::npos);
}
