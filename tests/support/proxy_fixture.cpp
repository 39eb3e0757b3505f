#include "tests/support/proxy_fixture.hpp"

#include <cctype>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <Poco/Base64Decoder.h>
#include <Poco/StreamCopier.h>

namespace hydra::test {
namespace {

using namespace std::chrono_literals;

std::string base64Decode(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  std::string out;
  Poco::StreamCopier::copyToString(decoder, out);
  return out;
}

bool sameName(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

std::string mockProviderBinary() { return HYDRA_MOCK_PROVIDER_BIN; }

std::string ProviderRequest::header(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (sameName(n, name)) return v;
  }
  return "";
}

std::size_t ProviderRequest::count(const std::string& name) const {
  std::size_t n = 0;
  for (const auto& h : headers) n += sameName(h.first, name) ? 1 : 0;
  return n;
}

MockProvider::MockProvider(const MockProviderOptions& options)
    : dir_(std::make_unique<TempDir>()), scheme_(options.tls ? "https" : "http") {
  std::vector<std::string> args;
  if (options.tls) {
    const auto pki = makeServerPki(*dir_, "provider", options.subject_alt_names);
    ca_file_ = pki.ca;
    args = {"--tls-cert", pki.server.cert, "--tls-key", pki.server.key};
  }
  child_ = std::make_unique<ChildProcess>(mockProviderBinary(), args, Environment{});
  static const std::regex listening(R"(^listening on 127\.0\.0\.1:(\d+), admin on 127\.0\.0\.1:(\d+)\n)");
  std::smatch match;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    const auto out = child_->out();
    if (std::regex_search(out, match, listening)) break;
    if (std::chrono::steady_clock::now() > deadline || !child_->running()) {
      child_->terminate();
      throw std::runtime_error("hydra-mock-provider did not start; its output:\n" + log());
    }
    std::this_thread::sleep_for(10ms);
  }
  port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
  admin_port_ = static_cast<std::uint16_t>(std::stoi(match[2].str()));
}

std::string MockProvider::baseUrl(const std::string& host) const {
  return scheme_ + "://" + host + ":" + std::to_string(port_);
}

void MockProvider::configure(const std::string& json) const {
  expectStatus(HttpClient(admin_port_).request("POST", "/admin/configure", json), 200, "mock provider config " + json);
}

void MockProvider::reset() const {
  expectStatus(HttpClient(admin_port_).request("POST", "/admin/reset"), 200, "mock provider reset");
}

std::vector<ProviderRequest> MockProvider::requests() const {
  const auto r = HttpClient(admin_port_).request("GET", "/admin/requests");
  expectStatus(r, 200, "mock provider requests");
  std::vector<ProviderRequest> out;
  for (const auto* item : items(member(r.json, "requests"))) {
    ProviderRequest p;
    p.method = text(*item, "method");
    p.target = text(*item, "target");
    for (const auto* h : items(member(*item, "headers"))) {
      if (!h->IsArray() || h->Size() != 2 || !(*h)[0].IsString() || !(*h)[1].IsString())
        throw std::runtime_error("mock provider: a header is not a [name, value] pair");
      p.headers.emplace_back(std::string((*h)[0].GetString(), (*h)[0].GetStringLength()),
                             std::string((*h)[1].GetString(), (*h)[1].GetStringLength()));
    }
    p.body = base64Decode(text(*item, "body_base64"));
    p.received_ms = member(*item, "received_ms").GetInt64();
    p.peer = text(*item, "peer");
    p.answered = member(*item, "answered").GetInt();
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<ProviderRequest> MockProvider::await(std::size_t n, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto got = requests();
    if (got.size() >= n || std::chrono::steady_clock::now() >= deadline) return got;
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace hydra::test
