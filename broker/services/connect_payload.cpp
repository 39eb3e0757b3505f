#include "broker/services/connect_payload.hpp"

#include <rapidjson/document.h>

#include "shared/json/reader.hpp"
#include "shared/json/writer.hpp"
#include "shared/oauth/token_fields.hpp"

namespace hydra::broker {
namespace {

constexpr std::size_t kMaxError = 1024;  // connect_sessions.error's CHECK

}  // namespace

SealedCode parseSealedCode(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.c_str(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) throw std::invalid_argument("the session's sealed code is not a JSON object");
  SealedCode out{json::stringMember(doc, "code"), json::stringMember(doc, "redirect_uri"), std::nullopt};
  if (out.code.empty() || out.redirect_uri.empty()) {
    throw std::invalid_argument("the session's sealed code lacks code or redirect_uri");
  }
  if (auto verifier = json::stringMember(doc, "code_verifier"); !verifier.empty()) out.code_verifier = std::move(verifier);
  return out;
}

std::string exchangedCredentials(const oauth::TokenGrant& grant, const std::optional<oauth::ClientCredentials>& own_client,
                                 std::time_t now, std::optional<std::string>& expires_at) {
  rapidjson::Document doc;
  doc.SetObject();
  json::setStringMember(doc, "access_token", grant.access_token);
  if (!grant.token_type.empty()) json::setStringMember(doc, "token_type", grant.token_type);
  if (grant.refresh_token) json::setStringMember(doc, "refresh_token", *grant.refresh_token);
  expires_at.reset();
  if (grant.expires_in) {
    expires_at = hydra::oauth::formatTime(now + static_cast<std::time_t>(*grant.expires_in));
    json::setStringMember(doc, "expires_at", *expires_at);
  }
  if (own_client) {
    json::setStringMember(doc, "client_id", own_client->client_id);
    json::setStringMember(doc, "client_secret", own_client->client_secret);
  }
  return json::toString(doc);
}

std::string boundedSessionError(std::string text) {
  if (text.size() <= kMaxError) return text;
  std::size_t cut = kMaxError - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text + "...";
}

}  // namespace hydra::broker
