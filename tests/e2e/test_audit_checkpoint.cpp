// `hydracore-audit checkpoint` (issue 21): the latest signed checkpoint of a journal folder, or of
// each journal in PostgreSQL's copy, printed exactly as stored for the security team to keep
// elsewhere; with --verifier-key only once a key verifies it; nothing printed and exit 1 when
// there is no checkpoint or the check fails.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/support/audit.hpp"
#include "tests/support/broker.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The "note" of every line of a journal folder's checkpoints.jsonl, in order.
std::vector<std::string> journalNotes(const std::string& dir) {
  std::vector<std::string> notes;
  std::istringstream lines(readAll(dir + "/checkpoints.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    REQUIRE(doc.IsObject());
    notes.push_back(text(doc, "note"));
  }
  return notes;
}

std::string originOf(const std::string& dir) {
  std::string origin;
  std::getline(std::ifstream(dir + "/origin"), origin);
  return origin;
}

/// A verifier key of another signing key (made by `hydracore-broker keygen`).
std::string otherVerifierKey(const TempDir& work) {
  const auto key = work.path("other-verifier.txt");
  REQUIRE(runBroker({"keygen", "--audit-key", work.path("other.pem"), "--verifier-key", key}, {}).exit_code == 0);
  return key;
}

/// A tenant with gmail/inbox granted to a runtime, and brokers of the test's own, each on a
/// journal of its own.
struct Checkpointed {
  BrokerStack s{{{"HYDRA_AUDIT_CHECKPOINT_SECONDS", "1"}}};
  Tenant t = s.newTenant();
  std::string connection = s.createConnection(t, connectionBody("gmail", "inbox", R"({"token":"CHECKPOINT-CANARY"})"));
  Runtime runtime = s.grantedRuntime(t, connection);

  /// Starts a broker on `env`'s journal, makes `fetches` fetches through it, and stops it
  /// (SIGTERM: a last checkpoint covers them all).
  void journal(const Environment& env, int fetches) const {
    const Broker broker(env);
    for (int i = 0; i < fetches; ++i) {
      REQUIRE(fetchFrom(HttpClient(broker.port()), runtime.instance_id, runtime.proxy_key, "provider=gmail").status ==
              200);
    }
  }
  /// Waits (up to 15 s) until PostgreSQL holds a checkpoint of `size` records of `origin`.
  void awaitCheckpoint(const std::string& origin, long size) const {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (s.db.exec("SELECT 1 FROM audit_checkpoints WHERE journal_id = $1 AND tree_size = $2", origin, size).empty()) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(50ms);
    }
  }
  /// The note of `origin`'s largest tree in PostgreSQL.
  std::string databaseNote(const std::string& origin) const {
    const auto rows = s.db.exec(
        "SELECT note FROM audit_checkpoints WHERE journal_id = $1 AND tree_size ="
        " (SELECT max(tree_size) FROM audit_checkpoints WHERE journal_id = $1)",
        origin);
    REQUIRE(rows.size() == 1);
    return rows[0][0].c_str();
  }
};

}  // namespace

TEST_CASE("audit checkpoint --journal: prints the journal's latest signed note exactly as stored, checked or not") {
  Checkpointed c;
  const auto env = c.s.brokerEnvironment();
  const auto dir = env.at("HYDRA_AUDIT_DIR");
  c.journal(env, 3);  // a checkpoint of 3
  c.journal(env, 2);  // then one of 5
  const auto notes = journalNotes(dir);
  REQUIRE(notes.size() >= 2);
  const auto& latest = notes.back();
  REQUIRE(latest.rfind(originOf(dir) + "\n5\n", 0) == 0);

  const auto unchecked = runAudit({"checkpoint", "--journal", dir});
  CAPTURE(unchecked.err);
  CHECK(unchecked.exit_code == 0);
  CHECK(unchecked.out == latest);
  CHECK(unchecked.out != notes.front());
  CHECK(unchecked.err.empty());
  const auto checked = runAudit({"checkpoint", "--journal", dir, "--verifier-key", testAuditKey().verifier_key});
  CAPTURE(checked.err);
  CHECK(checked.exit_code == 0);
  CHECK(checked.out == latest);

  // What it printed is a C2SP signed note that `verify` accepts as this journal's: an inclusion
  // proof carrying it verifies under the verifier key.
  const auto proof = runAudit({"proof", "--journal", dir, "--seq", "4"});
  REQUIRE(proof.exit_code == 0);
  rapidjson::Document doc;
  doc.Parse(proof.out.c_str());
  REQUIRE(doc.IsObject());
  CHECK(text(doc, "checkpoint") == checked.out);
}

TEST_CASE("audit checkpoint --database: the note of each journal's largest tree, or of one journal with --origin") {
  Checkpointed c;
  const auto first = c.s.brokerEnvironment(), second = c.s.brokerEnvironment();
  c.journal(first, 2);
  c.journal(first, 1);  // checkpoints of 2 and 3
  c.journal(second, 4);
  const auto first_origin = originOf(first.at("HYDRA_AUDIT_DIR")), second_origin = originOf(second.at("HYDRA_AUDIT_DIR"));
  c.awaitCheckpoint(first_origin, 3);
  c.awaitCheckpoint(second_origin, 4);
  // PostgreSQL's copy of each note is the journal's own.
  CHECK(c.databaseNote(first_origin) == journalNotes(first.at("HYDRA_AUDIT_DIR")).back());
  CHECK(c.databaseNote(second_origin) == journalNotes(second.at("HYDRA_AUDIT_DIR")).back());

  for (const auto& [origin, size] : {std::pair{first_origin, "3"}, std::pair{second_origin, "4"}}) {
    CAPTURE(origin);
    const auto one = runAudit({"checkpoint", "--database", c.s.db.url(), "--origin", origin, "--verifier-key",
                               testAuditKey().verifier_key});
    CAPTURE(one.err);
    CHECK(one.exit_code == 0);
    CHECK(one.out == c.databaseNote(origin));
    CHECK(one.out.rfind(origin + "\n" + size + "\n", 0) == 0);
  }

  // Every journal the database holds a checkpoint of, by origin, one empty line between notes.
  std::string expected;
  for (const auto& row : c.s.db.exec("SELECT DISTINCT journal_id FROM audit_checkpoints ORDER BY 1")) {
    expected += (expected.empty() ? "" : "\n") + c.databaseNote(row[0].c_str());
  }
  CHECK(expected.find(c.databaseNote(first_origin)) != std::string::npos);
  CHECK(expected.find(c.databaseNote(second_origin)) != std::string::npos);
  const auto all = runAudit({"checkpoint", "--database", c.s.db.url(), "--verifier-key", testAuditKey().verifier_key});
  CAPTURE(all.err);
  CHECK(all.exit_code == 0);
  CHECK(all.out == expected);
  // Read access is enough: the control plane's role may read audit_checkpoints, not write it.
  const auto read_only = runAudit({"checkpoint", "--database", c.s.db.urlAs("hydracore_control_plane")});
  CAPTURE(read_only.err);
  CHECK(read_only.exit_code == 0);
  CHECK(read_only.out == expected);
}

TEST_CASE("audit checkpoint: a verifier key that did not sign it, or a changed note, fails and prints nothing") {
  Checkpointed c;
  const auto env = c.s.brokerEnvironment();
  const auto dir = env.at("HYDRA_AUDIT_DIR");
  c.journal(env, 2);
  const auto origin = originOf(dir);  // made by the broker's first start
  c.awaitCheckpoint(origin, 2);
  TempDir work;
  const auto other = otherVerifierKey(work);

  for (const auto& source : {std::vector<std::string>{"--journal", dir},
                             std::vector<std::string>{"--database", c.s.db.url(), "--origin", origin}}) {
    CAPTURE(source.front());
    auto args = std::vector<std::string>{"checkpoint"};
    args.insert(args.end(), source.begin(), source.end());
    auto wrong = args;
    wrong.insert(wrong.end(), {"--verifier-key", other});
    const auto refused = runAudit(wrong);
    CAPTURE(refused.err);
    CHECK(refused.exit_code == 1);
    CHECK(refused.out.empty());
    CHECK(refused.err.find("FAILED: journal " + origin + ": its latest checkpoint") != std::string::npos);
    // After a key rotation either key may have signed it: one of them verifying is enough.
    auto rotated = wrong;
    rotated.insert(rotated.end(), {"--verifier-key", testAuditKey().verifier_key});
    const auto accepted = runAudit(rotated);
    CAPTURE(accepted.err);
    CHECK(accepted.exit_code == 0);
    CHECK(accepted.out == journalNotes(dir).back());
  }

  // A copy whose latest note says another root: its form alone passes, its signature does not.
  const auto copy = work.path("changed");
  fs::copy(dir, copy, fs::copy_options::recursive);
  auto lines = readAll(copy + "/checkpoints.jsonl");
  const auto note = journalNotes(dir).back();
  const std::string size_line = R"(\n2\n)";  // JSON-escaped: the root follows "<origin>\n2\n"
  const auto size_at = lines.rfind(size_line);
  REQUIRE(size_at != std::string::npos);
  const auto root_at = size_at + size_line.size();
  lines[root_at] = lines[root_at] == 'A' ? 'B' : 'A';
  std::ofstream(copy + "/checkpoints.jsonl", std::ios::trunc | std::ios::binary) << lines;
  const auto unchecked = runAudit({"checkpoint", "--journal", copy});
  CHECK(unchecked.exit_code == 0);
  CHECK(unchecked.out != note);
  CHECK(unchecked.out.size() == note.size());
  const auto checked = runAudit({"checkpoint", "--journal", copy, "--verifier-key", testAuditKey().verifier_key});
  CAPTURE(checked.err);
  CHECK(checked.exit_code == 1);
  CHECK(checked.out.empty());
  CHECK(checked.err.find("FAILED: journal " + origin + ": its latest checkpoint") != std::string::npos);
}

TEST_CASE("audit checkpoint: no checkpoint exits 1 saying so, printing nothing") {
  Checkpointed c;
  const auto env = c.s.brokerEnvironment();
  const auto dir = env.at("HYDRA_AUDIT_DIR");
  c.journal(env, 0);  // started and stopped: no record, so no checkpoint
  REQUIRE(fs::exists(dir + "/checkpoints.jsonl"));
  const auto origin = originOf(dir);
  const auto none = runAudit({"checkpoint", "--journal", dir, "--verifier-key", testAuditKey().verifier_key});
  CAPTURE(none.err);
  CHECK(none.exit_code == 1);
  CHECK(none.out.empty());
  CHECK(none.err.find("journal " + origin + " has no checkpoint yet") != std::string::npos);
  // Without its checkpoints.jsonl (a copy made without it) a journal has none either.
  TempDir work;
  fs::copy(dir, work.path("copy"), fs::copy_options::recursive);
  fs::remove(work.path("copy") + "/checkpoints.jsonl");
  const auto copied = runAudit({"checkpoint", "--journal", work.path("copy")});
  CHECK(copied.exit_code == 1);
  CHECK(copied.err.find("has no checkpoint yet") != std::string::npos);

  // The stack's own broker has served nothing: the database holds no checkpoint at all.
  REQUIRE(c.s.db.exec("SELECT count(*) FROM audit_checkpoints")[0][0].as<int>() == 0);
  const auto empty = runAudit({"checkpoint", "--database", c.s.db.url()});
  CAPTURE(empty.err);
  CHECK(empty.exit_code == 1);
  CHECK(empty.out.empty());
  CHECK(empty.err.find("the database holds no checkpoint") != std::string::npos);
  // Nor of a journal it has never heard of, once it does hold one.
  const auto other_env = c.s.brokerEnvironment();
  c.journal(other_env, 1);
  c.awaitCheckpoint(originOf(other_env.at("HYDRA_AUDIT_DIR")), 1);
  const auto unknown = runAudit({"checkpoint", "--database", c.s.db.url(), "--origin", origin});
  CAPTURE(unknown.err);
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.out.empty());
  CHECK(unknown.err.find("journal " + origin + " has no checkpoint in the database") != std::string::npos);
}
