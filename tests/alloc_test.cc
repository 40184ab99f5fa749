// The single-utterance hot path (Model::Probabilities + Model::Decide with a warm Session) does
// not touch the heap: this binary replaces the global operator new/delete to count calls while
// a window is open. Also checks that the featuriser's fast paths (ASCII normalisation, k = 1
// decisions) give exactly what the general paths give.
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/network.h"
#include "text/featurizer.h"
#include "text/tokenizer.h"
#include "train/trainer.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

void* CountedAlloc(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}

void* CountedAlignedAlloc(std::size_t n, std::align_val_t al) {
  if (g_counting.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t a = static_cast<std::size_t>(al);
  if (void* p = std::aligned_alloc(a, (n + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return CountedAlloc(n); }
void* operator new[](std::size_t n) { return CountedAlloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return CountedAlloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return CountedAlloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) { return CountedAlignedAlloc(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return CountedAlignedAlloc(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace fastintent {
namespace {

// Counts operator new calls between construction and Count().
class AllocationWindow {
 public:
  AllocationWindow() {
    g_allocations = 0;
    g_counting = true;
  }
  ~AllocationWindow() { g_counting = false; }
  long Count() {
    g_counting = false;
    return g_allocations.load();
  }
};

const std::vector<std::string>& Texts() {
  static const std::vector<std::string> texts = {
      "what's the weather like in paris tomorrow",
      "Set an ALARM for 7am, please!",
      "play some jazz music in the kitchen",
      "how do i say thank you in italian",
      "transfer $200 from checking to savings",
      "Café crème: l'été à Paris \xE2\x80\x94 r\xC3\xA9servation pour deux",  // non-ASCII path
      "book a table for 4 at an italian restaurant tonight",
      "remind me to call mom at 5 \xF0\x9F\x93\x9E",  // emoji (symbol)
      "what is my credit card balance",
      "turn off the lights in the living room and lock the front door",
      "bad bytes \xE2\x82 here \xC0\x80",             // invalid UTF-8
      "ＦＵＬＬ ｗｉｄｔｈ text and \xEF\xAC\x81sh",  // NFKC: full width, ligature
  };
  return texts;
}

Model TrainSmallModel(OutputKind kind) {
  Dataset d;
  d.multi_label = kind == OutputKind::kSigmoid;
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"what's the weather like", "weather"},
      {"will it rain tomorrow in paris", "weather"},
      {"is it sunny outside", "weather"},
      {"set an alarm for 7am", "alarm"},
      {"wake me up at six", "alarm"},
      {"alarm for tomorrow morning please", "alarm"},
      {"play some jazz music", "music"},
      {"put on my playlist", "music"},
      {"play the next song", "music"},
      {"transfer money to savings", "transfer"},
      {"send $200 to checking", "transfer"},
      {"move funds between accounts", "transfer"},
      {"how do i say thanks in italian", "translate"},
      {"translate hello to french", "translate"},
      {"what is café in english", "translate"},
      {"l'été à paris réservation", "translate"},
  };
  for (int rep = 0; rep < 3; ++rep)
    for (const auto& [text, label] : rows) d.examples.push_back({text, {label}, 0});
  TrainOptions o;
  o.hidden = {32};
  o.max_epochs = 3;
  o.threads = 1;
  o.featurizer.num_buckets = 1 << 16;
  o.featurizer.min_df = 1;
  auto m = Train(d, nullptr, o, nullptr);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

void ExpectNoAllocationsAfterWarmUp(const Model& m) {
  Session s = m.NewSession();
  std::vector<LabelScore> top;
  top.reserve(8);
  for (const std::string& t : Texts()) {  // warm-up: sizes every scratch buffer
    ASSERT_TRUE(m.Probabilities(t, &s).ok()) << t;
    m.Decide(s.probs(), 1, -1, &top);
    m.Decide(s.probs(), 3, 0, &top);
  }
  AllocationWindow window;
  size_t labelled = 0;
  for (int rep = 0; rep < 200; ++rep) {
    for (const std::string& t : Texts()) {
      if (!m.Probabilities(t, &s).ok()) continue;
      m.Decide(s.probs(), 1, -1, &top);
      labelled += top.size();
      m.Decide(s.probs(), 3, 0, &top);
    }
  }
  EXPECT_EQ(window.Count(), 0) << "heap allocations during " << 200 * Texts().size()
                               << " warm Probabilities + Decide calls";
  EXPECT_GT(labelled, 0u);
}

TEST(AllocationTest, SoftmaxHotPathDoesNotAllocate) {
  ExpectNoAllocationsAfterWarmUp(TrainSmallModel(OutputKind::kSoftmax));
}

TEST(AllocationTest, SigmoidHotPathDoesNotAllocate) {
  ExpectNoAllocationsAfterWarmUp(TrainSmallModel(OutputKind::kSigmoid));
}

TEST(AllocationTest, Int8HotPathDoesNotAllocate) {
  ExpectNoAllocationsAfterWarmUp(*QuantizeModel(TrainSmallModel(OutputKind::kSoftmax)));
  ExpectNoAllocationsAfterWarmUp(*QuantizeModel(TrainSmallModel(OutputKind::kSigmoid)));
}

TEST(AllocationTest, CounterSeesAllocations) {  // the window really counts
  AllocationWindow window;
  auto* v = new std::vector<int>(100);
  delete v;
  EXPECT_GE(window.Count(), 2);
}

// Random printable-ASCII strings heavy in the characters the tokenizer treats specially.
std::vector<std::string> RandomAsciiTexts(size_t count) {
  std::mt19937 rng(42);
  const std::string alphabet = "abcXYZ019 ''\t.,!?$%+-_/<>^~|\"()#@\x01\x7f";
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    std::string s(rng() % 30, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    out.push_back(s);
  }
  return out;
}

// ASCII-only text takes a fast path in Tokenize; appending U+00A0 NO-BREAK SPACE (NFKC: a
// space, so a separator) forces the general utf8proc path. Both must give the same tokens and
// the same features.
TEST(FastPathEquivalenceTest, AsciiNormalisationMatchesUtf8proc) {
  FeaturizerConfig c;
  c.num_buckets = 1 << 20;
  c.word_ngrams = 3;
  c.char_min = 1;
  c.char_max = 8;
  FeaturizerScratch a, b;
  for (const std::string& text : RandomAsciiTexts(3000)) {
    const std::string slow = text + "\xC2\xA0";
    ASSERT_EQ(TokenizeToStrings(text), TokenizeToStrings(slow)) << text;
    HashFeatures(c, text, &a);
    HashFeatures(c, slow, &b);
    ASSERT_EQ(a.raw.size(), b.raw.size()) << text;
    for (size_t i = 0; i < a.raw.size(); ++i) {
      ASSERT_EQ(a.raw[i].bucket, b.raw[i].bucket) << text;
      ASSERT_EQ(a.raw[i].tf, b.raw[i].tf) << text;
      ASSERT_EQ(a.raw[i].group, b.raw[i].group) << text;
    }
  }
}

// Decide(k = 1) has its own loop; it must pick what the general top-k selection ranks first.
TEST(FastPathEquivalenceTest, DecideTopOneMatchesTopK) {
  for (OutputKind kind : {OutputKind::kSoftmax, OutputKind::kSigmoid}) {
    Model m = TrainSmallModel(kind);
    std::mt19937 rng(7);
    std::vector<float> probs(m.labels().size());
    std::vector<LabelScore> one, many;
    for (int trial = 0; trial < 2000; ++trial) {
      for (float& p : probs) p = float(rng() % 8) / 8.0f;  // many ties
      for (float threshold : {-1.0f, 0.0f, 0.3f, 0.9f}) {
        m.Decide(probs, 1, threshold, &one);
        m.Decide(probs, 2, threshold, &many);
        if (kind == OutputKind::kSigmoid) {
          ASSERT_EQ(one.empty(), many.empty());
        }
        if (kind == OutputKind::kSoftmax) {
          ASSERT_EQ(one.size(), many.empty() ? 0u : 1u);
        }
        if (!one.empty()) {
          ASSERT_EQ(one[0].label, many[0].label);
          ASSERT_EQ(one[0].prob, many[0].prob);
        }
      }
    }
  }
}

}  // namespace
}  // namespace fastintent
