#include "tests/support/runtime_pki.hpp"

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace hydra::test {
namespace {

void openssl(const std::vector<std::string>& args) {
  const auto r = run("/usr/bin/openssl", args, {});
  if (r.exit_code != 0) throw std::runtime_error("openssl failed: " + r.err);
}

const std::vector<std::string> kEcKey{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"};

/// A self-signed CA named `cn` as <name>.pem and <name>-key.pem in `dir`.
void makeCa(const TempDir& dir, const std::string& name, const std::string& cn) {
  std::vector<std::string> args{"req", "-x509"};
  args.insert(args.end(), kEcKey.begin(), kEcKey.end());
  args.insert(args.end(), {"-days", "2", "-subj", "/CN=" + cn, "-addext", "basicConstraints=critical,CA:TRUE",
                           "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", dir.path(name + "-key.pem"),
                           "-out", dir.path(name + ".pem")});
  openssl(args);
  chmod(dir.path(name + "-key.pem").c_str(), 0600);
  // `openssl ca` keeps its issued certificates in a database of its own per CA.
  std::ofstream(dir.path(name + "-index.txt"));
  std::filesystem::create_directory(dir.path(name + "-issued"));
  std::ofstream(dir.path(name + ".cnf")) << "[ca]\ndefault_ca = issuing\n"
                                         << "[issuing]\ndatabase = " << dir.path(name + "-index.txt") << "\n"
                                         << "new_certs_dir = " << dir.path(name + "-issued") << "\n"
                                         << "serial = " << dir.path(name + "-serial") << "\n"
                                         << "default_md = sha256\npolicy = any\nunique_subject = no\n"
                                         << "copy_extensions = none\n"
                                         << "[any]\ncommonName = supplied\n";
  std::ofstream(dir.path(name + "-serial")) << "1000\n";
}

/// Signs a new P-256 key for `cn` with CA `ca` (made by makeCa) and the extensions `ext`.
/// `openssl ca` rather than `openssl x509 -req`: OpenSSL 3.0's x509 cannot set the start date,
/// which the expired and not-yet-valid certificates need.
CertFiles sign(const TempDir& dir, const std::string& ca, const std::string& name, const std::string& cn,
               const std::string& ext, CertOptions::Validity validity, const std::string& not_after = "") {
  const CertFiles files{dir.path(name + ".pem"), dir.path(name + "-key.pem")};
  std::vector<std::string> req{"req"};
  req.insert(req.end(), kEcKey.begin(), kEcKey.end());
  req.insert(req.end(), {"-subj", "/CN=" + cn, "-keyout", files.key, "-out", files.cert + ".csr"});
  openssl(req);
  chmod(files.key.c_str(), 0600);
  std::ofstream(files.cert + ".ext") << ext;
  std::vector<std::string> args{"ca",      "-batch",  "-notext", "-config", dir.path(ca + ".cnf"),
                                "-cert",   dir.path(ca + ".pem"), "-keyfile", dir.path(ca + "-key.pem"),
                                "-in",     files.cert + ".csr",  "-out",     files.cert,
                                "-extfile", files.cert + ".ext"};
  switch (validity) {
    case CertOptions::Validity::Current:
      if (not_after.empty()) {
        args.insert(args.end(), {"-days", "1"});
      } else {
        args.insert(args.end(), {"-enddate", not_after});
      }
      break;
    case CertOptions::Validity::Expired:
      args.insert(args.end(), {"-startdate", "20200101000000Z", "-enddate", "20200102000000Z"});
      break;
    case CertOptions::Validity::NotYetValid:
      args.insert(args.end(), {"-startdate", "20991231000000Z", "-enddate", "21000101000000Z"});
      break;
  }
  openssl(args);
  return files;
}

}  // namespace

ServerPki makeServerPki(const TempDir& dir, const std::string& name, const std::string& subject_alt_names) {
  makeCa(dir, name + "-ca", name + "-ca");
  return {dir.path(name + "-ca.pem"),
          sign(dir, name + "-ca", name, name,
               "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
               "subjectAltName=" + subject_alt_names + "\n",
               CertOptions::Validity::Current)};
}

RuntimePki::RuntimePki(std::string trust_domain)
    : trust_domain_(std::move(trust_domain)),
      runtime_ca_(dir_.path("runtime-ca.pem")),
      server_ca_(dir_.path("server-ca.pem")) {
  makeCa(dir_, "runtime-ca", "hydra-runtime-ca");
  makeCa(dir_, "other-ca", "hydra-runtime-ca");  // same name, another key
  makeCa(dir_, "server-ca", "hydra-server-ca");
  server_ = sign(dir_, "server-ca", "server", "127.0.0.1",
                 "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
                 "subjectAltName=IP:127.0.0.1\n",
                 CertOptions::Validity::Current);
}

std::string RuntimePki::spiffeId(const std::string& customer_id, const std::string& instance_id,
                                 const std::string& trust_domain) const {
  return "spiffe://" + (trust_domain.empty() ? trust_domain_ : trust_domain) + "/hydracore/customers/" + customer_id +
         "/instances/" + instance_id;
}

CertFiles RuntimePki::issue(const std::string& customer_id, const std::string& instance_id,
                            const CertOptions& options) const {
  static std::atomic<int> count{0};
  const auto uris =
      options.uri_sans.value_or(std::vector<std::string>{spiffeId(customer_id, instance_id, options.trust_domain)});
  std::string ext = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n";
  if (!uris.empty()) {
    std::string san;
    for (const auto& uri : uris) san += (san.empty() ? "" : ",") + std::string("URI:") + uri;
    ext += "subjectAltName=" + san + "\n";
  }
  return sign(dir_, options.from_other_ca ? "other-ca" : "runtime-ca", "runtime-" + std::to_string(++count), "runtime",
              ext, options.validity, options.not_after);
}

Environment RuntimePki::tlsSettings() const {
  return {{"HYDRA_TLS_CERT_FILE", server_.cert}, {"HYDRA_TLS_KEY_FILE", server_.key}};
}

Environment RuntimePki::brokerSettings() const {
  auto env = tlsSettings();
  env["HYDRA_RUNTIME_CA_FILE"] = runtime_ca_;
  env["HYDRA_RUNTIME_TRUST_DOMAIN"] = trust_domain_;
  return env;
}

}  // namespace hydra::test
