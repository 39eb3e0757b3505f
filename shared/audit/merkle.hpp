#pragma once
// RFC 6962 section 2.1 Merkle trees over the journal's lines: leaf hash SHA-256(0x00 || line),
// node hash SHA-256(0x01 || left || right), the tree hash of any size, inclusion paths and
// consistency proofs, and their verification (as RFC 9162 sections 2.1.3.2 and 2.1.4.2 give it).

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace Botan {
class HashFunction;
}

namespace hydra::audit {

using Hash = std::array<std::uint8_t, 32>;

/// SHA-256 with the tree's domain separation; one object per thread (Botan hash objects are
/// not thread-safe).
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hash leaf(std::string_view leaf);
  Hash node(const Hash& left, const Hash& right);
  /// SHA-256 of the empty string: the root of the empty tree.
  Hash empty();

 private:
  std::unique_ptr<Botan::HashFunction> sha256_;
};

/// The tree over a growing list of leaves, holding only the roots of its perfect subtrees
/// (O(log n) hashes): enough to append and to compute the root.
class CompactTree {
 public:
  CompactTree() = default;
  /// Resumes a tree of `size` leaves from the roots of its perfect subtrees, largest first
  /// (what frontier() returned). Throws std::invalid_argument if their count does not fit.
  CompactTree(std::uint64_t size, std::vector<Hash> frontier);

  void append(const Hash& leaf_hash);
  std::uint64_t size() const { return size_; }
  Hash root();
  const std::vector<Hash>& frontier() const { return frontier_; }

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash> frontier_;  // one per set bit of size_, largest subtree first
  Hasher hasher_;
};

/// MTH(D[begin:end]) over leaf hashes.
Hash treeHash(const std::vector<Hash>& leaves, std::uint64_t begin, std::uint64_t end);

/// PATH(index, D[0:size]). Requires index < size <= leaves.size().
std::vector<Hash> inclusionProof(const std::vector<Hash>& leaves, std::uint64_t index, std::uint64_t size);
/// The same when only the leaves from `first` on are at hand and the tree's frontier at size
/// `first` stands for those before (a journal whose older segments were removed). Requires
/// first <= index < size <= first + leaves_from_first.size().
std::vector<Hash> inclusionProof(const std::vector<Hash>& frontier, std::uint64_t first,
                                 const std::vector<Hash>& leaves_from_first, std::uint64_t index, std::uint64_t size);
bool verifyInclusion(const Hash& leaf_hash, std::uint64_t index, std::uint64_t size, const std::vector<Hash>& path,
                     const Hash& root);

/// PROOF(old_size, D[0:new_size]). Requires 0 < old_size <= new_size <= leaves.size().
std::vector<Hash> consistencyProof(const std::vector<Hash>& leaves, std::uint64_t old_size, std::uint64_t new_size);
bool verifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root, const Hash& new_root,
                       const std::vector<Hash>& proof);

}  // namespace hydra::audit
