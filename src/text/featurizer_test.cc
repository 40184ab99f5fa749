// Tests of the featuriser's fast path (docs/model-format.md, "Feature weights"): sublinear TF,
// IDF and per-group L2 normalisation, the output order, and equality with straightforward
// references built from HashFeatures and from the spec's hash (feature_hash_test_util.h), with
// scratches reused so that the token cache and the duplicate table are exercised warm.
#include "text/featurizer.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "text/feature_hash_test_util.h"
#include "text/tokenizer.h"

namespace fastintent {
namespace {

using testing_util::CodePoints;
using testing_util::Config;
using testing_util::LocalBucket;

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
  const std::vector<std::string> train = {
      "play some jazz",    "what's the weather like", "set a timer for ten minutes",
      "wake me up at six", "turn the lights off",     "play the news please"};
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
  const std::vector<std::string> train = {"play some jazz",      "what's the weather like",
                                          "banana nana",         "set a timer for ten minutes",
                                          "Straße nach München", "internationalization matters"};
  const Featurizer f(c, BuildVocabulary(c, train));
  std::vector<std::string> texts = train;
  texts.push_back("the the the weather");  // repeated tokens
  texts.push_back("banana ananas nana");   // n-grams shared between tokens and repeated in one
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
