#include "audit/check.hpp"

#include <fstream>
#include <sstream>

namespace hydra::audit {
namespace {

VerifierKey readVerifierKey(const std::string& path) {
  auto text = readFile(path);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  try {
    return parseVerifierKey(text);
  } catch (const std::exception& e) {
    throw Failed("verifier key " + path + ": " + e.what());
  }
}

}  // namespace

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failed("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<VerifierKey> readVerifierKeys(const VerifierKeyFiles& paths) {
  std::vector<VerifierKey> keys;
  for (const auto& path : paths) keys.push_back(readVerifierKey(path));
  if (keys.empty()) throw Failed("no verifier key");
  return keys;
}

std::string openedNote(const std::string& note, const std::string& origin, const std::vector<VerifierKey>& keys) {
  std::string first_error;
  for (const auto& key : keys) {
    try {
      return openNote(note, origin, key.public_key);
    } catch (const std::exception& e) {
      if (first_error.empty()) first_error = e.what();
    }
  }
  if (keys.size() == 1) throw Failed(first_error);
  throw Failed("signed by none of the " + std::to_string(keys.size()) + " verifier keys (" + first_error + ")");
}

}  // namespace hydra::audit
