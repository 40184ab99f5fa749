// Golden tests of the feature hasher and the featuriser (docs/model-format.md, "Feature
// hashing" and "Feature weights"). The bucket ids below are part of the model file format
// (feature hash id 1): a saved model's vocabulary and weights are indexed by them. They were
// computed once and are hard-coded; the same features are also recomputed here by a small
// independent implementation of the written spec (local FNV-1a, keys spelt out by hand), so
// the tests pin the specification, not just whatever the code does today.
#include "text/featurizer.h"

#include <cmath>
#include <cstring>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace fastintent {
namespace {

// ---------------------------------------------------------------------------------------------
// An independent implementation of the spec, for ASCII/UTF-8 tokens given by hand.

// FNV-1a, 64-bit: offset basis 14695981039346656037, prime 1099511628211.
uint64_t LocalFnv1a64(const std::string& bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint32_t LocalBucket(const std::string& key, uint32_t num_buckets) {
  return uint32_t(LocalFnv1a64(key) % num_buckets);
}

// Splits UTF-8 text into code points (as UTF-8 strings); the input is known to be valid.
std::vector<std::string> CodePoints(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

using FeatureKey = std::pair<int, uint32_t>;  // (group, bucket)
using FeatureCounts = std::map<FeatureKey, uint32_t>;

// The features of a text whose tokens are `tokens`, straight from the spec:
//   'w' + token; 'b' + t_i + ' ' + t_i+1 [+ ' ' + t_i+2]; 'c' + code-point window of "<token>".
FeatureCounts SpecFeatures(const FeaturizerConfig& c, const std::vector<std::string>& tokens) {
  FeatureCounts out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    out[{kWordGroup, LocalBucket("w" + tokens[i], c.num_buckets)}]++;
    std::string key = "b" + tokens[i];
    for (size_t n = 2; n <= c.word_ngrams && i + n <= tokens.size(); ++n) {
      key += " " + tokens[i + n - 1];
      out[{kWordGroup, LocalBucket(key, c.num_buckets)}]++;
    }
  }
  if (c.char_min > 0) {
    for (const std::string& t : tokens) {
      std::vector<std::string> cps = CodePoints("<" + t + ">");
      for (size_t i = 0; i < cps.size(); ++i) {
        std::string window;
        for (size_t n = 1; n <= c.char_max && i + n <= cps.size(); ++n) {
          window += cps[i + n - 1];
          if (n >= c.char_min) out[{kCharGroup, LocalBucket("c" + window, c.num_buckets)}]++;
        }
      }
    }
  }
  return out;
}

FeatureCounts AsCounts(const std::vector<RawFeature>& raw) {
  FeatureCounts out;
  for (const RawFeature& f : raw) {
    EXPECT_EQ(out.count({f.group, f.bucket}), 0u) << "bucket " << f.bucket << " listed twice";
    out[{f.group, f.bucket}] = f.tf;
  }
  return out;
}

std::vector<RawFeature> Hash(const FeaturizerConfig& c, const std::string& text) {
  FeaturizerScratch s;
  HashFeatures(c, text, &s);
  return s.raw;
}

FeaturizerConfig Config(uint32_t num_buckets, uint32_t word_ngrams, uint32_t char_min,
                        uint32_t char_max, uint32_t min_df = 1, CharTf char_tf = CharTf::kPerText) {
  FeaturizerConfig c;
  c.char_tf = char_tf;
  c.num_buckets = num_buckets;
  c.word_ngrams = word_ngrams;
  c.char_min = char_min;
  c.char_max = char_max;
  c.min_df = min_df;
  return c;
}

struct Golden {
  uint32_t bucket;
  uint32_t tf;
  FeatureGroup group;
};

void ExpectRaw(const std::vector<RawFeature>& raw, const std::vector<Golden>& golden) {
  ASSERT_EQ(raw.size(), golden.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    EXPECT_EQ(raw[i].bucket, golden[i].bucket) << "feature " << i;
    EXPECT_EQ(raw[i].tf, golden[i].tf) << "feature " << i;
    EXPECT_EQ(raw[i].group, golden[i].group) << "feature " << i;
  }
}

// ---------------------------------------------------------------------------------------------
// The hash

TEST(Fnv1aTest, PublishedTestVectors) {
  // From the FNV reference test suite (64-bit FNV-1a).
  EXPECT_EQ(Fnv1a(kFnvOffset, "", 0), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fnv1a(kFnvOffset, "a", 1), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fnv1a(kFnvOffset, "foobar", 6), 0x85944171f73967e8ull);
  EXPECT_EQ(LocalFnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(LocalFnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(LocalFnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(Fnv1aTest, ChainingEqualsHashingTheConcatenation) {
  const std::string s = "bhello world";
  for (size_t k = 0; k <= s.size(); ++k) {
    EXPECT_EQ(Fnv1a(Fnv1a(kFnvOffset, s.data(), k), s.data() + k, s.size() - k), LocalFnv1a64(s));
  }
}

// ---------------------------------------------------------------------------------------------
// Golden bucket ids

TEST(HashFeaturesGoldenTest, WordNgrams) {
  const FeaturizerConfig c = Config(1u << 20, 3, 0, 0);
  const auto raw = Hash(c, "What's the weather in Paris?");
  ExpectRaw(raw, {{19262, 1, kWordGroup},
                  {137064, 1, kWordGroup},
                  {171789, 1, kWordGroup},
                  {327513, 1, kWordGroup},
                  {335161, 1, kWordGroup},
                  {341263, 1, kWordGroup},
                  {378193, 1, kWordGroup},
                  {408695, 1, kWordGroup},
                  {567402, 1, kWordGroup},
                  {750013, 1, kWordGroup},
                  {824267, 1, kWordGroup},
                  {959421, 1, kWordGroup}});
  EXPECT_EQ(AsCounts(raw), SpecFeatures(c, {"whats", "the", "weather", "in", "paris"}));
  // Spelt out: unigram, bigram and trigram keys.
  const FeatureCounts counts = AsCounts(raw);
  for (const char* key :
       {"wwhats", "wparis", "bwhats the", "bin paris", "bwhats the weather", "bweather in paris"}) {
    EXPECT_EQ(counts.count({kWordGroup, LocalBucket(key, c.num_buckets)}), 1u) << key;
  }
}

TEST(HashFeaturesGoldenTest, CharNgrams) {
  const FeaturizerConfig c = Config(1u << 20, 1, 3, 3);
  const auto raw = Hash(c, "Hello");
  ExpectRaw(raw, {{445958, 1, kWordGroup},
                  {341045, 1, kCharGroup},
                  {524387, 1, kCharGroup},
                  {673465, 1, kCharGroup},
                  {689687, 1, kCharGroup},
                  {984263, 1, kCharGroup}});
  EXPECT_EQ(AsCounts(raw), SpecFeatures(c, {"hello"}));
  // By hand: FNV-1a of 'w' "hello" mod 2^20, and the five trigrams of "<hello>".
  EXPECT_EQ(LocalBucket("whello", 1u << 20), 445958u);
  const FeatureCounts counts = AsCounts(raw);
  for (const char* key : {"c<he", "chel", "cell", "cllo", "clo>"})
    EXPECT_EQ(counts.count({kCharGroup, LocalBucket(key, c.num_buckets)}), 1u) << key;
}

TEST(HashFeaturesGoldenTest, TermFrequencies) {
  const FeaturizerConfig c = Config(1024, 2, 1, 2);
  const auto raw = Hash(c, "go go go");
  ExpectRaw(raw, {{55, 2, kWordGroup},
                  {964, 3, kWordGroup},
                  {27, 3, kCharGroup},
                  {559, 3, kCharGroup},
                  {567, 3, kCharGroup},
                  {704, 3, kCharGroup},
                  {778, 3, kCharGroup},
                  {932, 3, kCharGroup},
                  {967, 3, kCharGroup}});
  EXPECT_EQ(AsCounts(raw), SpecFeatures(c, {"go", "go", "go"}));
  EXPECT_EQ(LocalBucket("wgo", 1024), 964u);    // tf 3
  EXPECT_EQ(LocalBucket("bgo go", 1024), 55u);  // tf 2
  EXPECT_EQ(LocalBucket("c<", 1024), 778u);     // char_min 1: "<" alone is a feature
}

TEST(HashFeaturesGoldenTest, NonAsciiTokensAndCodePointWindows) {
  const FeaturizerConfig c = Config(1u << 20, 2, 1, 2);
  const auto raw = Hash(c,
                        "Stra\xC3\x9F"
                        "e \xE2\x82\xAC"
                        "5");
  ExpectRaw(raw, {{22796, 1, kWordGroup},   {157833, 1, kWordGroup}, {186210, 1, kWordGroup},
                  {316876, 1, kWordGroup},  {881721, 1, kWordGroup}, {27025, 1, kCharGroup},
                  {54464, 1, kCharGroup},   {57509, 1, kCharGroup},  {64034, 1, kCharGroup},
                  {84550, 1, kCharGroup},   {300142, 1, kCharGroup}, {302606, 1, kCharGroup},
                  {525296, 1, kCharGroup},  {652928, 1, kCharGroup}, {653363, 3, kCharGroup},
                  {655538, 1, kCharGroup},  {661193, 1, kCharGroup}, {662933, 1, kCharGroup},
                  {683813, 1, kCharGroup},  {685988, 3, kCharGroup}, {686858, 3, kCharGroup},
                  {707297, 1, kCharGroup},  {950355, 1, kCharGroup}, {1001024, 1, kCharGroup},
                  {1010701, 1, kCharGroup}, {1035931, 1, kCharGroup}});
  EXPECT_EQ(AsCounts(raw), SpecFeatures(c, {"strasse", "\xE2\x82\xAC", "5"}));
  const FeatureCounts counts = AsCounts(raw);
  // The euro sign is one code point: "<€" is a 2-gram of 4 bytes.
  EXPECT_EQ(counts.at({kCharGroup, LocalBucket("c<\xE2\x82\xAC", c.num_buckets)}), 1u);
  EXPECT_EQ(counts.at({kWordGroup, LocalBucket("b\xE2\x82\xAC 5", c.num_buckets)}), 1u);
  // "<", ">" and "s" occur three times each.
  EXPECT_EQ(counts.at({kCharGroup, LocalBucket("c<", c.num_buckets)}), 3u);
  EXPECT_EQ(counts.at({kCharGroup, LocalBucket("cs", c.num_buckets)}), 3u);
}

TEST(HashFeaturesTest, MatchesTheSpecForManyConfigs) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> texts = {
      {"set an alarm for 7am", {"set", "an", "alarm", "for", "7am"}},
      {"book a table, for two!", {"book", "a", "table", "for", "two"}},
      {"a", {"a"}},
      {"what's the time in new york city", {"whats", "the", "time", "in", "new", "york", "city"}},
      {"na na na na na na", {"na", "na", "na", "na", "na", "na"}},
      {"$5 \xF0\x9F\x98\x80 caf\xC3\xA9", {"$", "5", "\xF0\x9F\x98\x80", "caf\xC3\xA9"}},
  };
  for (uint32_t nb : {1024u, 4099u, 1u << 20, 1u << 26}) {
    for (uint32_t wn = 1; wn <= 3; ++wn) {
      for (auto [cmin, cmax] :
           {std::pair<uint32_t, uint32_t>{0, 0}, {1, 1}, {2, 5}, {3, 8}, {8, 8}}) {
        const FeaturizerConfig c = Config(nb, wn, cmin, cmax);
        ASSERT_TRUE(c.Validate().ok());
        for (const auto& [text, tokens] : texts) {
          ASSERT_EQ(AsCounts(Hash(c, text)), SpecFeatures(c, tokens))
              << text << " buckets " << nb << " words " << wn << " chars " << cmin << ".." << cmax;
        }
      }
    }
  }
}

TEST(HashFeaturesTest, SortedByGroupThenBucketEachOnce) {
  const FeaturizerConfig c = Config(1024, 3, 1, 4);  // small space: collisions are likely
  const auto raw = Hash(c, "the cat sat on the mat with the hat and the bat");
  ASSERT_FALSE(raw.empty());
  for (size_t i = 1; i < raw.size(); ++i) {
    EXPECT_TRUE(std::make_tuple(raw[i - 1].group, raw[i - 1].bucket) <
                std::make_tuple(raw[i].group, raw[i].bucket))
        << i;
  }
  uint32_t total = 0;
  for (const RawFeature& f : raw) {
    EXPECT_LT(f.bucket, c.num_buckets);
    EXPECT_GE(f.tf, 1u);
    total += f.tf;
  }
  // 12 tokens: 12 + 11 + 10 word n-grams; char n-grams of every "<token>" of length L + 2.
  uint32_t chars = 0;
  for (const char* t :
       {"the", "cat", "sat", "on", "the", "mat", "with", "the", "hat", "and", "the", "bat"}) {
    const uint32_t len = uint32_t(std::string(t).size()) + 2;
    for (uint32_t n = 1; n <= 4; ++n) chars += len >= n ? len - n + 1 : 0;
  }
  EXPECT_EQ(total, 33 + chars);
}

TEST(HashFeaturesTest, SameFeaturesForEquivalentSpellings) {
  const FeaturizerConfig c = Config(1u << 20, 2, 2, 5);
  const auto base = AsCounts(Hash(c, "strasse"));
  EXPECT_EQ(AsCounts(Hash(c,
                          "Stra\xC3\x9F"
                          "e")),
            base);
  EXPECT_EQ(AsCounts(Hash(c, "STRASSE")), base);
  EXPECT_EQ(AsCounts(Hash(c, "  Strasse!!")), base);
  EXPECT_NE(AsCounts(Hash(c, "strase")), base);
}

TEST(HashFeaturesTest, EmptyAndInvalidInput) {
  const FeaturizerConfig c = Config(1u << 20, 2, 2, 5);
  EXPECT_TRUE(Hash(c, "").empty());
  EXPECT_TRUE(Hash(c, " .,;!? ").empty());
  // Invalid bytes become U+FFFD symbol tokens, hashed like any other token.
  EXPECT_EQ(AsCounts(Hash(c, "\xFF")), SpecFeatures(c, {"\xEF\xBF\xBD"}));
}

TEST(HashFeaturesTest, ScratchReuseAndLongText) {
  const FeaturizerConfig c = Config(1u << 20, 3, 2, 5);
  FeaturizerScratch s;
  std::string big;
  while (big.size() < (1u << 20)) big += "turn the lights off in the kitchen ";
  HashFeatures(c, big, &s);
  uint32_t total = 0;
  for (const RawFeature& f : s.raw) total += f.tf;
  EXPECT_GT(total, 100000u);
  HashFeatures(c, "hello", &s);
  EXPECT_EQ(AsCounts(s.raw), SpecFeatures(c, {"hello"}));
}

// ---------------------------------------------------------------------------------------------
// Configuration and vocabulary

TEST(FeaturizerConfigTest, Validate) {
  EXPECT_TRUE(FeaturizerConfig().Validate().ok());
  EXPECT_TRUE(Config(1024, 1, 0, 0).Validate().ok());
  EXPECT_TRUE(Config(1u << 26, 3, 8, 8).Validate().ok());
  EXPECT_TRUE(Config(1024, 1, 0, 99).Validate().ok());  // char_max is ignored without char n-grams
  EXPECT_EQ(Config(1023, 2, 2, 5).Validate().message(),
            "num_buckets must be in [1024, 2^26], got 1023");
  EXPECT_FALSE(Config((1u << 26) + 1, 2, 2, 5).Validate().ok());
  EXPECT_EQ(Config(1024, 0, 2, 5).Validate().message(), "word_ngrams must be 1..3, got 0");
  EXPECT_FALSE(Config(1024, 4, 2, 5).Validate().ok());
  EXPECT_EQ(Config(1024, 2, 3, 2).Validate().message(),
            "char n-gram range must satisfy 1 <= min <= max <= 8, got 3..2");
  EXPECT_FALSE(Config(1024, 2, 2, 9).Validate().ok());
  EXPECT_EQ(Config(1024, 2, 2, 5, 0).Validate().message(), "min_df must be >= 1");
  EXPECT_EQ(Config(1024, 2, 2, 5, 0).Validate().code(), StatusCode::kInvalidArgument);
}

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
  FeatureCounts all;
  for (const std::string& t : corpus)
    for (const RawFeature& f : Hash(c, t)) all[{0, f.bucket}] = 1;  // distinct buckets
  EXPECT_EQ(v.size(), all.size());
  for (const auto& kv : all) EXPECT_NE(v.RowOf(kv.first.second), Vocabulary::kNoRow);
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

// ---------------------------------------------------------------------------------------------
// Featurize: weights

// Returns the group of each entry of Featurize's output, by replaying HashFeatures.
std::vector<FeatureGroup> GroupsOf(const Featurizer& f, const std::string& text) {
  FeaturizerScratch s;
  HashFeatures(f.config(), text, &s);
  std::vector<FeatureGroup> groups;
  for (const RawFeature& r : s.raw)
    if (f.vocab().RowOf(r.bucket) != Vocabulary::kNoRow) groups.push_back(r.group);
  return groups;
}

TEST(FeaturizeTest, SublinearTfTimesIdfThenUnitNorm) {
  const FeaturizerConfig c = Config(1u << 20, 1, 0, 0);
  const Featurizer f(c, BuildVocabulary(c, {"go home", "go go away", "stay home", "Go"}));
  FeaturizerScratch s;
  FeatureVector x;
  f.Featurize("go go home stay unknownword", &s, &x);
  ASSERT_EQ(x.rows.size(), 3u);  // the unknown word is dropped
  ASSERT_EQ(x.weights.size(), 3u);
  // N = 4; df: go 3, home 2, stay 1.
  const auto idf = [](int df) { return std::log(5.0 / (1.0 + df)) + 1.0; };
  std::map<uint32_t, double> raw = {
      {f.vocab().RowOf(LocalBucket("wgo", c.num_buckets)), (1.0 + std::log(2.0)) * idf(3)},
      {f.vocab().RowOf(LocalBucket("whome", c.num_buckets)), idf(2)},
      {f.vocab().RowOf(LocalBucket("wstay", c.num_buckets)), idf(1)},
  };
  double norm = 0;
  for (const auto& kv : raw) norm += kv.second * kv.second;
  norm = std::sqrt(norm);
  double sq = 0;
  for (size_t i = 0; i < x.rows.size(); ++i) {
    ASSERT_EQ(raw.count(x.rows[i]), 1u) << "unexpected row " << x.rows[i];
    EXPECT_NEAR(x.weights[i], raw[x.rows[i]] / norm, 1e-6) << i;
    sq += double(x.weights[i]) * x.weights[i];
  }
  EXPECT_NEAR(sq, 1.0, 1e-6);
}

TEST(FeaturizeTest, EachGroupGetsHalfTheNormWhenBothArePresent) {
  const FeaturizerConfig c = Config(1u << 20, 2, 2, 4);
  const Featurizer f(
      c, BuildVocabulary(c, {"play some jazz", "play the news", "what's the weather like",
                             "set a timer for ten minutes", "jazz jazz jazz"}));
  for (const std::string text :
       {"play jazz", "play some jazz jazz", "the weather", "set a jazz timer now"}) {
    FeaturizerScratch s;
    FeatureVector x;
    f.Featurize(text, &s, &x);
    const std::vector<FeatureGroup> groups = GroupsOf(f, text);
    ASSERT_EQ(groups.size(), x.rows.size()) << text;
    double sq[2] = {0, 0};
    for (size_t i = 0; i < x.rows.size(); ++i) {
      EXPECT_GT(x.weights[i], 0.0f);
      sq[groups[i]] += double(x.weights[i]) * x.weights[i];
    }
    EXPECT_NEAR(sq[kWordGroup], 0.5, 1e-5) << text;
    EXPECT_NEAR(sq[kCharGroup], 0.5, 1e-5) << text;
    EXPECT_NEAR(sq[0] + sq[1], 1.0, 1e-5) << text;
    // Output order: word features first, each group by increasing bucket.
    for (size_t i = 1; i < groups.size(); ++i) EXPECT_LE(groups[i - 1], groups[i]);
  }
}

TEST(FeaturizeTest, ALoneGroupGetsTheWholeNorm) {
  const FeaturizerConfig c = Config(1u << 20, 1, 3, 3);
  const Featurizer f(c, BuildVocabulary(c, {"hello"}));
  // "hellos": the word is unknown, but "<he", "hel", "ell", "llo" are known.
  FeaturizerScratch s;
  FeatureVector x;
  f.Featurize("hellos", &s, &x);
  ASSERT_EQ(x.rows.size(), 4u);
  double sq = 0;
  for (float w : x.weights) sq += double(w) * w;
  EXPECT_NEAR(sq, 1.0, 1e-6);
  for (float w : x.weights) EXPECT_NEAR(w, 0.5f, 1e-6);  // four equal weights of norm 1
}

TEST(FeaturizeTest, RepeatedTextScalesTfSublinearlyBeforeNormalising) {
  const FeaturizerConfig c = Config(1u << 20, 1, 0, 0);
  const Featurizer f(c, BuildVocabulary(c, {"a b", "a", "c"}));
  FeaturizerScratch s;
  FeatureVector x;
  f.Featurize("a a a a b", &s, &x);  // tf(a) = 4, tf(b) = 1
  ASSERT_EQ(x.rows.size(), 2u);
  const uint32_t ra = f.vocab().RowOf(LocalBucket("wa", c.num_buckets));
  const size_t ia = x.rows[0] == ra ? 0 : 1;
  const double idf_a = std::log(4.0 / 3.0) + 1, idf_b = std::log(4.0 / 2.0) + 1;
  EXPECT_NEAR(x.weights[ia] / x.weights[1 - ia], (1 + std::log(4.0)) * idf_a / idf_b, 1e-5);
}

TEST(FeaturizeTest, NothingKnownGivesAnEmptyVector) {
  const FeaturizerConfig c = Config(1u << 20, 2, 2, 4);
  const Featurizer f(c, BuildVocabulary(c, {"play some jazz"}));
  FeaturizerScratch s;
  FeatureVector x;
  x.rows = {1, 2};
  x.weights = {1, 2};
  f.Featurize("", &s, &x);
  EXPECT_TRUE(x.rows.empty());
  EXPECT_TRUE(x.weights.empty());
  f.Featurize("qqq", &s, &x);  // "<q", "qq", "q>", ... none seen in training
  EXPECT_TRUE(x.rows.empty());
}

TEST(FeaturizeTest, LongInvalidTextIsFine) {
  const FeaturizerConfig c = Config(1u << 20, 3, 2, 5);
  const Featurizer f(c, BuildVocabulary(c, {"hello world", "\xFF"}));
  std::string text;
  while (text.size() < (1u << 20)) text += "hello \xFF\xC0 world\xED\xA0\x80 ";
  FeaturizerScratch s;
  FeatureVector x;
  f.Featurize(text, &s, &x);
  ASSERT_FALSE(x.rows.empty());
  double sq = 0;
  for (float w : x.weights) {
    ASSERT_TRUE(std::isfinite(w));
    sq += double(w) * w;
  }
  EXPECT_NEAR(sq, 1.0, 1e-5);
}

// Featurize against a straightforward reference built from HashFeatures' sorted raw features:
// each (group, row) once, with weight (1 + ln tf) * idf scaled per group, over texts of every
// size with one scratch reused (tables grown, then shrunk texts, then the stamp wrap-around).
TEST(FeaturizeTest, MatchesTheRawFeatureReferenceWithAReusedScratch) {
  const FeaturizerConfig c = Config(1u << 12, 2, 2, 5);  // small: many collisions
  const std::vector<std::string> train = {"play some jazz", "what's the weather like",
                                          "set a timer for ten minutes", "wake me up at six",
                                          "turn the lights off", "play the news please"};
  const Featurizer f(c, BuildVocabulary(c, train));
  std::vector<std::string> texts = train;
  std::string big;
  while (big.size() < 100000) big += "play the jazz weather timer minutes six lights ";
  texts.push_back(big);
  texts.push_back("jazz");
  texts.push_back("the the the the the");
  FeaturizerScratch s;
  for (int round = 0; round < 3; ++round) {
    if (round == 2) s.generation = 0xFFFFFFFDu;  // wraps during this round
    for (const std::string& text : texts) {
      FeaturizerScratch ref_scratch;
      HashFeatures(c, text, &ref_scratch);
      std::map<std::pair<int, uint32_t>, double> expect;
      double sq[2] = {0, 0};
      for (const RawFeature& r : ref_scratch.raw) {
        const uint32_t row = f.vocab().RowOf(r.bucket);
        if (row == Vocabulary::kNoRow) continue;
        const double w = (1.0 + std::log(double(r.tf))) * f.vocab().Idf(row);
        expect[{r.group, row}] = w;
        sq[r.group] += w * w;
      }
      const int present = (sq[0] > 0) + (sq[1] > 0);
      for (auto& kv : expect) kv.second /= std::sqrt(sq[kv.first.first] * present);
      FeatureVector x;
      f.Featurize(text, &s, &x);
      ASSERT_EQ(x.rows.size(), expect.size()) << text.substr(0, 40);
      const std::vector<FeatureGroup> groups = GroupsOf(f, text);
      std::set<std::pair<int, uint32_t>> seen;
      for (size_t i = 0; i < x.rows.size(); ++i) {
        const std::pair<int, uint32_t> key{groups[i], x.rows[i]};
        ASSERT_TRUE(seen.insert(key).second) << "row " << x.rows[i] << " twice in one group";
        ASSERT_EQ(expect.count(key), 1u);
        EXPECT_NEAR(x.weights[i], expect[key], 1e-6) << text.substr(0, 40) << " row " << x.rows[i];
      }
    }
  }
}

}  // namespace
}  // namespace fastintent

namespace fastintent {
namespace {

// One scratch used with several featurizers in turn (as a thread serving two models would):
// the token cache must never hand one featurizer another's rows.
TEST(FeaturizeTest, ScratchSharedBetweenFeaturizersGivesFreshResults) {
  const std::vector<std::string> a_train = {"play some jazz", "what's the weather like", "jazz"};
  const std::vector<std::string> b_train = {"set a timer", "play the news", "the weather is nice"};
  const FeaturizerConfig c = Config(1u << 16, 2, 2, 5);
  FeaturizerConfig c34 = c;
  c34.char_min = 3;
  c34.char_max = 4;
  FeaturizerConfig per_token = c;
  per_token.char_tf = CharTf::kPerToken;
  const Vocabulary va = BuildVocabulary(c, a_train);
  const std::vector<Featurizer> fs = {Featurizer(c, va), Featurizer(c, BuildVocabulary(c, b_train)),
                                      Featurizer(c34, va), Featurizer(per_token, va)};
  const std::vector<std::string> texts = {"play the jazz weather", "weather the jazz", "a timer",
                                          "jazz jazz news"};
  FeaturizerScratch shared;
  for (int round = 0; round < 3; ++round) {
    for (const Featurizer& f : fs) {
      for (const std::string& t : texts) {
        FeaturizerScratch fresh;
        FeatureVector want, got;
        f.Featurize(t, &fresh, &want);
        f.Featurize(t, &shared, &got);
        EXPECT_EQ(got.rows, want.rows) << t;
        EXPECT_EQ(got.weights, want.weights) << t;
        EXPECT_EQ(got.unscaled, want.unscaled) << t;
        EXPECT_EQ(got.char_scale, want.char_scale) << t;
        EXPECT_EQ(got.spans.size(), want.spans.size()) << t;
      }
    }
  }
}

// CharTf::kPerToken against the spec: the word group as with kPerText; then, token by token,
// the token's known character rows once each in first-occurrence order, tf counted within the
// token, so a row shared by two tokens (or a repeated token) gives one entry per token; the
// character group's scale from the sum of squares over all those entries. One scratch is reused
// over rounds, with the token cache warm and the duplicate table's stamps wrapping.
TEST(FeaturizeTest, PerTokenMatchesTheSpecReferenceWithAReusedScratch) {
  const FeaturizerConfig c = Config(1u << 12, 2, 2, 5, 1, CharTf::kPerToken);
  const std::vector<std::string> train = {"play some jazz", "what's the weather like", "banana nana",
                                          "set a timer for ten minutes", "Straße nach München",
                                          "internationalization matters"};
  const Featurizer f(c, BuildVocabulary(c, train));
  std::vector<std::string> texts = train;
  texts.push_back("the the the weather");           // repeated tokens
  texts.push_back("banana ananas nana");            // n-grams shared between tokens and repeated in one
  texts.push_back("internationalization in münchen");  // too long / not ASCII: no key
  std::string big;
  while (big.size() < 50000) big += "play the jazz weather timer minutes banana ";
  texts.push_back(big);
  FeaturizerScratch s;
  for (int round = 0; round < 3; ++round) {
    if (round == 2) s.generation = 0xFFFFFFF0u;  // wraps during this round
    for (const std::string& text : texts) {
      SCOPED_TRACE(text.substr(0, 40));
      // Word group: from the raw features, as kPerText.
      FeaturizerScratch ref_scratch;
      HashFeatures(c, text, &ref_scratch);
      std::map<uint32_t, double> words;
      double word_sq = 0;
      for (const RawFeature& r : ref_scratch.raw) {
        const uint32_t row = f.vocab().RowOf(r.bucket);
        if (r.group != kWordGroup || row == Vocabulary::kNoRow) continue;
        words[row] = (1.0 + std::log(double(r.tf))) * f.vocab().Idf(row);
        word_sq += words[row] * words[row];
      }
      // Character group: token by token.
      std::vector<std::pair<uint32_t, double>> chars;  // (row, unscaled weight), in order
      std::vector<std::pair<size_t, std::string>> token_begin;
      double char_sq = 0;
      for (const std::string& t : TokenizeToStrings(text)) {
        std::vector<uint32_t> order;
        std::map<uint32_t, uint32_t> tf;
        const std::vector<std::string> cps = CodePoints("<" + t + ">");
        for (size_t i = 0; i < cps.size(); ++i) {
          std::string window;
          for (size_t n = 1; n <= c.char_max && i + n <= cps.size(); ++n) {
            window += cps[i + n - 1];
            if (n < c.char_min) continue;
            const uint32_t row = f.vocab().RowOf(LocalBucket("c" + window, c.num_buckets));
            if (row == Vocabulary::kNoRow) continue;
            if (tf[row]++ == 0) order.push_back(row);
          }
        }
        if (order.empty()) continue;
        token_begin.push_back({words.size() + chars.size(), t});
        for (const uint32_t row : order) {
          const double w = (1.0 + std::log(double(tf[row]))) * f.vocab().Idf(row);
          chars.push_back({row, w});
          char_sq += w * w;
        }
      }
      const int present = (word_sq > 0) + (char_sq > 0);
      FeatureVector x;
      f.Featurize(text, &s, &x);
      ASSERT_EQ(x.rows.size(), words.size() + chars.size());
      ASSERT_EQ(x.unscaled.size(), x.rows.size());
      for (size_t i = 0; i < words.size(); ++i) {
        ASSERT_EQ(words.count(x.rows[i]), 1u) << i;
        EXPECT_NEAR(x.unscaled[i], words[x.rows[i]], 1e-5);
        EXPECT_NEAR(x.weights[i], words[x.rows[i]] / std::sqrt(word_sq * present), 1e-6);
      }
      const double char_scale = char_sq > 0 ? 1.0 / std::sqrt(char_sq * present) : 0.0;
      EXPECT_NEAR(x.char_scale, char_scale, 1e-6);
      for (size_t k = 0; k < chars.size(); ++k) {
        const size_t i = words.size() + k;
        ASSERT_EQ(x.rows[i], chars[k].first) << k;
        EXPECT_NEAR(x.unscaled[i], chars[k].second, 1e-5) << k;
        EXPECT_NEAR(x.weights[i], chars[k].second * char_scale, 1e-6) << k;
        EXPECT_EQ(x.weights[i], float(x.unscaled[i] * x.char_scale)) << k;
      }
      // One span per token with entries; short ASCII tokens carry their bytes as the key.
      ASSERT_EQ(x.spans.size(), token_begin.size());
      for (size_t k = 0; k < x.spans.size(); ++k) {
        const CharSpan& span = x.spans[k];
        const std::string& t = token_begin[k].second;
        EXPECT_EQ(span.begin, token_begin[k].first);
        EXPECT_EQ(span.end, k + 1 < x.spans.size() ? token_begin[k + 1].first : x.rows.size());
        const bool keyed = t.size() <= 14 && CodePoints(t).size() == t.size();
        ASSERT_EQ(span.key.len, keyed ? t.size() : 0u) << t;
        if (keyed) {
          char bytes[16] = {0};
          std::memcpy(bytes, span.key.bytes, 16);
          EXPECT_EQ(std::string(bytes, span.key.len), t);
          for (size_t b = span.key.len; b < 16; ++b) EXPECT_EQ(bytes[b], 0);
        }
      }
    }
  }
}

// With no n-gram shared between tokens and no token repeated, the two ways of counting agree.
TEST(FeaturizeTest, PerTokenAndPerTextAgreeWithoutSharedNgrams) {
  const FeaturizerConfig per_text = Config(1u << 20, 2, 2, 4);
  FeaturizerConfig per_token = per_text;
  per_token.char_tf = CharTf::kPerToken;
  const Vocabulary v = BuildVocabulary(per_text, {"jazz now", "play music", "xyz"});
  const Featurizer a(per_text, v), b(per_token, v);
  FeaturizerScratch s;
  FeatureVector xa, xb;
  a.Featurize("jazz now", &s, &xa);  // no window of "<jazz>" is one of "<now>"
  b.Featurize("jazz now", &s, &xb);
  EXPECT_EQ(xa.rows, xb.rows);
  ASSERT_EQ(xa.weights.size(), xb.weights.size());
  for (size_t i = 0; i < xa.weights.size(); ++i) EXPECT_NEAR(xa.weights[i], xb.weights[i], 1e-7);
  EXPECT_TRUE(xa.spans.empty());
  EXPECT_EQ(xb.spans.size(), 2u);
  // A repeated token: per text, each of its character rows once with tf 2; per token, twice.
  a.Featurize("jazz jazz", &s, &xa);
  b.Featurize("jazz jazz", &s, &xb);
  ASSERT_EQ(xb.spans.size(), 2u);
  const size_t words = xb.spans[0].begin;
  EXPECT_EQ(xb.rows.size(), words + 2 * (xa.rows.size() - words));
}

}  // namespace
}  // namespace fastintent
