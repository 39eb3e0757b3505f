// The audit trail as customers see it (issue 3, "Audit trail"): every decision, allowed or
// denied, is recorded with its fields; the control plane shows a customer its own records,
// newest first, paged with before=; concurrent fetches are each recorded. Since issue 7 the
// records are made durable in the broker's journal first and shipped to PostgreSQL behind it
// (test_audit_journal.cpp tests the journal itself).
#include <doctest/doctest.h>

#include <thread>

#include "tests/support/broker.hpp"

using namespace hydra::test;

namespace {

/// A tenant with gmail/inbox granted (send_mail) to a runtime.
struct Audited {
  BrokerStack s;
  Tenant t = s.newTenant();
  std::string connection = s.createConnection(t, connectionBody("gmail", "inbox", R"({"token":"AUDIT-CANARY"})"));
  Runtime runtime = s.grantedRuntime(t, connection);

  std::size_t eventCount() const {
    s.awaitShipped();
    return s.db.exec("SELECT count(*) FROM audit_events")[0][0].as<std::size_t>();
  }
};

/// The record of a request as the superuser sees it (for records no customer can see).
struct Row {
  std::string customer_id, instance_id, proxy_key_id, outcome;
};
Row auditRow(const TestDatabase& db, const std::string& request_id) {
  const auto rows = db.exec("SELECT coalesce(customer_id::text, 'null'), coalesce(instance_id::text, 'null'), "
                            "coalesce(proxy_key_id::text, 'null'), outcome FROM audit_events WHERE request_id = $1",
                            request_id);
  if (rows.size() != 1) throw std::runtime_error(std::to_string(rows.size()) + " audit rows for " + request_id);
  return {rows[0][0].c_str(), rows[0][1].c_str(), rows[0][2].c_str(), rows[0][3].c_str()};
}

}  // namespace

TEST_CASE("broker: an allowed fetch is recorded with every field, in its customer's trail") {
  Audited a;
  const auto r = a.s.fetch(a.runtime, "provider=gmail&name=inbox&capability=send_mail");
  REQUIRE(r.status == 200);
  const auto events = a.s.auditEvents(a.t);
  REQUIRE(items(member(events.json, "events")).size() == 1);
  const auto& e = eventFor(events, requestId(r));
  CHECK(keys(e) == std::set<std::string>{"capability", "connection_id", "duration_us", "id", "instance_id", "method",
                                         "name", "occurred_at", "outcome", "path", "peer", "provider", "proxy_key_id",
                                         "reason", "request_bytes", "request_id", "response_bytes", "upstream_status"});
  // A proxied call's fields (issue 19): none on a fetch.
  for (const char* key : {"duration_us", "method", "path", "request_bytes", "response_bytes", "upstream_status"}) {
    CAPTURE(key);
    CHECK(member(e, key).IsNull());
  }
  CHECK(member(e, "id").IsInt64());
  CHECK(isUtcTimestamp(text(e, "occurred_at")));
  CHECK(text(e, "outcome") == "allowed");
  CHECK_FALSE(text(e, "reason").empty());
  CHECK(text(e, "instance_id") == a.runtime.instance_id);
  CHECK(text(e, "proxy_key_id") == a.runtime.key_id);
  CHECK(text(e, "connection_id") == a.connection);
  CHECK(text(e, "provider") == "gmail");
  CHECK(text(e, "name") == "inbox");
  CHECK(text(e, "capability") == "send_mail");
  CHECK(textOrNull(e, "peer").rfind("127.0.0.1", 0) == 0);
  CHECK(jsonText(member(events.json, "next_before")) == "null");
  CHECK(auditRow(a.s.db, requestId(r)).customer_id == a.t.id);
  CHECK(events.body.find("AUDIT-CANARY") == std::string::npos);
}

TEST_CASE("broker: denied requests are recorded with outcome denied and what was asked") {
  Audited a;
  a.s.createConnection(a.t, "xero", "books");
  struct Denial {
    std::string what, query;
    int status;
    std::string connection_id;  // "null" when no single connection was found
  };
  const std::vector<Denial> denials{
      {"capability not granted", "provider=gmail&name=inbox&capability=delete_mail", 403, a.connection},
      {"no such grant", "provider=xero&name=books", 404, "null"},
      {"unknown name", "provider=gmail&name=nope&capability=send_mail", 404, "null"},
  };
  std::set<std::string> reasons;
  for (const auto& d : denials) {
    CAPTURE(d.what);
    const auto r = a.s.fetch(a.runtime, d.query);
    REQUIRE(r.status == d.status);
    const auto events = a.s.auditEvents(a.t);
    const auto& e = eventFor(events, requestId(r));
    CHECK(text(e, "outcome") == "denied");
    CHECK(text(e, "proxy_key_id") == a.runtime.key_id);
    CHECK(text(e, "instance_id") == a.runtime.instance_id);
    CHECK(textOrNull(e, "connection_id") == d.connection_id);
    const auto asked = [&](const std::string& field) {
      const auto at = d.query.find(field + "=");
      if (at == std::string::npos) return std::string("null");
      const auto end = d.query.find('&', at);
      return d.query.substr(at + field.size() + 1, end == std::string::npos ? std::string::npos : end - at - field.size() - 1);
    };
    CHECK(textOrNull(e, "provider") == asked("provider"));
    CHECK(textOrNull(e, "name") == asked("name"));
    CHECK(textOrNull(e, "capability") == asked("capability"));
    reasons.insert(text(e, "reason"));
  }
  CHECK(reasons.size() == denials.size());  // each reason says what was wrong

  // A live key on another instance is recorded in the key's customer's trail.
  const auto other_instance = a.s.createInstance(a.t, "other");
  const auto wrong = a.s.fetch(other_instance, a.runtime.proxy_key, "provider=gmail");
  REQUIRE(wrong.status == 403);
  const auto events = a.s.auditEvents(a.t);
  const auto& e = eventFor(events, requestId(wrong));
  CHECK(text(e, "outcome") == "denied");
  CHECK(text(e, "proxy_key_id") == a.runtime.key_id);
}

TEST_CASE("broker: requests without a live key are recorded too, with no customer") {
  Audited a;
  const auto revoked = a.s.newProxyKey(a.t, a.runtime.instance_id);
  REQUIRE(a.s.as(a.t, "DELETE", a.t.path() + "/instances/" + revoked.instance_id + "/proxy-keys/" + revoked.key_id)
              .status == 204);
  for (const auto& entry : std::vector<std::pair<std::string, std::string>>{
           {"no key", ""}, {"unknown key", "hcp_" + randomToken(43)}, {"revoked key", revoked.proxy_key}}) {
    const auto& what = std::get<0>(entry);
    const auto& key = std::get<1>(entry);
    CAPTURE(what);
    const auto r = a.s.fetch(a.runtime.instance_id, key, "provider=gmail");
    REQUIRE(r.status == 401);
    awaitShipped(a.s.db, {requestId(r)});
    const auto row = auditRow(a.s.db, requestId(r));
    CHECK(row.outcome == "denied");
    CHECK(row.customer_id == "null");
    CHECK(row.proxy_key_id == "null");
    CHECK(row.instance_id == a.runtime.instance_id);
  }
  CHECK(items(member(a.s.auditEvents(a.t).json, "events")).empty());  // no customer's business
  CHECK(a.eventCount() == 3u);
}

TEST_CASE("broker: the audit trail pages newest first with before=") {
  Audited a;
  std::vector<std::string> request_ids;  // oldest first
  for (const auto* query : {"provider=gmail", "provider=xero", "provider=gmail&capability=send_mail",
                            "provider=gmail&capability=nope", "provider=gmail&name=inbox"}) {
    request_ids.push_back(requestId(a.s.fetch(a.runtime, query)));
  }
  std::vector<std::string> seen;
  std::vector<long long> ids;
  std::string query = "limit=2";
  for (int page = 0; page < 3; ++page) {
    CAPTURE(page);
    const auto r = a.s.auditEvents(a.t, query);
    const auto events = items(member(r.json, "events"));
    CHECK(events.size() == (page < 2 ? 2u : 1u));
    for (const auto* e : events) {
      seen.push_back(text(*e, "request_id"));
      ids.push_back(member(*e, "id").GetInt64());
    }
    const auto& next = member(r.json, "next_before");
    if (page < 2) {
      REQUIRE(next.IsInt64());
      CHECK(next.GetInt64() == ids.back());
      query = "limit=2&before=" + std::to_string(next.GetInt64());
    } else {
      CHECK(next.IsNull());
    }
  }
  CHECK(seen == std::vector<std::string>(request_ids.rbegin(), request_ids.rend()));
  for (std::size_t i = 1; i < ids.size(); ++i) CHECK(ids[i] < ids[i - 1]);
  CHECK(items(member(a.s.auditEvents(a.t, "").json, "events")).size() == 5);  // default limit
}

TEST_CASE("broker: while PostgreSQL refuses the audit records, fetches go on, once it takes them, each arrives once") {
  Audited a;
  REQUIRE(a.s.fetch(a.runtime, "provider=gmail").status == 200);
  const auto events_before = a.eventCount();

  a.s.db.exec("REVOKE INSERT ON audit_events FROM hydracore_broker");
  std::vector<std::string> during;
  for (const auto* query : {"provider=gmail", "provider=gmail&name=inbox&capability=send_mail", "provider=xero"}) {
    CAPTURE(query);
    const auto r = a.s.fetch(a.runtime, query);
    CHECK(r.status == (std::string(query) == "provider=xero" ? 404 : 200));
    during.push_back(requestId(r));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(a.s.db.exec("SELECT count(*) FROM audit_events")[0][0].as<std::size_t>() == events_before);
  CHECK(a.s.broker.running());

  a.s.db.exec("GRANT INSERT ON audit_events TO hydracore_broker");
  awaitShipped(a.s.db, during);
  const auto events = a.s.auditEvents(a.t);
  CHECK(text(eventFor(events, during[0]), "outcome") == "allowed");
  CHECK(text(eventFor(events, during[2]), "outcome") == "denied");
  CHECK(a.eventCount() == events_before + during.size());
  // In order: shipped rows follow the journal's sequence numbers.
  const auto order = a.s.db.exec("SELECT bool_and(seq = n - 1) FROM (SELECT seq, row_number() OVER (ORDER BY id) AS n"
                                 " FROM audit_events) ordered");
  CHECK(order[0][0].as<bool>());
}

TEST_CASE("broker: 50 concurrent fetches all succeed and leave 50 allowed records") {
  Audited a;
  constexpr std::size_t kFetches = 50;
  std::vector<Response> responses(kFetches);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < kFetches; ++i) {
    threads.emplace_back([&, i] {
      try {
        responses[i] = a.s.fetch(a.runtime, "provider=gmail&capability=send_mail");
      } catch (const std::exception&) {
        // status stays 0: counted as a failure below
      }
    });
  }
  for (auto& t : threads) t.join();

  std::set<std::string> released;
  for (const auto& r : responses) {
    CHECK(r.status == 200);
    if (r.status != 200) continue;
    CHECK(sameJson(member(r.json, "credentials"), R"({"token":"AUDIT-CANARY"})"));
    released.insert(requestId(r));
  }
  CHECK(released.size() == kFetches);
  const auto events = a.s.auditEvents(a.t);
  std::set<std::string> recorded;
  for (const auto* e : items(member(events.json, "events"))) {
    CHECK(text(*e, "outcome") == "allowed");
    CHECK(text(*e, "proxy_key_id") == a.runtime.key_id);
    recorded.insert(text(*e, "request_id"));
  }
  CHECK(recorded == released);
  CHECK(a.eventCount() == kFetches);
}
