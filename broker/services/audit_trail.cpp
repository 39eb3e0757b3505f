#include "broker/services/audit_trail.hpp"

#include <atomic>
#include <chrono>
#include <future>

#include "broker/db/statements.hpp"
#include "shared/db/pool.hpp"
#include "shared/http/errors.hpp"
#include "shared/json/writer.hpp"
#include "shared/log/log.hpp"

namespace hydra::broker {
namespace {

constexpr auto kCommitTimeout = std::chrono::seconds(5);
constexpr std::size_t kMaxBatch = 512;
constexpr std::size_t kMaxQueued = 10000;

http::ApiError unavailable() { return http::ApiError(503, "Audit trail unavailable, retry shortly", 1); }

std::string toJson(const AuditRecord& r) {
  json::Writer w;
  w.beginObject();
  w.key("customer_id").stringOrNull(r.customer_id);
  w.key("instance_id").stringOrNull(r.instance_id);
  w.key("proxy_key_id").stringOrNull(r.proxy_key_id);
  w.key("connection_id").stringOrNull(r.connection_id);
  w.key("provider").stringOrNull(r.provider);
  w.key("name").stringOrNull(r.name);
  w.key("capability").stringOrNull(r.capability);
  w.key("outcome").string(r.outcome);
  w.key("reason").string(r.reason);
  w.key("request_id").string(r.request_id);
  w.key("peer").string(r.peer);
  w.endObject();
  return w.str();
}

}  // namespace

struct AuditTrail::Pending {
  std::string json;
  std::optional<std::string> used_connection_id;
  std::promise<void> committed;
  std::atomic<bool> withdrawn{false};  // the request gave up waiting before the writer took it
};

AuditTrail::AuditTrail(std::string database_url) : url_(std::move(database_url)), writer_([this] { run(); }) {}

AuditTrail::~AuditTrail() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_one();
  writer_.join();
}

void AuditTrail::record(const AuditRecord& record) {
  auto pending = std::make_shared<Pending>();
  pending->json = toJson(record);
  if (record.marks_use) pending->used_connection_id = record.connection_id;
  auto committed = pending->committed.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // A writer that cannot keep up must not grow the queue without bound.
    if (queue_.size() >= kMaxQueued) throw unavailable();
    queue_.push_back(pending);
  }
  queued_.notify_one();
  if (committed.wait_for(kCommitTimeout) != std::future_status::ready) {
    // Withdraw the record if the writer has not taken it yet. If it has, it may still be
    // committed: the trail can then show an "allowed" that released nothing (it over-reports,
    // never under-reports), while this request releases nothing.
    pending->withdrawn = true;
    throw unavailable();
  }
  try {
    committed.get();
  } catch (const std::exception&) {
    throw unavailable();
  }
}

void AuditTrail::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    Batch batch;
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      if (!queue_.front()->withdrawn) batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    if (!batch.empty()) commitBatch(batch);
    lock.lock();
  }
}

void AuditTrail::commitBatch(const Batch& batch) {
  try {
    try {
      write(batch);
    } catch (const std::exception& e) {
      if (!hydra::db::isOutage(e)) throw;
      // Typically a connection made stale by a database restart: one fresh attempt.
      connection_.reset();
      write(batch);
    }
    for (const auto& p : batch) p->committed.set_value();
  } catch (const std::exception& e) {
    log::app().error("audit trail: cannot commit " + std::to_string(batch.size()) + " record(s): " + e.what());
    if (hydra::db::isOutage(e)) connection_.reset();
    if (batch.size() > 1 && !hydra::db::isOutage(e)) {
      // One bad record must not fail the requests it happened to share a commit with.
      for (const auto& p : batch) commitBatch({p});
      return;
    }
    // Nothing of this batch is released: every waiting request answers 503.
    for (const auto& p : batch) p->committed.set_exception(std::current_exception());
  }
}

void AuditTrail::write(const Batch& batch) {
  std::string records = "[";
  std::string used = "{";
  for (const auto& p : batch) {
    records += (records.size() > 1 ? "," : "") + p->json;
    if (p->used_connection_id) used += (used.size() > 1 ? "," : "") + *p->used_connection_id;
  }
  records += "]";
  used += "}";
  if (!connection_) {
    connection_ = std::make_unique<pqxx::connection>(url_);
    pqxx::nontransaction setup(*connection_);
    // "Durably committed" must not depend on the server's default.
    setup.exec("SET synchronous_commit = on; SET statement_timeout = '10s'");
    db::prepareStatements(*connection_);
  }
  // One statement, committed on its own (autocommit): durable when it returns.
  pqxx::nontransaction statement(*connection_);
  statement.exec_prepared("audit_event_insert_batch", records, used);
}

}  // namespace hydra::broker
