// Golden tests of the feature hasher (docs/model-format.md, "Feature hashing"). The bucket ids
// below are part of the model file format (feature hash id 1): a saved model's vocabulary and
// weights are indexed by them. They were computed once and are hard-coded; the same features are
// also recomputed here by a small independent implementation of the written spec (local FNV-1a,
// keys spelt out by hand), so the tests pin the specification, not just whatever the code does
// today.
#include "text/feature_hash.h"

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "text/feature_hash_test_util.h"

namespace fastintent {
namespace {

using testing_util::CodePoints;
using testing_util::Config;
using testing_util::Hash;
using testing_util::LocalBucket;
using testing_util::LocalFnv1a64;

// ---------------------------------------------------------------------------------------------
// The spec's features, for tokens given by hand.

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
  FeatureHashScratch s;
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
// The two halves the featuriser's fast path calls

// HashWordKeys, then HashTokenCharKeys for every token, give the keys HashFeatures counts.
TEST(HashKeysTest, WordAndTokenKeysAddUpToHashFeatures) {
  const std::vector<std::string> texts = {
      "What's the weather in Paris?", "go go go", "", " .,;!? ",
      // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): split after \x escapes.
      "Stra\xC3\x9F"
      "e \xE2\x82\xAC"
      "5 caf\xC3\xA9",
      "internationalization of everything", std::string(100, 'x') + " " + "\xF0\x9F\x98\x80",
      "bad \xFF\xFE bytes"};
  for (const FeaturizerConfig& c :
       {Config(1u << 20, 3, 2, 5), Config(4099, 2, 1, 8), Config(1024, 1, 0, 0)}) {
    FeatureHashScratch s;  // reused: the keys must not depend on earlier texts
    for (const std::string& text : texts) {
      HashWordKeys(c, text, &s);
      FeatureCounts counts;
      for (const uint32_t b : s.buckets[kWordGroup]) counts[{kWordGroup, b}]++;
      std::vector<uint32_t> out(CharKeyBound(c, s.tok.tokens) + 1, 0xFFFFFFFFu);
      size_t n = 0, first_cp = 0;
      for (size_t t = 0; t < s.tok.tokens.size(); ++t) {
        const size_t ncp = s.tok.tokens[t].end - s.tok.tokens[t].begin;
        const size_t k = HashTokenCharKeys(c, t, first_cp, &s, out.data() + n);
        EXPECT_LE(k, CharKeyBound(c, ncp)) << text;
        n += k;
        first_cp += ncp;
      }
      EXPECT_EQ(out[n], 0xFFFFFFFFu) << "wrote past the keys it counted";
      for (size_t i = 0; i < n; ++i) counts[{kCharGroup, out[i]}]++;
      EXPECT_EQ(counts, AsCounts(Hash(c, text))) << text;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Configuration

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

}  // namespace
}  // namespace fastintent
