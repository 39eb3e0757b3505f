#include "broker/services/fetch.hpp"

#include <algorithm>
#include <chrono>

#include <rapidjson/document.h>

#include "shared/crypto/random.hpp"
#include "shared/db/bytea.hpp"
#include "shared/log/log.hpp"

namespace hydra::broker {
namespace {

constexpr const char* kCannotOpen = "Stored credentials cannot be opened; the operator has been alerted";

// A ciphertext that does not open: the database was tampered with.
struct Refusal {
  http::ApiError error;
  std::string alarm;  // for the operator's log
};

Circumstances now(const FetchRequest& request) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {micros, request.client.address, std::get_if<identity::RuntimeIdentity>(&request.runtime)};
}

std::vector<std::string> capabilityList(const std::string& json_array) {
  rapidjson::Document doc;
  doc.Parse(json_array.c_str(), json_array.size());  // PostgreSQL's jsonb text: valid
  std::vector<std::string> out;
  if (doc.IsArray()) {
    for (const auto& c : doc.GetArray()) {
      if (c.IsString()) out.emplace_back(c.GetString(), c.GetStringLength());
    }
  }
  return out;
}

// The key's networks as the database holds them (cidr[] joined with spaces): canonical.
std::vector<net::Cidr> cidrList(const std::string& joined) {
  std::vector<net::Cidr> cidrs;
  std::size_t start = 0;
  while (start < joined.size()) {
    const auto end = std::min(joined.find(' ', start), joined.size());
    // A block this broker cannot read binds the key to nothing rather than to everything.
    if (const auto cidr = net::parseCidr(joined.substr(start, end - start))) cidrs.push_back(*cidr);
    start = end + 1;
  }
  return cidrs;
}

Candidate candidateFrom(const pqxx::row& row) {
  Candidate c;
  c.connection_id = row["connection_id"].c_str();
  c.name = row["name"].c_str();
  c.auth_type = row["auth_type"].c_str();
  c.status = row["status"].c_str();
  if (!row["error_message"].is_null()) c.error_message = row["error_message"].c_str();
  c.capabilities_json = row["capabilities"].c_str();
  c.capabilities = capabilityList(c.capabilities_json);
  if (!row["grant_expires_micros"].is_null()) c.grant_expires_micros = row["grant_expires_micros"].as<std::int64_t>();
  if (!row["metadata"].is_null()) c.metadata_json = row["metadata"].c_str();
  c.proxy_only = row["proxy_only"].as<bool>();
  if (!row["rate_limit_requests"].is_null()) {  // both or neither (schema/0019)
    c.rate_limit =
        GrantRateLimit{row["rate_limit_requests"].as<std::int64_t>(), row["rate_limit_per_seconds"].as<std::int64_t>()};
  }
  c.sealed.key_id = row["key_id"].c_str();
  if (!row["ciphertext"].is_null()) {
    const pqxx::binarystring ciphertext(row["ciphertext"]);
    c.sealed.ciphertext.assign(ciphertext.begin(), ciphertext.end());
  }
  return c;
}

}  // namespace

struct FetchService::Work {
  FetchRequest request;
  FetchDone done;            // a fetch
  AuthorizeDone authorized;  // or an authorization (the proxy)
  hydra::audit::AuditRecord record;
  std::vector<std::uint8_t> key_hash;
  std::string key_text;  // key_hash as the throttle's key
  std::string memory_key;
};

void FetchService::fetch(FetchRequest request, FetchDone done) {
  auto work = std::make_shared<Work>();
  work->done = std::move(done);
  start(work, std::move(request));
}

void FetchService::authorize(FetchRequest request, AuthorizeDone done) {
  auto work = std::make_shared<Work>();
  work->authorized = std::move(done);
  start(work, std::move(request));
}

void FetchService::start(const std::shared_ptr<Work>& work, FetchRequest request) {
  work->record.instance_id = request.query.instance_id;
  work->record.provider = request.query.provider;
  work->record.name = request.query.name;
  work->record.capability = request.query.capability;  // none for the proxy: its rules decide
  work->record.request_id = request.request_id;
  work->record.peer = request.client.text;
  work->request = std::move(request);
  const auto* certificate_refusal = std::get_if<http::ApiError>(&work->request.runtime);
  if (work->request.proxy_key) {
    work->key_hash = crypto::tokenHash(*work->request.proxy_key);
    work->key_text.assign(work->key_hash.begin(), work->key_hash.end());
    const auto* runtime = std::get_if<identity::RuntimeIdentity>(&work->request.runtime);
    work->memory_key = authz::memoryKey(work->key_hash, work->request.query, runtime);
    if (!certificate_refusal && fromMemory(*work)) return;
  }
  const auto now = http::AuthThrottle::Clock::now();
  if (const auto wait = throttleWait(*work, now)) return finishUnaudited(*work, *wait);
  if (certificate_refusal) {
    // Decided before any lookup: the certificate alone breaks the rules.
    throttle_.failed(work->request.client.text, now);
    refuse(*work, "denied", *certificate_refusal);
    return;
  }
  if (!work->request.proxy_key) {
    throttle_.failed(work->request.client.text, now);
    refuse(*work, "denied", http::ApiError(401, "Not authenticated"));
    return;
  }
  if (!workers_.post([this, work] { fromDatabase(work); })) {
    refuse(*work, "error", http::ApiError(503, "The broker is busy, retry shortly", 1));
  }
}

std::optional<http::ApiError> FetchService::throttleWait(const Work& work, http::AuthThrottle::Clock::time_point now) {
  // Answered unaudited, before anything is looked up: a key found bad costs nothing however
  // often it comes back (its first refusal was audited), garbage keys must not flood the
  // database or the journal, and a valid key never waits for others' failures, only for its own
  // refusals (each one a lookup).
  using Admission = http::AuthThrottle::Admission;
  const auto admission =
      throttle_.admit(work.request.client.text, work.request.proxy_key ? &work.key_text : nullptr, now);
  switch (admission.kind) {
    case Admission::known_bad:
      return http::ApiError(401, "Invalid, expired or revoked proxy key");
    case Admission::key_waits:
      return http::ApiError(429, "Too many refused requests with this proxy key; retry later",
                            admission.retry_after_seconds);
    case Admission::peer_waits:
      return http::ApiError(429, "Too many failed authentications from this address; retry later",
                            admission.retry_after_seconds);
    case Admission::look_up:
      break;
  }
  return std::nullopt;
}

bool FetchService::fromMemory(Work& work) {
  const auto remembered = memory_.find(work.memory_key, authz::Memory::Clock::now());
  if (!remembered) return false;
  const auto decision = decide(*remembered, work.request.query, now(work.request));
  if (decision.status != 200) return false;  // the database decides every refusal
  const auto& chosen = *decision.chosen;
  std::string credentials;
  try {
    credentials = opened(work, *remembered, chosen);
  } catch (const Refusal&) {
    return false;  // the database path looks again, and records what it finds
  }
  // Refreshes wait off the server threads.
  if (chosen.auth_type == "oauth2" && refresher_.dueForRefresh(credentials)) return false;
  work.record.customer_id = remembered->customer_id;
  work.record.proxy_key_id = remembered->proxy_key_id;
  work.record.connection_id = chosen.connection_id;
  allow(work, *remembered, chosen, std::move(credentials));
  return true;
}

void FetchService::fromDatabase(const std::shared_ptr<Work>& work) {
  std::shared_ptr<const Lookup> found;
  try {
    const auto load_started = memory_.loadStarting();
    const auto load_began = authz::Memory::Clock::now();
    found = lookup(*work);
    memory_.remember(work->memory_key, found, load_started, load_began);
  } catch (const http::ApiError& e) {
    refuse(*work, "error", e);  // the database is away
    return;
  } catch (const std::exception& e) {
    log::app().error("request " + work->record.request_id + ": lookup failed: " + e.what());
    refuse(*work, "error", http::ApiError(500, "Internal server error (request id " + work->record.request_id + ")"));
    return;
  }
  if (found->key_found) {
    work->record.proxy_key_id = found->proxy_key_id;
    work->record.customer_id = found->customer_id;
  }
  if (found->candidates.size() == 1) work->record.connection_id = found->candidates.front().connection_id;
  const auto decision = decide(*found, work->request.query, now(work->request));
  const auto decided = http::AuthThrottle::Clock::now();
  if (decision.status == 401) {
    throttle_.failed(work->request.client.text, work->key_text, decided);
  } else {
    throttle_.valid(work->key_text);
    if (decision.status != 200) throttle_.refused(work->key_text, decided);
  }
  if (decision.status != 200) {
    refuse(*work, "denied", http::ApiError(decision.status, decision.reason));
    return;
  }
  const auto& chosen = *decision.chosen;
  std::string credentials;
  try {
    credentials = opened(*work, *found, chosen);
  } catch (const Refusal& refusal) {
    log::app().error("ALARM: connection " + chosen.connection_id + " " + refusal.alarm);
    refuse(*work, refusal.error.status() == 403 ? "denied" : "error", refusal.error);
    return;
  }
  if (chosen.auth_type != "oauth2") return allow(*work, *found, chosen, std::move(credentials));
  // Fresh enough, or refreshed first.
  const RefreshTarget target{chosen.connection_id, found->customer_id, work->request.query.provider, work->record,
                             std::nullopt};
  refresher_.whenFresh(target, std::move(credentials), [this, work, found, &chosen](Refresher::Fresh fresh) {
    if (const auto* refusal = std::get_if<http::ApiError>(&fresh)) {
      refuse(*work, refusal->status() == 503 ? "error" : "denied", *refusal);
    } else {
      allow(*work, *found, chosen, std::move(std::get<std::string>(fresh)));
    }
  });
}

std::shared_ptr<const Lookup> FetchService::lookup(const Work& work) {
  const auto& query = work.request.query;
  const auto hash_param = hydra::db::byteaParam(work.key_hash);
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_prepared("fetch_lookup", hash_param, query.instance_id, query.provider,
                                       query.name ? query.name->c_str() : nullptr);
    auto found = std::make_shared<Lookup>();
    if (rows.empty()) return std::shared_ptr<const Lookup>(found);
    found->key_found = true;
    found->proxy_key_id = rows[0]["proxy_key_id"].c_str();
    found->key_instance_id = rows[0]["key_instance_id"].c_str();
    found->customer_id = rows[0]["customer_id"].c_str();
    if (!rows[0]["key_expires_micros"].is_null()) found->key_expires_micros = rows[0]["key_expires_micros"].as<std::int64_t>();
    if (!rows[0]["allowed_cidrs"].is_null()) found->allowed_cidrs = cidrList(rows[0]["allowed_cidrs"].c_str());
    found->instance_disabled = rows[0]["instance_disabled"].as<bool>();
    for (const auto& row : rows) {
      if (!row["connection_id"].is_null()) found->candidates.push_back(candidateFrom(row));
    }
    return std::shared_ptr<const Lookup>(found);
  });
}

std::string FetchService::opened(const Work& work, const Lookup& lookup, const Candidate& chosen) const {
  // With runtime identity the customer bound into the ciphertext must be the certificate's:
  // rows the control plane rewrote cannot hand one customer's credentials to another's runtime.
  const auto* runtime = std::get_if<identity::RuntimeIdentity>(&work.request.runtime);
  const auto& customer_id = runtime ? runtime->customer_id : lookup.customer_id;
  try {
    const auto plaintext = opener_.open(chosen.sealed, crypto::connectionAad(customer_id, chosen.connection_id));
    return {plaintext.begin(), plaintext.end()};
  } catch (const crypto::UnknownKeyError&) {
    throw Refusal{http::ApiError(500, kCannotOpen), "is sealed to a key this broker does not hold"};
  } catch (const crypto::OpenError&) {
    if (runtime) {
      throw Refusal{
          http::ApiError(403, "The connection's credentials are not sealed for the runtime certificate's customer"),
          "failed authentication for the runtime certificate's customer " + customer_id +
              " (sealed for another customer, or tampered with)"};
    }
    // The row's ciphertext does not authenticate for this row: someone changed the database.
    throw Refusal{http::ApiError(500, kCannotOpen),
                  "failed authentication (its ciphertext was tampered with, or moved from another row)"};
  }
}

void FetchService::allow(Work& work, const Lookup& lookup, const Candidate& chosen, std::string credentials) {
  work.record.outcome = "allowed";
  work.record.reason = "granted";
  if (work.authorized) {
    auto done = std::move(work.authorized);
    return done(Authorized{lookup.customer_id, lookup.proxy_key_id, chosen, std::move(credentials)}, std::move(work.record));
  }
  // Never the refresh token or the client secret.
  finish(work, Released{releasableCredentials(credentials), chosen.capabilities_json});
}

void FetchService::refuse(Work& work, const char* outcome, const http::ApiError& error) {
  work.record.outcome = outcome;
  work.record.reason = error.detail();
  finish(work, error);
}

void FetchService::finishUnaudited(Work& work, const http::ApiError& error) {
  if (work.authorized) return work.authorized(error, std::nullopt);
  work.done(error);
}

void FetchService::finish(Work& work, FetchResult result) {
  if (work.authorized) {  // a refusal: the proxy completes the record and appends it
    auto done = std::move(work.authorized);
    return done(std::get<http::ApiError>(std::move(result)), std::move(work.record));
  }
  // The record goes to the journal; the work is over once it is appended.
  journal_.append(std::move(work.record), [done = std::move(work.done), result = std::move(result)](bool durable) mutable {
    if (durable) {
      done(std::move(result));
    } else {
      done(http::ApiError(503, "Audit journal unavailable, retry shortly", 1));  // nothing released
    }
  });
}

}  // namespace hydra::broker
