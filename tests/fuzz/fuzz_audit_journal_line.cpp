// A line of an audit journal segment (shared/audit/record.cpp), as the broker's recovery, its
// shipper and `hydracore-audit verify` read it: anything in the file, since the file may be damaged or
// forged. Accepted lines are exactly what journalLine writes, so their bytes (what the Merkle
// tree hashes) cannot hide anything.
#include "shared/audit/record.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto line = hydra::fuzz::text(data, size);
  const auto entry = hydra::audit::parseJournalLine(line);
  if (!entry) return 0;
  FUZZ_CHECK(hydra::audit::journalLine(*entry) == line);
  FUZZ_CHECK(line.find('\n') == std::string::npos);
  // The time of a line the broker wrote reads back; a forged one must not crash the reader.
  if (const auto micros = hydra::audit::parseMicros(entry->time)) {
    FUZZ_CHECK(hydra::audit::formatMicros(*micros) == entry->time);
  }
  return 0;
}
