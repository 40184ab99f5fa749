// The vocabulary: the hash buckets (feature_hash.h) a model knows, as dense rows, with each row's
// IDF weight. Stored in the model file's "vocabulary" section; BuildVocabulary is the training
// rule of docs/model-format.md, "Vocabulary and IDF (training)", and vocabulary_test.cc checks it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fastintent/status.h"
#include "text/feature_hash.h"

namespace fastintent {

// Maps buckets to dense vocabulary rows and holds each row's IDF weight. Immutable once built;
// safe to share between threads.
class Vocabulary {
 public:
  static constexpr uint32_t kNoRow = 0xFFFFFFFFu;
  Vocabulary() = default;
  // `buckets` strictly increasing, all < num_buckets; idf.size() == buckets.size().
  static StatusOr<Vocabulary> Create(uint32_t num_buckets, std::vector<uint32_t> buckets,
                                     std::vector<float> idf);
  // The row of `bucket` (< num_buckets()), or kNoRow. Rows are the buckets' ranks, so this is
  // a rank query on a bitmap of the vocabulary's buckets: one 16-byte block per 64 buckets
  // (256 KB for 2^20 buckets, which stays in a core's L2 cache where a bucket -> row array
  // would take 4 MB), a single cache line read per lookup.
  uint32_t RowOf(uint32_t bucket) const {
    const RankBlock& b = rank_[bucket >> 6];
    const uint64_t bit = uint64_t(1) << (bucket & 63);
    if ((b.bits & bit) == 0) return kNoRow;
    return b.rank + PopCount(b.bits & (bit - 1));
  }
  float Idf(uint32_t row) const { return idf_[row]; }
  // Identifies the content: equal for copies, different for every Create() (never 0).
  uint64_t id() const { return id_; }
  size_t size() const { return buckets_.size(); }
  uint32_t num_buckets() const { return num_buckets_; }
  const std::vector<uint32_t>& buckets() const { return buckets_; }
  const std::vector<float>& idf() const { return idf_; }

 private:
  // Bits set in x. Written out because the portable x86-64 baseline has no POPCNT instruction
  // and __builtin_popcountll would become a libgcc call; GCC recognises this sequence and emits
  // POPCNT where the target has it (Featurize's popcnt clone, ARM64's CNT).
  static uint32_t PopCount(uint64_t x) {
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return uint32_t((x * 0x0101010101010101ull) >> 56);
  }
  // Buckets 64k .. 64k+63: which are in the vocabulary, and how many vocabulary buckets lie
  // below 64k (the row of the first one).
  struct alignas(16) RankBlock {
    uint64_t bits;
    uint32_t rank;
  };
  uint32_t num_buckets_ = 0;
  uint64_t id_ = 0;
  std::vector<RankBlock> rank_;
  std::vector<uint32_t> buckets_;
  std::vector<float> idf_;
};

// Counts document frequencies over a training corpus and builds the Vocabulary:
// buckets with df >= min_df, idf = ln((1 + N) / (1 + df)) + 1 (smoothed, as in scikit-learn).
Vocabulary BuildVocabulary(const FeaturizerConfig& config, const std::vector<std::string>& texts);

}  // namespace fastintent
