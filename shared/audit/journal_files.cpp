#include "shared/audit/journal_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <botan/base64.h>
#include <rapidjson/document.h>

#include "shared/json/reader.hpp"
#include "shared/json/writer.hpp"

namespace hydra::audit {
namespace {

constexpr const char* kSegmentPrefix = "segment-";
constexpr const char* kSegmentSuffix = ".jsonl";
constexpr std::size_t kSeqDigits = 20;
constexpr std::size_t kMaxOriginBytes = 256;

}  // namespace

std::string segmentPath(const std::string& dir, std::uint64_t first_seq) {
  char name[64];
  std::snprintf(name, sizeof name, "%s%020llu%s", kSegmentPrefix, static_cast<unsigned long long>(first_seq),
                kSegmentSuffix);
  return dir + "/" + name;
}

std::string checkpointsPath(const std::string& dir) { return dir + "/checkpoints.jsonl"; }

std::string syncedPath(const std::string& dir) { return dir + "/synced"; }

std::string syncedMarkText(const SyncedMark& mark) {
  char text[64];
  std::snprintf(text, sizeof text, "%020llu %020llu\n", static_cast<unsigned long long>(mark.first_seq),
                static_cast<unsigned long long>(mark.bytes));
  return text;
}

std::optional<SyncedMark> parseSyncedMark(const std::string& text) {
  constexpr std::size_t kLength = 2 * kSeqDigits + 2;
  if (text.size() != kLength || text[kSeqDigits] != ' ' || text.back() != '\n') return std::nullopt;
  const auto digits = [](const std::string& part) {
    return std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const auto first = text.substr(0, kSeqDigits), bytes = text.substr(kSeqDigits + 1, kSeqDigits);
  if (!digits(first) || !digits(bytes)) return std::nullopt;
  try {
    return SyncedMark{std::stoull(first), std::stoull(bytes)};
  } catch (const std::out_of_range&) {
    return std::nullopt;
  }
}

std::vector<Segment> listSegments(const std::string& dir) {
  DIR* folder = opendir(dir.c_str());
  if (folder == nullptr) throw std::runtime_error("cannot read " + dir + ": " + std::strerror(errno));
  std::vector<Segment> segments;
  const std::string prefix = kSegmentPrefix, suffix = kSegmentSuffix;
  while (const auto* entry = readdir(folder)) {
    const std::string name = entry->d_name;
    if (name.size() != prefix.size() + kSeqDigits + suffix.size() || name.rfind(prefix, 0) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const auto digits = name.substr(prefix.size(), kSeqDigits);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    segments.push_back({std::stoull(digits), dir + "/" + name});
  }
  closedir(folder);
  std::sort(segments.begin(), segments.end(), [](const Segment& a, const Segment& b) { return a.first_seq < b.first_seq; });
  return segments;
}

std::string readOrigin(const std::string& dir) {
  std::ifstream in(dir + "/origin");
  std::string origin;
  if (!in || !std::getline(in, origin)) throw std::runtime_error(dir + "/origin is missing or unreadable");
  if (origin.empty() || origin.size() > kMaxOriginBytes || origin.find_first_of(" +\t\r") != std::string::npos) {
    throw std::runtime_error(dir + "/origin does not hold a journal origin");
  }
  return origin;
}

std::string checkpointLine(const CheckpointEntry& entry) {
  json::Writer w;
  w.beginObject().key("note").string(entry.note).key("frontier").strings(entry.frontier).endObject();
  return w.str();
}

std::optional<CheckpointEntry> parseCheckpointLine(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject() || doc.MemberCount() != 2) return std::nullopt;
  const auto note = doc.FindMember("note");
  const auto frontier = doc.FindMember("frontier");
  if (note == doc.MemberEnd() || !note->value.IsString() || frontier == doc.MemberEnd() || !frontier->value.IsArray()) {
    return std::nullopt;
  }
  CheckpointEntry entry;
  entry.note.assign(note->value.GetString(), note->value.GetStringLength());
  for (const auto& hash : frontier->value.GetArray()) {
    if (!hash.IsString()) return std::nullopt;
    entry.frontier.emplace_back(hash.GetString(), hash.GetStringLength());
  }
  // The encoding flag checks raw bytes only: an escaped lone surrogate ("\udc00") decodes to
  // bytes that are not UTF-8, and to a line checkpointLine would not write.
  if (!json::isValidUtf8(entry.note)) return std::nullopt;
  for (const auto& hash : entry.frontier) {
    if (!json::isValidUtf8(hash)) return std::nullopt;
  }
  return entry;
}

Hash decodeFrontierHash(const std::string& text) {
  Botan::secure_vector<std::uint8_t> bytes;
  try {
    bytes = Botan::base64_decode(text);
  } catch (const std::exception&) {  // Botan's Invalid_Argument, with its own words
    throw std::runtime_error("a frontier hash is not base64");
  }
  Hash hash{};
  if (bytes.size() != hash.size()) throw std::runtime_error("a frontier hash is not 32 bytes");
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

LineReader::LineReader(std::string path, std::uint64_t offset)
    : path_(std::move(path)), offset_(offset), read_offset_(offset) {
  fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path_ + ": " + std::strerror(errno));
  struct stat info {};
  if (fstat(fd_, &info) == 0) inode_ = info.st_ino;
}

bool LineReader::replaced() const {
  struct stat info {};
  return stat(path_.c_str(), &info) == 0 && info.st_ino != inode_;
}

LineReader::~LineReader() { close(fd_); }

bool LineReader::fill() {
  char chunk[64 * 1024];
  const auto n = pread(fd_, chunk, sizeof chunk, static_cast<off_t>(read_offset_));
  if (n < 0) throw std::runtime_error("cannot read " + path_ + ": " + std::strerror(errno));
  buffer_.append(chunk, static_cast<std::size_t>(n));
  read_offset_ += static_cast<std::uint64_t>(n);
  return n > 0;
}

std::optional<std::string> LineReader::next() {
  auto newline = buffer_.find('\n');
  while (newline == std::string::npos) {
    const auto searched = buffer_.size();
    if (!fill()) return std::nullopt;
    newline = buffer_.find('\n', searched);
  }
  std::string line = buffer_.substr(0, newline);
  buffer_.erase(0, newline + 1);
  offset_ += newline + 1;
  return line;
}

JournalReader::JournalReader(std::string dir, std::uint64_t from_seq) : dir_(std::move(dir)) {
  segments_ = listSegments(dir_);
  if (segments_.empty()) throw std::runtime_error(dir_ + " holds no journal segment");
  // The last segment starting at or before from_seq.
  const auto after = std::upper_bound(segments_.begin(), segments_.end(), from_seq,
                                      [](std::uint64_t seq, const Segment& s) { return seq < s.first_seq; });
  if (after == segments_.begin()) throw std::runtime_error(dir_ + ": no segment holds record " + std::to_string(from_seq));
  index_ = static_cast<std::size_t>(after - segments_.begin()) - 1;
  seq_ = segments_[index_].first_seq;
  lines_ = std::make_unique<LineReader>(segments_[index_].path);
  while (seq_ < from_seq) {
    if (!next()) throw std::runtime_error(dir_ + ": the journal ends before record " + std::to_string(from_seq));
  }
}

std::optional<std::string> JournalReader::next() {
  if (auto line = lines_->next()) {
    ++seq_;
    return line;
  }
  // The end of this segment so far. The writer starts the next segment only once this one is
  // complete, so if the next one exists, this one has ended.
  if (index_ + 1 >= segments_.size()) {
    // Segments before this one may have gone meanwhile (HYDRA_AUDIT_RETAIN_SEGMENTS): find it again.
    const auto current = segments_[index_].first_seq;
    segments_ = listSegments(dir_);
    const auto here = std::find_if(segments_.begin(), segments_.end(),
                                   [&](const Segment& segment) { return segment.first_seq == current; });
    if (here == segments_.end()) throw std::runtime_error(dir_ + ": the segment being read was removed");
    index_ = static_cast<std::size_t>(here - segments_.begin());
  }
  if (index_ + 1 >= segments_.size()) return std::nullopt;
  if (auto line = lines_->next()) {  // written before the next segment appeared
    ++seq_;
    return line;
  }
  if (!lines_->pending().empty()) {
    throw std::runtime_error(segments_[index_].path + " ends in an incomplete line, and a later segment exists");
  }
  if (segments_[index_ + 1].first_seq != seq_) {
    throw std::runtime_error(segments_[index_ + 1].path + " should start at record " + std::to_string(seq_));
  }
  ++index_;
  lines_ = std::make_unique<LineReader>(segments_[index_].path);
  return next();
}

}  // namespace hydra::audit
