// Fetches served from memory (issue 8), against the real binaries: two brokers on one database,
// client threads fetching from both in a loop, and the control plane changing access meanwhile.
// What is checked is what the customer sees (broker/DESIGN.md, invariants 2 to 4 and 6):
//  - once the control plane has answered a request that removes or narrows access, no fetch that
//    starts afterwards, on either broker, is served from the older state;
//  - a broker that cannot show its memory is current (listener lost, database away) decides from
//    the database, and answers 503 if that fails;
//  - a key's expiry is decided at each request;
//  - a key or grant added a moment ago works on the very next fetch.
// These are not timing bounds: a fetch counts as "after" only if it started after the answer
// arrived. Before each change the load has warmed both brokers and a probe shows that both really
// answer from memory, so a stale release would be seen.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "tests/support/broker.hpp"
#include "tests/support/oauth_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// HYDRA_AUTHZ_STALENESS_MS of every process here (the default): memory is trusted only while its
// last returned tick was sent less than this ago.
constexpr auto kStaleness = 200ms;

std::int64_t unixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Runs SQL as superuser with every ordinary trigger off (session_replication_role = replica):
/// the change reaches the database but no broker hears of it. The tests use it to tell a broker
/// answering from memory from one asking the database; the control plane never writes this way.
template <typename... Args>
void writeUnnotified(const TestDatabase& db, const std::string& sql, Args&&... args) {
  pqxx::connection connection(db.url());
  pqxx::nontransaction tx(connection);
  tx.exec("SET session_replication_role = replica");
  tx.exec_params(sql, std::forward<Args>(args)...);
}

/// One fetch of a load: when it started (before the request left) and what came back.
struct Sample {
  Clock::time_point started, finished;
  std::int64_t started_unix_micros = 0;  // the same instant on the wall clock (for expiry)
  int status = 0;                        // -1: no HTTP answer at all (body: the error)
  std::string body;
};

/// The access token a fetch released ("" if none).
std::string accessTokenOf(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (!doc.IsObject() || !doc.HasMember("credentials") || !doc["credentials"].IsObject()) return "";
  const auto& credentials = doc["credentials"];
  const auto token = credentials.FindMember("access_token");
  return token != credentials.MemberEnd() && token->value.IsString() ? token->value.GetString() : "";
}

/// Client threads fetching in a loop from each broker, every request recorded, until stopped.
class Load {
 public:
  using Fetch = std::function<Response(const HttpClient&)>;

  /// `from_memory`: whether an answer can only have come from memory (counted for awaitMemoryHits).
  Load(const std::vector<HttpClient>& brokers, Fetch fetch, std::function<bool(const Sample&)> from_memory,
       std::size_t threads_per_broker = 3)
      : fetch_(std::move(fetch)), from_memory_(std::move(from_memory)), threads_per_broker_(threads_per_broker),
        successes_(brokers.size()), memory_hits_(brokers.size()), answered_(brokers.size()) {
    for (std::size_t b = 0; b < brokers.size(); ++b) {
      for (std::size_t i = 0; i < threads_per_broker; ++i) {
        workers_.push_back(std::make_unique<Worker>());
        auto& worker = *workers_.back();
        worker.broker = b;
        worker.thread = std::thread([this, &worker, broker = brokers[b]] { run(worker, broker); });
      }
    }
  }
  ~Load() { stop(); }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  std::size_t brokers() const { return successes_.size(); }

  /// Waits (up to 15 s) until every broker has answered `count` fetches with 200; throws if not.
  void awaitSuccesses(std::size_t count) const {
    awaitEach("successful fetches", [&](std::size_t b) { return successes_[b].load() >= count; });
  }

  /// Waits (up to 15 s) until every broker has answered at least `count` fetches that started
  /// after this call (each thread has at most one fetch in flight when it is made).
  void awaitStartedAfter(std::size_t count) const { awaitMore("fetches after the change", answered_, count); }

  /// The same for fetches answered from memory, up to `timeout`; false if there were too few.
  bool awaitMemoryHits(std::size_t count, std::chrono::milliseconds timeout) const {
    try {
      awaitMore("fetches answered from memory", memory_hits_, count, timeout);
      return true;
    } catch (const std::runtime_error&) {
      return false;
    }
  }

  void stop() {
    stopping_ = true;
    for (auto& w : workers_) {
      if (w->thread.joinable()) w->thread.join();
    }
  }

  /// Every fetch sent to broker `b` (call after stop()).
  std::vector<Sample> samples(std::size_t b) const {
    std::vector<Sample> out;
    for (const auto& w : workers_) {
      if (w->broker == b) out.insert(out.end(), w->samples.begin(), w->samples.end());
    }
    return out;
  }

 private:
  using Counters = std::vector<std::atomic<std::size_t>>;
  struct Worker {
    std::size_t broker = 0;
    std::vector<Sample> samples;  // written by its thread only, read after the join
    std::thread thread;
  };

  void run(Worker& worker, const HttpClient& broker) {
    while (!stopping_) {
      Sample sample;
      sample.started = Clock::now();
      sample.started_unix_micros = unixMicros();
      try {
        auto r = fetch_(broker);
        sample.status = r.status;
        sample.body = std::move(r.body);
      } catch (const std::exception& e) {
        sample.status = -1;
        sample.body = e.what();
      }
      sample.finished = Clock::now();
      if (sample.status == 200) ++successes_[worker.broker];
      if (from_memory_(sample)) ++memory_hits_[worker.broker];
      ++answered_[worker.broker];
      worker.samples.push_back(std::move(sample));
    }
  }

  void awaitMore(const std::string& what, const Counters& counters, std::size_t count,
                 std::chrono::milliseconds timeout = 15s) const {
    std::vector<std::size_t> at(brokers());
    for (std::size_t b = 0; b < brokers(); ++b) at[b] = counters[b].load();
    awaitEach(what, [&](std::size_t b) { return counters[b].load() >= at[b] + threads_per_broker_ + count; }, timeout);
  }

  void awaitEach(const std::string& what, const std::function<bool(std::size_t)>& done,
                 std::chrono::milliseconds timeout = 15s) const {
    const auto deadline = Clock::now() + timeout;
    for (std::size_t b = 0; b < brokers(); ++b) {
      while (!done(b)) {
        if (Clock::now() > deadline) throw std::runtime_error("broker " + std::to_string(b) + ": too few " + what);
        std::this_thread::sleep_for(5ms);
      }
    }
  }

  const Fetch fetch_;
  const std::function<bool(const Sample&)> from_memory_;
  const std::size_t threads_per_broker_;
  Counters successes_, memory_hits_, answered_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
};

/// The first few fetches that broke a rule, for the failure message.
struct Examples {
  std::size_t count = 0;
  std::string text;
  void add(const std::string& line) {
    if (count++ < 5) text += "\n  " + line;
  }
};

std::string describe(const Sample& s, Clock::time_point reference, const std::string& what = "the answer") {
  const auto ms = [](Clock::duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(d).count() / 1000.0);
  };
  return "started " + ms(s.started - reference) + " ms after " + what + ", took " + ms(s.finished - s.started) +
         " ms: " + std::to_string(s.status) + " " + s.body;
}

/// What the fetches of a load may get once a change was answered.
struct Rules {
  /// Served from the state before the change: never allowed once it was answered.
  std::function<bool(const Sample&)> stale;
  /// What the new state answers (anything else is also reported).
  std::function<bool(const Sample&)> expected;
};

/// Invariant 2 on every broker of `load` (stopped): no fetch that started after `answered` is
/// `rules.stale`, each is `rules.expected`; and the load had been served (200) before the change
/// was `sent`, and went on past the answer, so the check saw something.
void checkNothingStaleAfter(const Load& load, Clock::time_point sent, Clock::time_point answered, const Rules& rules) {
  for (std::size_t b = 0; b < load.brokers(); ++b) {
    CAPTURE(b);
    std::size_t served_before = 0, after = 0, stale = 0, unexpected = 0, no_answer = 0;
    Examples examples;
    for (const auto& sample : load.samples(b)) {
      if (sample.status == -1) {
        ++no_answer;
        examples.add(describe(sample, answered));
      }
      if (sample.started < sent && sample.status == 200) ++served_before;
      if (sample.started <= answered) continue;
      ++after;
      const bool is_stale = rules.stale(sample);
      const bool is_expected = rules.expected(sample);
      stale += is_stale ? 1 : 0;
      unexpected += is_expected ? 0 : 1;
      if (is_stale || !is_expected) examples.add(describe(sample, answered));
    }
    CAPTURE(examples.text);
    CHECK(served_before >= 20);
    CHECK(after >= 20);
    CHECK(stale == 0);
    CHECK(unexpected == 0);
    CHECK(no_answer == 0);
  }
}

bool ok(const Sample& s) { return s.status == 200; }
std::function<bool(const Sample&)> statusIs(std::initializer_list<int> statuses) {
  return [allowed = std::vector<int>(statuses)](const Sample& s) {
    return std::find(allowed.begin(), allowed.end(), s.status) != allowed.end();
  };
}
std::function<bool(const Sample&)> served(const std::string& access_token) {
  return [access_token](const Sample& s) { return s.status == 200 && accessTokenOf(s.body) == access_token; };
}

/// A tenant of its own whose runtime shows whether a broker answers from memory: a key is fetched
/// (so remembered), then revoked without a notification (writeUnnotified). The database now says
/// 401, so a 200 for it can only come from memory. Another tenant's changes do not touch its entry
/// (memory forgets per customer).
class MemoryProbe {
 public:
  explicit MemoryProbe(const BrokerStack& s)
      : s_(s), tenant_(s.newTenant("probe")), instance_(s.createInstance(tenant_, "probe")) {
    s.createGrant(tenant_, s.createConnection(tenant_, connectionBody("gmail", "probe")), instance_);
  }

  /// A key of the probe that `broker` still serves from memory although the database has it
  /// revoked, or nullopt if it never did within `timeout` (a load that raced the new key's own
  /// notification is not kept, so it takes a new key and tries again).
  std::optional<Runtime> staleKey(const HttpClient& broker, std::chrono::milliseconds timeout = 10s) const {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      const auto key = s_.newProxyKey(tenant_, instance_);
      for (int i = 0; i < 3; ++i) expectStatus(fetch(broker, key), 200, "probe fetch");
      writeUnnotified(s_.db, "UPDATE proxy_keys SET revoked_at = now() WHERE id = $1", key.key_id);
      if (fetch(broker, key).status == 200) return key;
      // That 401 counts against this address (the broker throttles failed authentications):
      // give its bucket time to refill before the next try.
      std::this_thread::sleep_for(250ms);
    }
    return std::nullopt;
  }

  static Response fetch(const HttpClient& broker, const Runtime& key) {
    return fetchFrom(broker, key, "provider=gmail");
  }

 private:
  const BrokerStack& s_;
  Tenant tenant_;
  std::string instance_;
};

/// Two brokers on one database (the stack's and a second one), a tenant whose runtime is granted
/// gmail/inbox (send_mail), and a memory probe.
///
/// Which fetches memory answered is told apart by the credentials released: the connection
/// holds {"access_token":"memory"} while a load warms the brokers, then its ciphertext is put
/// back, without a notification, to the one it was created with ({"access_token":"database"}).
/// From then on a fetch released "memory" only if memory answered it.
struct Fleet {
  /// `settings`: added to both brokers' environment.
  explicit Fleet(const Environment& settings = {}) : Fleet(RuntimeIdentity::Off, settings) {}
  /// With runtime identity on (issue 17) both brokers check the runtimes' certificates, which
  /// every fetch presents: revocation must be as immediate as without.
  explicit Fleet(RuntimeIdentity identity, const Environment& settings = {}) : s(identity, settings) {
    setAccessToken("memory");
  }

  BrokerStack s;
  Broker second{s.brokerEnvironment()};
  std::vector<HttpClient> brokers{s.runtime, s.clientOf(second.port())};
  Tenant t = s.newTenant();
  std::string connection =
      s.createConnection(t, connectionBody("gmail", "inbox", R"({"access_token":"database"})"));
  std::string database_ciphertext = storedSecret(s.db, connection).ciphertext_hex;
  Runtime runtime = s.newRuntime(t);
  std::string grant = s.createGrant(t, connection, runtime.instance_id);
  MemoryProbe probe{s};

  static constexpr const char* kQuery = "provider=gmail&name=inbox&capability=send_mail";

  Response as(const std::string& method, const std::string& path, const std::string& body = "") const {
    return s.as(t, method, t.path() + path, body);
  }
  /// PATCHes the connection's credentials to {"access_token": token}.
  void setAccessToken(const std::string& token) const {
    const auto r = as("PATCH", "/connections/" + connection, R"({"credentials":{"access_token":")" + token + R"("}})");
    expectStatus(r, 200, "replace credentials");
  }
  /// A load fetching `query` as `r` from both brokers.
  std::unique_ptr<Load> load(const Runtime& r, const std::string& query = kQuery) const {
    return std::make_unique<Load>(
        brokers, [r, query](const HttpClient& broker) { return fetchFrom(broker, r, query); },
        served("memory"));
  }
  /// Once `loads` are served "memory" (so memory can hold it), the database's ciphertext back to
  /// "database", unnotified; then waits until memory has answered each load on both brokers (the
  /// connection must hold "memory" when it is called). Should a broker have asked the database
  /// meanwhile (its memory briefly not current on a busy machine), it remembers "database" from
  /// then on: the connection is set to "memory" again and it starts over.
  void warm(const std::vector<const Load*>& loads) const {
    for (int attempt = 1;; ++attempt) {
      if (attempt > 1) setAccessToken("memory");
      for (const auto* load : loads) {
        load->awaitSuccesses(20);
        // "memory" is still in the database: fresh answers of it, from it or from memory.
        REQUIRE(load->awaitMemoryHits(5, 30s));
      }
      writeUnnotified(s.db, "UPDATE connection_secrets SET ciphertext = decode($2, 'hex') WHERE connection_id = $1",
                      connection, database_ciphertext);
      bool all = true;
      for (const auto* load : loads) all = all && load->awaitMemoryHits(5, 3s);
      if (all) return;
      REQUIRE(attempt < 3);
    }
  }
  void warm(const Load& load) const { warm(std::vector<const Load*>{&load}); }
};

/// `change` (one control plane request, answering `status`) under a load of the fleet's runtime
/// on both brokers, once memory answers it; `then` runs right after the answer, the load still
/// running (the second half of a change made of two requests). Then invariant 2 for what followed.
void changeUnderLoad(const Fleet& f, const std::function<Response()>& change, int status, const Rules& rules,
                     const std::function<void()>& then = [] {}) {
  const auto load = f.load(f.runtime);
  f.warm(*load);
  const auto sent = Clock::now();
  const auto answer = change();
  const auto answered = Clock::now();
  REQUIRE(answer.status == status);
  then();
  load->awaitStartedAfter(20);
  load->stop();
  checkNothingStaleAfter(*load, sent, answered, rules);
}

/// The sessions on which the brokers of `db` listen for changes: those that LISTENed and send
/// the ticks (pg_stat_activity shows a session's last statement).
std::vector<int> listenerBackends(const TestDatabase& db) {
  std::vector<int> pids;
  for (const auto& row : db.exec("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                 " AND usename = 'hydracore_broker'"
                                 " AND (query LIKE 'SELECT pg_notify(%' OR query LIKE 'LISTEN %')"
                                 // The connect flow's exchange listens on a connection of its own.
                                 " AND query NOT LIKE '%hydra_connect%'")) {
    pids.push_back(row[0].as<int>());
  }
  return pids;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

/// Runs a test case twice: runtime identity off, then on (issue 17: revocation stays immediate
/// with it).
RuntimeIdentity eachMode() {
  RuntimeIdentity mode = RuntimeIdentity::Off;
  SUBCASE("identity off") {}
  SUBCASE("identity on") { mode = RuntimeIdentity::On; }
  return mode;
}

constexpr const char* kListening = "change listener: listening";
constexpr const char* kListenerLost = "fetches are decided from the database until it listens again";

}  // namespace

TEST_CASE("authz: under load on two brokers, nothing is served with a revoked proxy key after the answer") {
  Fleet f(eachMode());
  changeUnderLoad(
      f, [&] { return f.as("DELETE", "/instances/" + f.runtime.instance_id + "/proxy-keys/" + f.runtime.key_id); },
      204, {ok, statusIs({401, 429})});  // 429: the broker throttles a peer's failed authentications
}

TEST_CASE("authz: under load on two brokers, nothing is served through a deleted grant after the answer") {
  Fleet f(eachMode());
  changeUnderLoad(
      f, [&] { return f.as("DELETE", "/connections/" + f.connection + "/grants/" + f.grant); }, 204,
      {ok, statusIs({404, 429})});  // 429: the broker throttles a valid key's refusals
}

TEST_CASE("authz: under load on two brokers, nothing is served from a deleted connection after the answer") {
  Fleet f(eachMode());
  changeUnderLoad(f, [&] { return f.as("DELETE", "/connections/" + f.connection); }, 204, {ok, statusIs({404, 429})});
}

TEST_CASE("authz: under load on two brokers, nothing is served to a deleted instance after the answer") {
  Fleet f(eachMode());
  changeUnderLoad(f, [&] { return f.as("DELETE", "/instances/" + f.runtime.instance_id); }, 204,
                  {ok, statusIs({401, 429})});
}

TEST_CASE("authz: under load on two brokers, replaced credentials are never served in their old form after the answer") {
  // Before the answer both old forms are served: "memory" from memory, "database" (what the
  // database held just before the PATCH) from the database. Afterwards only the new one.
  Fleet f(eachMode());
  changeUnderLoad(
      f, [&] { return f.as("PATCH", "/connections/" + f.connection, R"({"credentials":{"access_token":"new"}})"); },
      200, {[](const Sample& s) { return s.status == 200 && accessTokenOf(s.body) != "new"; }, served("new")});
}

TEST_CASE("authz: under load on two brokers, a renamed connection is not served under its old name after the answer") {
  Fleet f(eachMode());
  changeUnderLoad(f, [&] { return f.as("PATCH", "/connections/" + f.connection, R"({"name":"renamed"})"); }, 200,
                  {ok, statusIs({404, 429})});  // 429: the broker throttles a valid key's refusals
}

TEST_CASE("authz: under load on two brokers, a capability dropped by re-making the grant is refused after the answer") {
  // There is no PATCH of a grant: narrowing is a delete (the answer that counts) and a create.
  Fleet f(eachMode());
  changeUnderLoad(
      f, [&] { return f.as("DELETE", "/connections/" + f.connection + "/grants/" + f.grant); }, 204,
      {ok, statusIs({404, 403, 429})},  // 404 until the new grant exists, then 403 (no send_mail in it)
      [&] { f.s.createGrant(f.t, f.connection, f.runtime.instance_id, R"(["read_mail"])"); });
  std::this_thread::sleep_for(2100ms);  // the load used up the key's refusals: they come back one a second
  for (const auto& broker : f.brokers) {
    CHECK(refusal(fetchFrom(broker, f.runtime, Fleet::kQuery), 403) == "");
    const auto kept = fetchFrom(broker, f.runtime, "provider=gmail&capability=read_mail");
    CHECK(kept.status == 200);
  }
}

TEST_CASE("authz: a revocation answered by a second control plane process is seen the same by both brokers") {
  Fleet f(eachMode());
  const ControlPlane other(ControlPlane::environment(f.s.db.urlAs("hydracore_control_plane")));
  const HttpClient other_http(other.port());
  changeUnderLoad(
      f,
      [&] {
        return other_http.request(
            "DELETE", f.t.path() + "/instances/" + f.runtime.instance_id + "/proxy-keys/" + f.runtime.key_id, "",
            f.t.auth());
      },
      204, {ok, statusIs({401, 429})});
}

TEST_CASE("authz: a killed listener connection releases nothing stale, fetches fall back to the database and it listens again") {
  // One database connection per broker for fetches, opened while warming: round 1 keeps the
  // listeners from reconnecting (no new sessions for the broker's role) without starving fetches.
  Fleet f(Environment{{"HYDRA_DB_POOL_SIZE", "1"}});
  const Service* services[] = {&f.s.broker, &f.second};
  const auto& database = f.s.db.name();
  // Another runtime of the tenant, never revoked: its fetches must succeed all along, and once a
  // listener is lost, not from the memory of before.
  const auto steady = f.s.newRuntime(f.t, "steady");
  f.s.createGrant(f.t, f.connection, steady.instance_id);
  const auto steady_load = f.load(steady);
  struct Window {
    Clock::time_point from, to;  // steady fetches started in it must come from the database
  };
  std::vector<Window> database_only;

  for (std::size_t round = 1; round <= 2; ++round) {
    CAPTURE(round);
    const bool held_down = round == 1;  // round 2: the listeners may reconnect at once
    if (round > 1) {
      database_only.back().to = Clock::now();
      f.setAccessToken("memory");
    }
    // This round's runtime: its grant is deleted while the listeners are down.
    const auto revoked = f.s.newRuntime(f.t, "round-" + std::to_string(round));
    const auto grant = f.s.createGrant(f.t, f.connection, revoked.instance_id);
    const auto load = f.load(revoked);
    f.warm({load.get(), steady_load.get()});

    if (held_down) {
      // Sessions already open stay; new ones of the broker's role are refused.
      execAdmin("REVOKE CONNECT ON DATABASE " + database + " FROM PUBLIC");
      execAdmin("GRANT CONNECT ON DATABASE " + database + " TO hydracore_control_plane");
    }
    const auto listeners = listenerBackends(f.s.db);
    REQUIRE(listeners.size() == 2);  // one per broker
    for (const auto pid : listeners) {
      // With a timeout, pg_terminate_backend returns once the session is gone: no tick sent on
      // it comes back after `killed`.
      REQUIRE(f.s.db.exec("SELECT pg_terminate_backend($1, 5000)", pid)[0][0].as<bool>());
    }
    const auto killed = Clock::now();
    database_only.push_back({killed + kStaleness, Clock::time_point::max()});

    const auto sent = Clock::now();
    REQUIRE(f.as("DELETE", "/connections/" + f.connection + "/grants/" + grant).status == 204);
    const auto answered = Clock::now();
    load->awaitStartedAfter(20);
    steady_load->awaitStartedAfter(20);
    if (held_down) {
      CHECK(listenerBackends(f.s.db).empty());  // the fetches above were the database's alone
      execAdmin("GRANT CONNECT ON DATABASE " + database + " TO PUBLIC");
    }

    // It listens again by itself, and memory is used again.
    CHECK(eventually(
        [&] {
          return listenerBackends(f.s.db).size() == 2 && occurrences(services[0]->log(), kListening) == round + 1 &&
                 occurrences(services[1]->log(), kListening) == round + 1;
        },
        10s));
    for (std::size_t b = 0; b < f.brokers.size(); ++b) {
      CAPTURE(b);
      CHECK(f.probe.staleKey(f.brokers[b]));
      // Each loss is in the operator's log.
      CHECK(occurrences(services[b]->log(), kListenerLost) == round);
    }
    // Nothing stale before, during or after the listeners' return.
    load->awaitStartedAfter(20);
    load->stop();
    checkNothingStaleAfter(*load, sent, answered, {ok, statusIs({404, 429})});
  }

  steady_load->stop();
  for (std::size_t b = 0; b < f.brokers.size(); ++b) {
    CAPTURE(b);
    std::size_t checked = 0;
    Examples failures;
    for (const auto& sample : steady_load->samples(b)) {
      const bool database_only_now = std::any_of(database_only.begin(), database_only.end(), [&](const Window& w) {
        return sample.started > w.from && sample.started < w.to;
      });
      checked += database_only_now ? 1 : 0;
      const bool failed = sample.status != 200 || (database_only_now && accessTokenOf(sample.body) != "database");
      if (failed) failures.add(std::to_string(sample.status) + " " + sample.body);
    }
    CAPTURE(failures.text);
    CHECK(failures.count == 0);
    CHECK(checked >= 40);
  }
}

TEST_CASE("authz: with the database unreachable both brokers answer 503 once B has passed, memory or not, and recover") {
  Fleet f;
  const auto load = f.load(f.runtime);
  f.warm(*load);  // memory answers the load on both brokers

  const auto& name = f.s.db.name();
  execAdmin("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false");
  // With a timeout, pg_terminate_backend returns once the session is gone: the brokers' last
  // ticks were sent before `down`.
  execAdmin("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = '" + name + "'");
  const auto down = Clock::now();
  std::this_thread::sleep_until(down + kStaleness);
  load->awaitStartedAfter(20);
  const auto back = Clock::now();
  execAdmin("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true");

  for (std::size_t b = 0; b < f.brokers.size(); ++b) {
    CAPTURE(b);
    CHECK(eventually(
        [&] { return fetchFrom(f.brokers[b], f.runtime, Fleet::kQuery).status == 200; },
        10s));
  }
  load->stop();
  for (std::size_t b = 0; b < f.brokers.size(); ++b) {
    CAPTURE(b);
    std::size_t during = 0, not_503 = 0;
    Examples examples;
    for (const auto& sample : load->samples(b)) {
      // Fetches in flight when the database came back may be decided by it.
      if (sample.started <= down + kStaleness || sample.finished >= back) continue;
      ++during;
      if (sample.status != 503) {
        ++not_503;
        examples.add(describe(sample, down, "the outage began"));
      }
    }
    CAPTURE(examples.text);
    CHECK(during >= 20);
    CHECK(not_503 == 0);
  }
  // Memory is used again once the database is back (the control plane too, for the probe) and
  // the listeners with it.
  CHECK(eventually([&] { return f.as("GET", "/instances").status == 200; }, 10s));
  CHECK(eventually([&] { return listenerBackends(f.s.db).size() == 2; }, 10s));
  for (const auto& broker : f.brokers) CHECK(f.probe.staleKey(broker));
}

TEST_CASE("authz: a proxy key expiring under load is refused by both brokers from the moment it expires") {
  Fleet f(eachMode());
  const auto key = f.s.newProxyKey(f.t, f.runtime.instance_id, R"({"expires_in_seconds":60})");
  // Brought forward to a few seconds from now, as a change like any other (the brokers hear of
  // it, and the load then fetches the key with that expiry into memory).
  f.s.db.exec("UPDATE proxy_keys SET expires_at = now() + interval '4 seconds' WHERE id = $1", key.key_id);
  const auto expires = f.s.db
                           .exec("SELECT (extract(epoch FROM expires_at) * 1000000)::bigint FROM proxy_keys WHERE id = $1",
                                 key.key_id)[0][0]
                           .as<std::int64_t>();
  const auto load = f.load(key);
  f.warm(*load);
  while (unixMicros() <= expires) std::this_thread::sleep_for(10ms);
  load->awaitStartedAfter(20);
  load->stop();
  for (std::size_t b = 0; b < f.brokers.size(); ++b) {
    CAPTURE(b);
    std::size_t served_before = 0, after = 0, served_after = 0;
    Examples examples;
    for (const auto& sample : load->samples(b)) {
      // The broker reads its clock after the request started: one that started past the
      // expiry is decided past it.
      if (sample.started_unix_micros <= expires) {
        served_before += sample.status == 200 ? 1 : 0;
        continue;
      }
      ++after;
      if (sample.status != 401 && sample.status != 429) {
        ++served_after;
        examples.add(std::to_string(sample.status) + " " + sample.body);
      }
    }
    CAPTURE(examples.text);
    CHECK(served_before >= 20);
    CHECK(after >= 20);
    CHECK(served_after == 0);
  }
}

TEST_CASE("authz: a grant or key made a moment ago works on the very next fetch on both brokers, right after a refusal") {
  Fleet f(eachMode());
  const auto fetch = [](const HttpClient& broker, const Runtime& r, const std::string& query = Fleet::kQuery) {
    return fetchFrom(broker, r, query);
  };
  // A runtime refused for want of a grant, then granted.
  const auto r = f.s.newRuntime(f.t, "newcomer");
  for (const auto& broker : f.brokers) CHECK(refusal(fetch(broker, r), 404) == "");
  const auto grant = f.s.createGrant(f.t, f.connection, r.instance_id);
  for (const auto& broker : f.brokers) CHECK(fetch(broker, r).status == 200);

  // Rotation: the old key refused, a new one works at once.
  REQUIRE(f.as("DELETE", "/instances/" + r.instance_id + "/proxy-keys/" + r.key_id).status == 204);
  for (const auto& broker : f.brokers) CHECK(refusal(fetch(broker, r), 401) == "");
  const auto rotated = f.s.newProxyKey(f.t, r.instance_id);
  for (const auto& broker : f.brokers) CHECK(fetch(broker, rotated).status == 200);

  // Memory refuses, the database allows: memory holds the grant without read_mail, and read_mail
  // is added without a notification (the worst a late one could do). A refusal from memory is
  // confirmed from the database, which allows it.
  for (std::size_t b = 0; b < f.brokers.size(); ++b) {
    CAPTURE(b);
    const auto& broker = f.brokers[b];
    writeUnnotified(f.s.db, "UPDATE grants SET capabilities = '[\"send_mail\"]' WHERE id = $1", grant);
    bool remembered = false;  // shown: memory answers "memory" while the database holds "database"
    for (int attempt = 0; attempt < 5 && !remembered; ++attempt) {
      f.setAccessToken("memory");
      for (int i = 0; i < 3; ++i) REQUIRE(fetch(broker, rotated).status == 200);
      writeUnnotified(f.s.db, "UPDATE connection_secrets SET ciphertext = decode($2, 'hex') WHERE connection_id = $1",
                      f.connection, f.database_ciphertext);
      remembered = accessTokenOf(fetch(broker, rotated).body) == "memory";
    }
    REQUIRE(remembered);
    writeUnnotified(f.s.db, "UPDATE grants SET capabilities = '[\"send_mail\",\"read_mail\"]' WHERE id = $1", grant);
    const auto added = fetch(broker, rotated, "provider=gmail&name=inbox&capability=read_mail");
    CHECK(added.status == 200);
    CHECK(accessTokenOf(added.body) == "database");  // decided from the database
  }

  // A capability added through the control plane (the grant deleted and made again) works at once.
  REQUIRE(f.as("DELETE", "/connections/" + f.connection + "/grants/" + grant).status == 204);
  f.s.createGrant(f.t, f.connection, r.instance_id, R"(["send_mail","calendar"])");
  for (const auto& broker : f.brokers) {
    CHECK(fetch(broker, rotated, "provider=gmail&capability=calendar").status == 200);
  }
}
