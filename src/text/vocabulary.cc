#include "text/vocabulary.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <utility>

namespace fastintent {

StatusOr<Vocabulary> Vocabulary::Create(uint32_t num_buckets, std::vector<uint32_t> buckets,
                                        std::vector<float> idf) {
  if (buckets.size() != idf.size()) return DataLoss("vocabulary: bucket and idf counts differ");
  if (buckets.size() >= kNoRow) return DataLoss("vocabulary: too many rows");
  static std::atomic<uint64_t> next_id{1};
  Vocabulary v;
  v.id_ = next_id.fetch_add(1, std::memory_order_relaxed);
  v.num_buckets_ = num_buckets;
  v.rank_.assign((size_t(num_buckets) + 63) / 64, RankBlock{0, 0});
  for (size_t r = 0; r < buckets.size(); ++r) {
    if (buckets[r] >= num_buckets || (r > 0 && buckets[r] <= buckets[r - 1]))
      return DataLoss("vocabulary: buckets not strictly increasing below num_buckets at row " +
                      std::to_string(r));
    if (!std::isfinite(idf[r]))
      return DataLoss("vocabulary: non-finite idf at row " + std::to_string(r));
    v.rank_[buckets[r] >> 6].bits |= uint64_t(1) << (buckets[r] & 63);
  }
  uint32_t below = 0;
  for (RankBlock& b : v.rank_) {
    b.rank = below;
    below += PopCount(b.bits);
  }
  v.buckets_ = std::move(buckets);
  v.idf_ = std::move(idf);
  return v;
}

Vocabulary BuildVocabulary(const FeaturizerConfig& config, const std::vector<std::string>& texts) {
  std::vector<uint32_t> df(config.num_buckets, 0);
  FeatureHashScratch s;
  for (const std::string& t : texts) {
    HashFeatures(config, t, &s);
    // A bucket may occur in both groups of one text; count the document once.
    for (const RawFeature& f : s.raw) df[f.bucket]++;
    if (s.raw.size() > 1) {
      std::vector<uint32_t>& seen = s.buckets[0];
      seen.clear();
      for (const RawFeature& f : s.raw) seen.push_back(f.bucket);
      std::sort(seen.begin(), seen.end());
      for (size_t i = 1; i < seen.size(); ++i)
        if (seen[i] == seen[i - 1]) df[seen[i]]--;
    }
  }
  std::vector<uint32_t> buckets;
  std::vector<float> idf;
  const double n = double(texts.size());
  for (uint32_t b = 0; b < config.num_buckets; ++b) {
    if (df[b] >= config.min_df && df[b] > 0) {
      buckets.push_back(b);
      idf.push_back(float(std::log((1.0 + n) / (1.0 + df[b])) + 1.0));
    }
  }
  return std::move(
      Vocabulary::Create(config.num_buckets, std::move(buckets), std::move(idf)).value());
}

}  // namespace fastintent
