// The journal's Merkle tree against RFC 6962 known answers (tests/data/rfc6962-merkle.json):
// the root of every size, inclusion paths and consistency proofs, generated and verified.
#include <doctest/doctest.h>

#include <botan/hex.h>

#include "shared/audit/merkle.hpp"
#include "tests/support/json_file.hpp"

using namespace hydra::audit;

namespace {

std::string hexOf(const Hash& h) { return Botan::hex_encode(h.data(), h.size(), false); }

Hash hashOf(const rapidjson::Value& hex) {
  const auto bytes = Botan::hex_decode(std::string(hex.GetString(), hex.GetStringLength()));
  REQUIRE(bytes.size() == 32);
  Hash h;
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

std::vector<Hash> hashesOf(const rapidjson::Value& array) {
  std::vector<Hash> out;
  for (const auto& hex : array.GetArray()) out.push_back(hashOf(hex));
  return out;
}

struct Vectors {
  rapidjson::Document doc = hydra::test::testDataJson("rfc6962-merkle.json");
  std::vector<Hash> leaves;
  Vectors() {
    Hasher hasher;
    for (const auto& hex : doc["leaves_hex"].GetArray()) {
      const auto bytes = Botan::hex_decode(std::string(hex.GetString(), hex.GetStringLength()));
      leaves.push_back(hasher.leaf(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())));
    }
  }
};

}  // namespace

TEST_CASE("audit merkle: the root of every size, computed whole and appended leaf by leaf, is RFC 6962's") {
  Vectors v;
  CHECK(hexOf(treeHash(v.leaves, 0, 0)) == v.doc["empty_tree_root"].GetString());
  CompactTree tree;
  CHECK(hexOf(tree.root()) == v.doc["empty_tree_root"].GetString());
  for (std::uint64_t size = 1; size <= v.leaves.size(); ++size) {
    CAPTURE(size);
    tree.append(v.leaves[size - 1]);
    const std::string expected = v.doc["roots_by_size"][std::to_string(size).c_str()].GetString();
    CHECK(hexOf(treeHash(v.leaves, 0, size)) == expected);
    CHECK(hexOf(tree.root()) == expected);
    // A tree resumed from its frontier goes on to the same roots.
    CompactTree resumed(tree.size(), tree.frontier());
    CHECK(hexOf(resumed.root()) == expected);
  }
  CHECK_THROWS(CompactTree(5, {}));  // 5 leaves are two perfect subtrees
}

TEST_CASE("audit merkle: inclusion paths are the published ones and verify, a wrong leaf, index or root does not") {
  Vectors v;
  for (const auto& c : v.doc["inclusion"].GetArray()) {
    const auto index = c["leaf_index"].GetUint64(), size = c["tree_size"].GetUint64();
    CAPTURE(index);
    CAPTURE(size);
    const auto expected = hashesOf(c["path"]);
    const auto path = inclusionProof(v.leaves, index, size);
    CHECK(path == expected);
    const auto root = treeHash(v.leaves, 0, size);
    CHECK(verifyInclusion(v.leaves[index], index, size, path, root));
    CHECK_FALSE(verifyInclusion(v.leaves[(index + 1) % 8], index, size, path, root));
    if (size > 1) CHECK_FALSE(verifyInclusion(v.leaves[index], (index + 1) % size, size, path, root));
    CHECK_FALSE(verifyInclusion(v.leaves[index], index, size, path, treeHash(v.leaves, 0, 8 - (size == 8))));
  }
  // Every leaf of every size round-trips.
  for (std::uint64_t size = 1; size <= 8; ++size) {
    for (std::uint64_t index = 0; index < size; ++index) {
      CHECK(verifyInclusion(v.leaves[index], index, size, inclusionProof(v.leaves, index, size),
                            treeHash(v.leaves, 0, size)));
    }
  }
}

TEST_CASE("audit merkle: an inclusion path from the leaves after a frontier equals the path from every leaf") {
  // 70 leaves: sizes past several powers of two, every frontier size before each index.
  std::vector<Hash> leaves;
  Hasher hasher;
  for (int i = 0; i < 70; ++i) leaves.push_back(hasher.leaf("record " + std::to_string(i)));
  for (std::uint64_t size = 1; size <= leaves.size(); size += 3) {
    for (std::uint64_t first = 0; first < size; ++first) {
      CompactTree before;
      for (std::uint64_t i = 0; i < first; ++i) before.append(leaves[i]);
      const std::vector<Hash> after(leaves.begin() + static_cast<long>(first), leaves.end());
      for (std::uint64_t index = first; index < size; ++index) {
        CAPTURE(size);
        CAPTURE(first);
        CAPTURE(index);
        CHECK(inclusionProof(before.frontier(), first, after, index, size) == inclusionProof(leaves, index, size));
      }
      if (first > 0) CHECK_THROWS_AS(inclusionProof(before.frontier(), first, after, first - 1, size), std::invalid_argument);
    }
  }
}

TEST_CASE("audit merkle: consistency proofs are the published ones and verify, other roots do not") {
  Vectors v;
  for (const auto& c : v.doc["consistency"].GetArray()) {
    const auto old_size = c["old_size"].GetUint64(), new_size = c["new_size"].GetUint64();
    CAPTURE(old_size);
    CAPTURE(new_size);
    const auto expected = hashesOf(c["proof"]);
    const auto proof = consistencyProof(v.leaves, old_size, new_size);
    CHECK(proof == expected);
    const auto old_root = treeHash(v.leaves, 0, old_size), new_root = treeHash(v.leaves, 0, new_size);
    CHECK(verifyConsistency(old_size, new_size, old_root, new_root, proof));
    if (old_size != new_size) {
      CHECK_FALSE(verifyConsistency(old_size, new_size, new_root, new_root, proof));
      CHECK_FALSE(verifyConsistency(old_size, new_size, old_root, old_root, proof));
    }
  }
  for (std::uint64_t old_size = 1; old_size <= 8; ++old_size) {
    for (std::uint64_t new_size = old_size; new_size <= 8; ++new_size) {
      CHECK(verifyConsistency(old_size, new_size, treeHash(v.leaves, 0, old_size), treeHash(v.leaves, 0, new_size),
                              consistencyProof(v.leaves, old_size, new_size)));
    }
  }
}
