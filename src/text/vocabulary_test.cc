// Tests of the vocabulary (docs/model-format.md, "Vocabulary and IDF (training)"): buckets to
// rows by rank, and the document-frequency and IDF rule of BuildVocabulary, checked against the
// spec's hash (feature_hash_test_util.h).
#include "text/vocabulary.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "text/feature_hash_test_util.h"

namespace fastintent {
namespace {

using testing_util::Config;
using testing_util::Hash;
using testing_util::LocalBucket;

TEST(VocabularyTest, CreateMapsBucketsToRowsInOrder) {
  auto v = Vocabulary::Create(1024, {3, 10, 1023}, {1.0f, 2.0f, 3.0f});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->size(), 3u);
  EXPECT_EQ(v->num_buckets(), 1024u);
  EXPECT_EQ(v->RowOf(3), 0u);
  EXPECT_EQ(v->RowOf(10), 1u);
  EXPECT_EQ(v->RowOf(1023), 2u);
  EXPECT_EQ(v->RowOf(4), Vocabulary::kNoRow);
  EXPECT_EQ(v->Idf(2), 3.0f);
}

TEST(VocabularyTest, CreateRejectsMalformedInput) {
  EXPECT_EQ(Vocabulary::Create(1024, {1, 2}, {1.0f}).status().message(),
            "vocabulary: bucket and idf counts differ");
  EXPECT_EQ(Vocabulary::Create(1024, {5, 5}, {1.0f, 1.0f}).status().message(),
            "vocabulary: buckets not strictly increasing below num_buckets at row 1");
  EXPECT_FALSE(Vocabulary::Create(1024, {7, 3}, {1.0f, 1.0f}).ok());
  EXPECT_FALSE(Vocabulary::Create(1024, {1024}, {1.0f}).ok());
  EXPECT_EQ(Vocabulary::Create(1024, {1, 2}, {1.0f, NAN}).status().message(),
            "vocabulary: non-finite idf at row 1");
  EXPECT_FALSE(Vocabulary::Create(1024, {1}, {INFINITY}).ok());
  EXPECT_EQ(Vocabulary::Create(1024, {1}, {INFINITY}).status().code(), StatusCode::kDataLoss);
}

TEST(BuildVocabularyTest, SmoothedIdfAndDocumentFrequency) {
  const FeaturizerConfig c = Config(1u << 20, 1, 0, 0);  // word unigrams only
  // N = 4 texts; df: go 3, home 2, away 1, stay 1 ("go go" counts once).
  const Vocabulary v = BuildVocabulary(c, {"go home", "go go away", "stay home", "Go"});
  EXPECT_EQ(v.size(), 4u);
  EXPECT_EQ(v.num_buckets(), c.num_buckets);
  const std::map<std::string, int> df = {{"go", 3}, {"home", 2}, {"away", 1}, {"stay", 1}};
  for (const auto& [word, d] : df) {
    const uint32_t row = v.RowOf(LocalBucket("w" + word, c.num_buckets));
    ASSERT_NE(row, Vocabulary::kNoRow) << word;
    EXPECT_NEAR(v.Idf(row), std::log(5.0 / (1.0 + d)) + 1.0, 1e-6) << word;
  }
  // Rows follow increasing bucket order.
  for (size_t r = 1; r < v.size(); ++r) EXPECT_LT(v.buckets()[r - 1], v.buckets()[r]);
  for (size_t r = 0; r < v.size(); ++r) EXPECT_EQ(v.RowOf(v.buckets()[r]), r);
}

TEST(BuildVocabularyTest, MinDfDropsRareBuckets) {
  const FeaturizerConfig c = Config(1u << 20, 1, 0, 0, /*min_df=*/2);
  const Vocabulary v = BuildVocabulary(c, {"go home", "go go away", "stay home", "Go"});
  EXPECT_EQ(v.size(), 2u);
  EXPECT_NE(v.RowOf(LocalBucket("wgo", c.num_buckets)), Vocabulary::kNoRow);
  EXPECT_NE(v.RowOf(LocalBucket("whome", c.num_buckets)), Vocabulary::kNoRow);
  EXPECT_EQ(v.RowOf(LocalBucket("waway", c.num_buckets)), Vocabulary::kNoRow);
  EXPECT_EQ(v.RowOf(LocalBucket("wstay", c.num_buckets)), Vocabulary::kNoRow);
}

TEST(BuildVocabularyTest, EveryFeatureOfTheCorpusIsInTheVocabulary) {
  const FeaturizerConfig c = Config(1u << 20, 2, 2, 4);
  const std::vector<std::string> corpus = {"play some jazz", "what's the weather", "set a timer"};
  const Vocabulary v = BuildVocabulary(c, corpus);
  std::set<uint32_t> all;  // distinct buckets
  for (const std::string& t : corpus)
    for (const RawFeature& f : Hash(c, t)) all.insert(f.bucket);
  EXPECT_EQ(v.size(), all.size());
  for (const uint32_t bucket : all) EXPECT_NE(v.RowOf(bucket), Vocabulary::kNoRow);
  // Each text occurs once in a corpus of 3: idf is ln(4/2)+1 for a bucket found in one text.
  const uint32_t row = v.RowOf(LocalBucket("wjazz", c.num_buckets));
  ASSERT_NE(row, Vocabulary::kNoRow);
  EXPECT_NEAR(v.Idf(row), std::log(2.0) + 1.0, 1e-6);
}

TEST(BuildVocabularyTest, ABucketInBothGroupsOfOneTextCountsOnce) {
  // With 1024 buckets, find a text whose word and char features share a bucket, then check that
  // its document frequency is 1 (idf = ln(2/2) + 1 = 1 for a corpus of one text).
  const FeaturizerConfig c = Config(1024, 3, 1, 5);
  std::string found;
  uint32_t shared = 0;
  for (int i = 0; i < 500 && found.empty(); ++i) {
    const std::string text = "alpha bravo charlie delta " + std::to_string(i);
    std::map<uint32_t, int> groups;
    for (const RawFeature& f : Hash(c, text)) groups[f.bucket] |= 1 << f.group;
    for (const auto& [b, mask] : groups) {
      if (mask == 3) {
        found = text;
        shared = b;
        break;
      }
    }
  }
  ASSERT_FALSE(found.empty()) << "no cross-group collision found";
  const Vocabulary v = BuildVocabulary(c, {found});
  const uint32_t row = v.RowOf(shared);
  ASSERT_NE(row, Vocabulary::kNoRow);
  EXPECT_FLOAT_EQ(v.Idf(row), 1.0f);
}

}  // namespace
}  // namespace fastintent
