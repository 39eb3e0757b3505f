// hydracore-audit: what a security team runs against the broker's audit trail, with the
// verifier key and read access only. Built apart from the broker: it shares with it only the
// trail's format (shared/audit: journal lines, the tree, signed notes, the journal folder).
//   hydracore-audit verify (--journal DIR | --database URL [--expect ORIGIN[:N]]... | --proof FILE)
//                          --verifier-key PATH...
//   hydracore-audit proof --journal DIR --seq N
//   hydracore-audit checkpoint (--journal DIR | --database URL [--origin ORIGIN]) [--verifier-key PATH...]
#include <algorithm>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/OptionSet.h>

#include "audit/checkpoint.hpp"
#include "audit/verify.hpp"

namespace {

using namespace hydra;
using Poco::Util::Option;

// Each option's values in the order given: a single-valued option takes its last, a repeatable
// one (--verifier-key, --expect, --checkpoints) all of them.
struct Options {
  std::map<std::string, std::vector<std::string>> values;

  std::size_t count(const std::string& name) const { return values.count(name); }
  const std::string& at(const std::string& name) const { return values.at(name).back(); }
  std::vector<std::string> all(const std::string& name) const {
    const auto it = values.find(name);
    return it == values.end() ? std::vector<std::string>{} : it->second;
  }
};

// A command line that cannot be run: what is wrong, and exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The options each command takes: name -> whether it takes a value.
const std::map<std::string, std::map<std::string, bool>> kCommandOptions = {
    {"verify",
     {{"--journal", true}, {"--database", true}, {"--proof", true}, {"--verifier-key", true}, {"--expect", true},
      {"--max-uncovered-seconds", true}, {"--allow-unjournaled", false}, {"--checkpoints", true}}},
    {"proof", {{"--journal", true}, {"--seq", true}}},
    {"checkpoint", {{"--journal", true}, {"--database", true}, {"--origin", true}, {"--verifier-key", true}}},
};

constexpr const char* kFooter =
    "Exit status: 0 verified (or printed), 1 a check failed or a file or database could not be read (the "
    "first bad record or checkpoint is named), 2 the command line is wrong. Needs the verifier key and read "
    "access only: no decryption key, no write access to the journal or the database.\n";

Option verifierKeyOption(const std::string& what) {
  return Option("verifier-key", "", "the C2SP verifier key of the audit signing key (`hydracore-broker keygen "
                                    "--verifier-key`); repeat it for the keys before a rotation: " + what)
      .argument("PATH");
}

void printHelp(const std::string& command) {
  Poco::Util::OptionSet options;
  options.addOption(Option("help", "h", "show this help and exit"));
  std::string usage = "(verify | proof | checkpoint) [--help]";
  std::string header = "Checks the HydraCore Connections broker's audit trail: its journal folders and PostgreSQL's "
                       "copy. Built apart from the broker, sharing with it only the trail's format.";
  if (command == "verify") {
    options.addOption(Option("journal", "", "a journal folder (read only)").argument("DIR"));
    options.addOption(Option("database", "", "PostgreSQL's copy (libpq URI; read access is enough)").argument("URL"));
    options.addOption(Option("proof", "", "an inclusion proof printed by `hydracore-audit proof`").argument("FILE"));
    options.addOption(verifierKeyOption("each checkpoint must verify under one"));
    options.addOption(Option("expect", "",
                             "--database: this journal must be there, its latest checkpoint covering at least "
                             "MIN_TREE_SIZE records (default 1); repeatable")
                          .argument("ORIGIN[:MIN_TREE_SIZE]"));
    options.addOption(Option("checkpoints", "",
                             "--database: checkpoints saved earlier (lines of a journal's checkpoints.jsonl): "
                             "their journals must hold records that match them; repeatable")
                          .argument("FILE"));
    options.addOption(Option("max-uncovered-seconds", "",
                             "--database: fail on a record older than N seconds that no checkpoint covers")
                          .argument("N"));
    options.addOption(Option("allow-unjournaled", "",
                             "--database: only report rows with no journal (from before the journal), do not fail"));
    usage = "verify (--journal DIR | --database URL [--expect ORIGIN[:MIN_TREE_SIZE]]... [--checkpoints FILE]... "
            "[--max-uncovered-seconds N] [--allow-unjournaled] | --proof FILE) --verifier-key PATH...";
    header = "Checks the audit trail: records in sequence without gaps, every checkpoint's signature, every "
             "checkpoint's Merkle root against the records it covers (so later checkpoints are consistent with "
             "earlier ones), and in the database every row against its journal line, every journal with a "
             "checkpoint, the expected journals present, no rows outside a journal. Exits 0 with the counts, "
             "else 1 naming the first bad record or checkpoint.";
  } else if (command == "proof") {
    options.addOption(Option("journal", "", "the journal folder").argument("DIR"));
    options.addOption(Option("seq", "", "the record's sequence number").argument("N"));
    usage = "proof --journal DIR --seq N";
    header = "Prints, as JSON, the RFC 6962 inclusion proof of record N in the latest signed checkpoint: "
             "`hydracore-audit verify --proof FILE` checks it offline.";
  } else if (command == "checkpoint") {
    options.addOption(Option("journal", "", "a journal folder (read only)").argument("DIR"));
    options.addOption(Option("database", "", "PostgreSQL's copy (libpq URI; read access is enough)").argument("URL"));
    options.addOption(
        Option("origin", "", "--database: only this journal (its folder's origin file)").argument("ORIGIN"));
    options.addOption(verifierKeyOption("the checkpoint must verify under one before it is printed"));
    usage = "checkpoint (--journal DIR | --database URL [--origin ORIGIN]) [--verifier-key PATH...]";
    header = "Prints the latest signed checkpoint (the C2SP signed note exactly as stored: origin, tree size, "
             "root, signature) of the journal, or of each journal in the database (by origin, separated by an "
             "empty line), for the security team to keep elsewhere. With --verifier-key the signature is checked "
             "first. Exits 1, printing no checkpoint, when there is none or a check fails.";
  }
  Poco::Util::HelpFormatter help(options);
  help.setCommand("hydracore-audit");
  help.setUsage(usage);
  help.setHeader(header);
  help.setFooter(kFooter);
  help.format(std::cout);
}

long parseInteger(const std::string& name, const std::string& value, long min, long max) {
  std::size_t used = 0;
  long n = 0;
  try {
    n = std::stol(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || n < min || n > max) {
    throw UsageError(name + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

int verify(const Options& options) {
  const auto sources = options.count("--journal") + options.count("--database") + options.count("--proof");
  if (sources != 1 || options.count("--verifier-key") == 0) {
    throw UsageError("verify takes one of --journal DIR, --database URL, --proof FILE, and --verifier-key PATH");
  }
  const auto database_only = options.count("--expect") + options.count("--checkpoints") +
                             options.count("--max-uncovered-seconds") + options.count("--allow-unjournaled");
  if (database_only > 0 && options.count("--database") == 0) {
    throw UsageError("--expect, --checkpoints, --max-uncovered-seconds and --allow-unjournaled go with --database");
  }
  const auto keys = options.all("--verifier-key");
  if (options.count("--journal")) return audit::verifyJournal(options.at("--journal"), keys, std::cout);
  if (options.count("--proof")) return audit::verifyProof(options.at("--proof"), keys, std::cout);
  audit::DatabaseExpectations expected;
  for (const auto& expect : options.all("--expect")) {
    // ORIGIN[:MIN_TREE_SIZE]: a journal origin holds no ':' followed by digits only.
    auto origin = expect;
    std::uint64_t min_size = 1;
    const auto colon = expect.rfind(':');
    if (colon != std::string::npos && colon + 1 < expect.size() &&
        expect.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
      origin = expect.substr(0, colon);
      min_size = static_cast<std::uint64_t>(
          parseInteger("--expect", expect.substr(colon + 1), 1, std::numeric_limits<long>::max()));
    }
    if (origin.empty() || origin.find_first_of(" +\t\r\n") != std::string::npos) {
      throw UsageError("--expect takes ORIGIN[:MIN_TREE_SIZE], a journal's origin as in its origin file");
    }
    expected.journals[origin] = std::max(expected.journals[origin], min_size);
  }
  if (options.count("--max-uncovered-seconds")) {
    expected.max_uncovered_seconds =
        parseInteger("--max-uncovered-seconds", options.at("--max-uncovered-seconds"), 0, 10L * 365 * 86400);
  }
  expected.allow_unjournaled = options.count("--allow-unjournaled") != 0;
  expected.checkpoint_files = options.all("--checkpoints");
  return audit::verifyDatabase(options.at("--database"), keys, expected, std::cout);
}

int proof(const Options& options) {
  if (options.count("--journal") == 0 || options.count("--seq") == 0) {
    throw UsageError("proof takes --journal DIR and --seq N");
  }
  const auto seq = parseInteger("--seq", options.at("--seq"), 0, std::numeric_limits<long>::max());
  return audit::proveInclusion(options.at("--journal"), static_cast<std::uint64_t>(seq), std::cout);
}

int checkpoint(const Options& options) {
  if (options.count("--journal") + options.count("--database") != 1) {
    throw UsageError("checkpoint takes one of --journal DIR and --database URL");
  }
  const auto keys = options.all("--verifier-key");
  if (options.count("--journal")) {
    if (options.count("--origin")) throw UsageError("--origin goes with --database");
    return audit::printJournalCheckpoint(options.at("--journal"), keys, std::cout, std::cerr);
  }
  std::optional<std::string> origin;
  if (options.count("--origin")) origin = options.at("--origin");
  return audit::printDatabaseCheckpoints(options.at("--database"), origin, keys, std::cout, std::cerr);
}

Options parseOptions(const std::map<std::string, bool>& known, int first, int argc, char** argv) {
  Options options;
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto equals = arg.find('=');
    const auto name = arg.substr(0, equals);
    const auto option = known.find(name);
    if (option == known.end() || (!option->second && equals != std::string::npos)) {
      throw UsageError("unknown argument '" + arg + "'");
    }
    if (!option->second) {
      options.values[name].push_back("");
    } else if (equals != std::string::npos) {
      options.values[name].push_back(arg.substr(equals + 1));
    } else if (i + 1 < argc) {
      options.values[name].push_back(argv[++i]);
    } else {
      throw UsageError(name + " needs a value");
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    if (command == "--help" || command == "-h") {
      printHelp("");
      return 0;
    }
    if (command.empty()) throw UsageError("a command is needed: verify, proof or checkpoint");
    const auto known = kCommandOptions.find(command);
    if (known == kCommandOptions.end()) throw UsageError("unknown command '" + command + "'");
    for (int i = 2; i < argc; ++i) {
      if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
        printHelp(command);
        return 0;
      }
    }
    const auto options = parseOptions(known->second, 2, argc, argv);
    if (command == "verify") return verify(options);
    if (command == "proof") return proof(options);
    return checkpoint(options);
  } catch (const UsageError& e) {
    std::cerr << "hydracore-audit: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "hydracore-audit: " << command << " failed: " << e.what() << "\n";
    return 1;
  }
}
