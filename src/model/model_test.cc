// Tests of Model inference with a per-token featurizer: the session's TokenSums cache must give
// what the plain embedding bag over the FeatureVector gives (up to float rounding), the same bits
// whatever the session saw before, and never one model's sums to another.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "model/network.h"

namespace fastintent {
namespace {

const std::vector<std::string>& Corpus() {
  static const std::vector<std::string> texts = {
      "play some jazz",      "play the latest news",        "what's the weather like today",
      "banana nana",         "set a timer for ten minutes", "internationalization matters",
      "Straße nach München",
  };
  return texts;
}

// Fills the real (unpadded) entries of a rows x cols matrix whose rows are `stride` apart.
void Fill(float* m, size_t rows, size_t cols, size_t stride, float seed) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < cols; ++j)
      m[r * stride + j] = std::sin(seed + 0.37f * float(r * cols + j)) * 0.5f;
}

std::shared_ptr<const Model> MakeModel(float seed, CharTf char_tf = CharTf::kPerToken,
                                       std::vector<std::string> frequent = {}) {
  FeaturizerConfig c;
  c.num_buckets = 1u << 14;
  c.min_df = 1;
  c.char_tf = char_tf;
  Vocabulary vocab = BuildVocabulary(c, Corpus());
  const std::vector<std::string> labels = {"music", "weather", "alarm"};
  Network net;
  net.Allocate({24}, uint32_t(labels.size()), uint32_t(vocab.size()));
  Fill(net.embedding.data(), net.num_rows, net.width0(), net.stride0(), seed);
  Fill(net.embedding_bias.data(), 1, net.width0(), net.stride0(), seed + 1);
  DenseLayer& l = net.layers[0];
  Fill(l.w.data(), l.out, l.in, l.stride(), seed + 2);
  Fill(l.b.data(), 1, l.out, l.out, seed + 3);
  return std::make_shared<const Model>(Featurizer(c, std::move(vocab)), std::move(net), labels,
                                       OutputKind::kSoftmax, 0.0f, "", std::move(frequent));
}

// Probabilities without the cache: the plain embedding bag over every entry.
std::vector<float> Reference(const Model& m, const std::string& text) {
  Session session = m.NewSession();
  SessionState& s = StateOf(session);
  m.featurizer().Featurize(text, &s.featurizer, &s.features);
  std::vector<float> p(m.labels().size());
  ForwardLogits(m.network(), s.features, &s.activations, p.data(), &s.quantized);
  kernels::Softmax(p.data(), p.size());
  return p;
}

std::vector<float> Cached(const Model& m, const std::string& text, Session* s) {
  const Status st = m.Probabilities(text, s);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return s->probs();
}

// Two keyed tokens that land in the same TokenSums slot.
std::string CollidingPair(const Model& m) {
  FeaturizerScratch scratch;
  FeatureVector x;
  std::vector<std::string> by_slot(TokenSums::kSlots);
  for (int i = 0;; ++i) {
    const std::string word = "na" + std::to_string(i) + "ba";
    m.featurizer().Featurize(word, &scratch, &x);
    if (x.spans.size() != 1 || x.spans[0].key.len == 0) continue;
    std::string& other = by_slot[x.spans[0].key.hash & (TokenSums::kSlots - 1)];
    // NOLINTNEXTLINE(performance-inefficient-string-concatenation): test setup, not a hot path.
    if (!other.empty()) return other + " " + word;
    other = word;
  }
}

std::vector<std::string> Texts(const Model& m) {
  std::vector<std::string> texts = Corpus();
  texts.push_back("play play play the jazz");          // a repeated token
  texts.push_back("banana ananas nana banana");        // n-grams shared between tokens
  texts.push_back("internationalization in münchen");  // tokens without a key
  texts.push_back(CollidingPair(m));
  texts.push_back("the weather " + CollidingPair(m) + " banana");
  return texts;
}

TEST(TokenSumsTest, CachedSumsMatchThePlainEmbeddingBag) {
  for (const auto& m : {MakeModel(0.1f), QuantizeModel(*MakeModel(0.1f))}) {
    SCOPED_TRACE(PrecisionName(m->network().precision));
    Session warm = m->NewSession();
    for (int round = 0; round < 3; ++round) {
      for (const std::string& text : Texts(*m)) {
        const std::vector<float> want = Reference(*m, text);
        const std::vector<float> got = Cached(*m, text, &warm);
        ASSERT_EQ(got.size(), want.size());
        for (size_t i = 0; i < got.size(); ++i)
          EXPECT_NEAR(got[i], want[i], 2e-6) << text << " label " << i;
      }
    }
  }
}

TEST(TokenSumsTest, ResultsDoNotDependOnWhatTheSessionSawBefore) {
  const auto m = MakeModel(0.2f);
  Session warm = m->NewSession();
  const std::vector<std::string> texts = Texts(*m);
  for (int round = 0; round < 2; ++round) {
    for (auto it = texts.rbegin(); it != texts.rend(); ++it) {
      Session fresh = m->NewSession();
      EXPECT_EQ(Cached(*m, *it, &warm), Cached(*m, *it, &fresh)) << *it;
    }
  }
}

// One session used with two models whose featurizers are the same (equal token keys) but whose
// embeddings differ: a model must never get the other's sums.
TEST(TokenSumsTest, ASessionSharedBetweenModelsNeverMixesTheirSums) {
  const auto a = MakeModel(0.3f), b = MakeModel(0.7f), per_text = MakeModel(0.3f, CharTf::kPerText);
  Session shared = a->NewSession();
  for (int round = 0; round < 2; ++round) {
    for (const auto& m : {a, b, per_text}) {
      for (const std::string& text : Corpus()) {
        Session fresh = m->NewSession();
        EXPECT_EQ(Cached(*m, text, &shared), Cached(*m, text, &fresh)) << text;
      }
    }
  }
  EXPECT_NE(Cached(*a, "play some jazz", &shared), Cached(*b, "play some jazz", &shared));
}

// A model's precomputed sums of its frequent tokens give the very same bits as a session's own
// (same rows, same order, same kernel), for both precisions.
TEST(TokenSumTableTest, SameResultsAsWithoutTheTable) {
  const std::vector<std::string> frequent = {
      "play",   "the", "jazz", "banana", "weather", "play", "internationalization",
      "what's", "a.b", "qqqq", "PLAY"};
  for (bool int8 : {false, true}) {
    auto plain = MakeModel(0.4f), with = MakeModel(0.4f, CharTf::kPerToken, frequent);
    if (int8) {
      plain = QuantizeModel(*plain);
      with = QuantizeModel(*with);
    }
    // Listed twice ("play"), too long to be keyed, not tokenising to itself ("what's" -> "whats",
    // "a.b", "PLAY"), or without known n-grams ("qqqq"): not in the table.
    EXPECT_EQ(with->token_table_size(), 5u);       // play, the, jazz, banana, weather
    EXPECT_EQ(with->frequent_tokens(), frequent);  // kept as given, for saving
    Session a = plain->NewSession(), b = with->NewSession();
    for (const std::string& text : Texts(*plain))
      EXPECT_EQ(Cached(*plain, text, &a), Cached(*with, text, &b)) << text;
  }
}

// The table's memory is bounded whatever a file lists: with a first layer 8,192 wide (32 KB a
// sum), only the 2,048 most frequent tokens get one; the others use the session cache.
TEST(TokenSumTableTest, MemoryIsBoundedForWideModels) {
  FeaturizerConfig c;
  c.num_buckets = 1u << 16;
  c.min_df = 1;
  c.word_ngrams = 1;
  c.char_min = c.char_max = 2;
  std::vector<std::string> tokens;
  for (char a = 'a'; a <= 'z'; ++a)
    for (char b = 'a'; b <= 'z'; ++b)
      for (char d = 'a'; d <= 'd'; ++d) tokens.push_back(std::string{a, b, d});  // 2,704 tokens
  Vocabulary vocab = BuildVocabulary(c, tokens);
  Network net;
  net.Allocate({8192}, 2, uint32_t(vocab.size()));
  Fill(net.embedding.data(), net.num_rows, net.width0(), net.stride0(), 0.5f);
  const Model m(Featurizer(c, std::move(vocab)), std::move(net), {"a", "b"}, OutputKind::kSoftmax,
                0.0f, "", tokens);
  EXPECT_EQ(m.token_table_size(), kMaxTokenTableBytes / (8192 * sizeof(float)));
  Session s = m.NewSession();
  EXPECT_TRUE(m.Probabilities("zzd abc", &s).ok());  // one token in the table, one not
}

// Texts up to kMaxTextBytes are classified; longer ones are refused before any work. The
// duplicate table stays bounded by the vocabulary, not by the text (a 1 MiB text once made it
// 50 MB per 200 KB of input), and a long text's buffers are freed once it is answered.
TEST(ModelTest, TextLengthLimitAndBoundedScratch) {
  const auto m = MakeModel(0.5f);
  Session session = m->NewSession();
  SessionState& s = StateOf(session);
  std::string big;
  while (big.size() + 6 <= kMaxTextBytes) big += "jazz ";
  big.resize(kMaxTextBytes, 'z');
  m->featurizer().Featurize(big, &s.featurizer, &s.features);
  size_t pow2 = 1024;
  while (pow2 < 4 * m->featurizer().vocab().size()) pow2 *= 2;
  EXPECT_LE(s.featurizer.table.size(), pow2);
  // Probabilities gives a long text's buffers back afterwards, and the session still works.
  ASSERT_TRUE(m->Probabilities(big, &session).ok());
  EXPECT_EQ(s.features.rows.capacity(), 0u);
  EXPECT_EQ(s.featurizer.table.capacity(), 0u);
  EXPECT_LT(s.featurizer.utf8.capacity(), 1024u);
  Session fresh = m->NewSession();
  EXPECT_EQ(Cached(*m, "play some jazz", &session), Cached(*m, "play some jazz", &fresh));
  // Also when the long text has nothing to classify.
  ASSERT_FALSE(m->Probabilities(std::string(kMaxTextBytes, ' '), &session).ok());
  EXPECT_EQ(s.featurizer.table.capacity(), 0u);
  const Status st = m->Probabilities(big + "z", &session);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "text too long: " + std::to_string(kMaxTextBytes + 1) +
                              " bytes (at most " + std::to_string(kMaxTextBytes) + ")");
}

TEST(TokenSumTableTest, PerTextModelsIgnoreFrequentTokens) {
  EXPECT_EQ(MakeModel(0.4f, CharTf::kPerText, {"play", "jazz"})->token_table_size(), 0u);
}

TEST(TokenSumsTest, PerTextModelsDoNotUseTheCache) {
  const auto m = MakeModel(0.3f, CharTf::kPerText);
  Session session = m->NewSession();
  Cached(*m, "play some jazz", &session);
  EXPECT_TRUE(StateOf(session).features.spans.empty());
  EXPECT_EQ(StateOf(session).token_sums.owner, 0u);
}

}  // namespace
}  // namespace fastintent
