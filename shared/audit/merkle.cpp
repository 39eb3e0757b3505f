#include "shared/audit/merkle.hpp"

#include <stdexcept>

#include <botan/hash.h>

namespace hydra::audit {
namespace {

// The largest power of two smaller than n (n > 1): where RFC 6962 splits a tree.
std::uint64_t split(std::uint64_t n) {
  std::uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

bool isOdd(std::uint64_t n) { return (n & 1) != 0; }

Hash treeHash(Hasher& hasher, const std::vector<Hash>& leaves, std::uint64_t begin, std::uint64_t end) {
  const auto n = end - begin;
  if (n == 0) return hasher.empty();
  if (n == 1) return leaves[begin];
  const auto k = split(n);
  return hasher.node(treeHash(hasher, leaves, begin, begin + k), treeHash(hasher, leaves, begin + k, end));
}

// The leaves of a tree of which only those from `first` on are at hand, the ones before known
// by the roots of their perfect subtrees (a CompactTree's frontier at size `first`).
struct KnownLeaves {
  const std::vector<Hash>& frontier;
  std::uint64_t first;
  const std::vector<Hash>& leaves;  // leaves[i] is leaf first + i

  // MTH(D[begin:end]), for the subtrees RFC 6962's recursion reaches: one before `first` is
  // always one of the frontier's (a path to a leaf at or after `first` never splits one).
  Hash hash(Hasher& hasher, std::uint64_t begin, std::uint64_t end) const {
    if (begin >= first) return treeHash(hasher, leaves, begin - first, end - first);
    if (end <= first) {
      std::uint64_t start = 0;
      std::size_t i = 0;
      for (int bit = 63; bit >= 0; --bit) {
        if (((first >> bit) & 1) == 0) continue;
        const auto span = std::uint64_t{1} << bit;
        if (start == begin && start + span == end) return frontier[i];
        start += span;
        ++i;
      }
      throw std::invalid_argument("inclusion proof: needs records before the frontier");
    }
    const auto k = split(end - begin);
    return hasher.node(hash(hasher, begin, begin + k), hash(hasher, begin + k, end));
  }
};

void subproof(Hasher& hasher, const std::vector<Hash>& leaves, std::uint64_t m, std::uint64_t begin,
              std::uint64_t end, bool whole, std::vector<Hash>& out) {
  const auto n = end - begin;
  if (m == n) {
    if (!whole) out.push_back(treeHash(hasher, leaves, begin, end));
    return;
  }
  const auto k = split(n);
  if (m <= k) {
    subproof(hasher, leaves, m, begin, begin + k, whole, out);
    out.push_back(treeHash(hasher, leaves, begin + k, end));
  } else {
    subproof(hasher, leaves, m - k, begin + k, end, false, out);
    out.push_back(treeHash(hasher, leaves, begin, begin + k));
  }
}

}  // namespace

Hasher::Hasher() : sha256_(Botan::HashFunction::create_or_throw("SHA-256")) {}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

Hash Hasher::leaf(std::string_view leaf) {
  const std::uint8_t prefix = 0x00;
  sha256_->update(&prefix, 1);
  sha256_->update(reinterpret_cast<const std::uint8_t*>(leaf.data()), leaf.size());
  Hash out;
  sha256_->final(out.data());
  return out;
}

Hash Hasher::node(const Hash& left, const Hash& right) {
  const std::uint8_t prefix = 0x01;
  sha256_->update(&prefix, 1);
  sha256_->update(left.data(), left.size());
  sha256_->update(right.data(), right.size());
  Hash out;
  sha256_->final(out.data());
  return out;
}

Hash Hasher::empty() {
  Hash out;
  sha256_->final(out.data());
  return out;
}

CompactTree::CompactTree(std::uint64_t size, std::vector<Hash> frontier) : size_(size), frontier_(std::move(frontier)) {
  if (frontier_.size() != static_cast<std::size_t>(__builtin_popcountll(size_))) {
    throw std::invalid_argument("a tree of " + std::to_string(size_) + " leaves has " +
                                std::to_string(__builtin_popcountll(size_)) + " perfect subtrees, not " +
                                std::to_string(frontier_.size()));
  }
}

void CompactTree::append(const Hash& leaf_hash) {
  frontier_.push_back(leaf_hash);
  // Each trailing one bit of the old size is a subtree of the new leaf's size: merge them.
  for (auto n = size_; isOdd(n); n >>= 1) {
    const auto right = frontier_.back();
    frontier_.pop_back();
    frontier_.back() = hasher_.node(frontier_.back(), right);
  }
  ++size_;
}

Hash CompactTree::root() {
  if (frontier_.empty()) return hasher_.empty();
  // MTH splits off the largest perfect subtree on the left, so fold from the right.
  auto root = frontier_.back();
  for (auto it = frontier_.rbegin() + 1; it != frontier_.rend(); ++it) root = hasher_.node(*it, root);
  return root;
}

Hash treeHash(const std::vector<Hash>& leaves, std::uint64_t begin, std::uint64_t end) {
  Hasher hasher;
  return treeHash(hasher, leaves, begin, end);
}

std::vector<Hash> inclusionProof(const std::vector<Hash>& leaves, std::uint64_t index, std::uint64_t size) {
  return inclusionProof({}, 0, leaves, index, size);
}

std::vector<Hash> inclusionProof(const std::vector<Hash>& frontier, std::uint64_t first,
                                 const std::vector<Hash>& leaves_from_first, std::uint64_t index, std::uint64_t size) {
  if (index < first || index >= size || size > first + leaves_from_first.size() ||
      frontier.size() != static_cast<std::size_t>(__builtin_popcountll(first))) {
    throw std::invalid_argument("inclusion proof: index or size out of range");
  }
  const KnownLeaves known{frontier, first, leaves_from_first};
  Hasher hasher;
  // From the root down to the leaf; the path lists the siblings from the leaf up.
  std::vector<Hash> out;
  for (std::uint64_t begin = 0, end = size; end - begin > 1;) {
    const auto k = split(end - begin);
    if (index < begin + k) {
      out.push_back(known.hash(hasher, begin + k, end));
      end = begin + k;
    } else {
      out.push_back(known.hash(hasher, begin, begin + k));
      begin += k;
    }
  }
  return {out.rbegin(), out.rend()};
}

bool verifyInclusion(const Hash& leaf_hash, std::uint64_t index, std::uint64_t size, const std::vector<Hash>& path,
                     const Hash& root) {
  if (index >= size) return false;
  Hasher hasher;
  auto fn = index;
  auto sn = size - 1;
  auto r = leaf_hash;
  for (const auto& p : path) {
    if (sn == 0) return false;
    if (isOdd(fn) || fn == sn) {
      r = hasher.node(p, r);
      while (!isOdd(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = hasher.node(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

std::vector<Hash> consistencyProof(const std::vector<Hash>& leaves, std::uint64_t old_size, std::uint64_t new_size) {
  if (old_size == 0 || old_size > new_size || new_size > leaves.size()) {
    throw std::invalid_argument("consistency proof: sizes out of range");
  }
  Hasher hasher;
  std::vector<Hash> out;
  subproof(hasher, leaves, old_size, 0, new_size, true, out);
  return out;
}

bool verifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root, const Hash& new_root,
                       const std::vector<Hash>& proof) {
  if (old_size == 0 || old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  std::vector<Hash> nodes;
  // A perfect old tree is itself a node of the new one: the proof leaves it out.
  if ((old_size & (old_size - 1)) == 0) nodes.push_back(old_root);
  nodes.insert(nodes.end(), proof.begin(), proof.end());
  if (nodes.empty()) return false;
  Hasher hasher;
  auto fn = old_size - 1;
  auto sn = new_size - 1;
  while (isOdd(fn)) {
    fn >>= 1;
    sn >>= 1;
  }
  auto fr = nodes.front();
  auto sr = nodes.front();
  for (auto it = nodes.begin() + 1; it != nodes.end(); ++it) {
    if (sn == 0) return false;
    if (isOdd(fn) || fn == sn) {
      fr = hasher.node(*it, fr);
      sr = hasher.node(*it, sr);
      while (!isOdd(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = hasher.node(sr, *it);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == old_root && sr == new_root;
}

}  // namespace hydra::audit
