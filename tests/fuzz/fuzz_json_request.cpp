// Request bodies: json::parseObject, then every model's fromJson (control-plane/model), and for
// connections the oauth2 credential normalising the service applies before sealing. Only
// http::ValidationError (a 422) may come out, always with at least one problem.
#include "control-plane/model/resources.hpp"
#include "shared/json/reader.hpp"
#include "shared/json/writer.hpp"
#include "shared/oauth/token_fields.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using hydra::http::ValidationError;
namespace model = hydra::cp::model;

// A fixed "now" (2026-01-01T00:00:00Z): a crash must reproduce from its input alone.
constexpr std::time_t kNow = 1767225600;

template <typename Parse>
void refusedOrAccepted(Parse&& parse) {
  try {
    parse();
  } catch (const ValidationError& e) {
    FUZZ_CHECK(!e.problems().empty());
  }
}

// What the service stores for oauth2 credentials must read back: the broker parses the
// stored expires_at with the same parser.
void normalize(const std::string& credentials_json) {
  refusedOrAccepted([&] {
    const auto normalized = hydra::oauth::normalizeCredentials(credentials_json, kNow);
    FUZZ_CHECK(hydra::json::parseObject(normalized.credentials_json) != nullptr);
    if (normalized.expires_at) {
      const auto text = hydra::oauth::formatTime(*normalized.expires_at);
      FUZZ_CHECK(hydra::oauth::parseTime(text) == normalized.expires_at);
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::unique_ptr<rapidjson::Document> body;
  try {
    body = hydra::json::parseObject(hydra::fuzz::text(data, size));
  } catch (const ValidationError& e) {
    FUZZ_CHECK(!e.problems().empty());
    return 0;
  }
  FUZZ_CHECK(body != nullptr && body->IsObject());
  // What we store is re-serialised: it must parse again under the same rules.
  FUZZ_CHECK(hydra::json::parseObject(hydra::json::toString(*body)) != nullptr);

  refusedOrAccepted([&] { model::NameInput::fromJson(*body, true); });
  refusedOrAccepted([&] { model::NameInput::fromJson(*body, false); });
  refusedOrAccepted([&] {
    const auto created = model::ConnectionCreate::fromJson(*body);
    FUZZ_CHECK(hydra::json::isValidUtf8(created.name) && hydra::json::isValidUtf8(created.provider));
    if (created.auth_type == "oauth2") normalize(created.credentials_json);
  });
  refusedOrAccepted([&] {
    const auto update = model::ConnectionUpdate::fromJson(*body);
    if (update.credentials_json) normalize(*update.credentials_json);
  });
  refusedOrAccepted([&] { model::InstanceUpdate::fromJson(*body); });
  refusedOrAccepted([&] { model::ProxyKeyCreate::fromJson(*body); });
  refusedOrAccepted([&] { model::GrantCreate::fromJson(*body); });
  refusedOrAccepted([&] { model::GrantUpdate::fromJson(*body); });
  return 0;
}
