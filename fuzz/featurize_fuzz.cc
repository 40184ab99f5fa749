// libFuzzer target: the featuriser on arbitrary bytes (invalid UTF-8, huge repeats, symbols)
// must give finite weights of unit norm per present group, rows inside the vocabulary, and the
// same result from a fresh scratch as from one reused across inputs (token cache, dedupe table).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "text/featurizer.h"

namespace {

const fastintent::Featurizer& TheFeaturizer() {
  static const fastintent::Featurizer f = [] {
    fastintent::FeaturizerConfig c;
    c.num_buckets = 1u << 14;  // small: collisions on purpose
    c.min_df = 1;
    const std::vector<std::string> corpus = {"play some jazz",
                                             "what's the weather like in Paris",
                                             "wake me up at 7am",
                                             "Straße café naïve",
                                             "\xE4\xBD\xA0\xE5\xA5\xBD world",
                                             "set a timer for 10 minutes $5 #1",
                                             "turn the lights off",
                                             "can you see my screen?"};
    return fastintent::Featurizer(c, fastintent::BuildVocabulary(c, corpus));
  }();
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const fastintent::Featurizer& f = TheFeaturizer();
  static fastintent::FeaturizerScratch reused;
  fastintent::FeaturizerScratch fresh;
  fastintent::FeatureVector a, b;
  f.Featurize(text, &reused, &a);
  f.Featurize(text, &fresh, &b);
  if (a.rows != b.rows || a.weights != b.weights) std::abort();
  if (a.rows.size() != a.weights.size()) std::abort();
  double sq = 0;
  for (size_t i = 0; i < a.rows.size(); ++i) {
    if (a.rows[i] >= f.vocab().size()) std::abort();
    if (!std::isfinite(a.weights[i]) || !(a.weights[i] > 0)) std::abort();
    sq += double(a.weights[i]) * a.weights[i];
  }
  if (!a.rows.empty() && std::fabs(sq - 1.0) > 1e-4) std::abort();
  // Per-token character entries (the default configuration): one span per token with entries,
  // back to back up to the end, and the same spans from both scratches.
  if (a.unscaled != b.unscaled || a.char_scale != b.char_scale || a.spans.size() != b.spans.size())
    std::abort();
  if (a.unscaled.size() != a.rows.size()) std::abort();
  size_t at = a.spans.empty() ? a.rows.size() : a.spans.front().begin;
  for (size_t k = 0; k < a.spans.size(); ++k) {
    const fastintent::CharSpan& x = a.spans[k];
    const fastintent::CharSpan& y = b.spans[k];
    if (x.begin != at || x.end <= x.begin || x.key.len > 16 || !(x.key == y.key) ||
        x.key.hash != y.key.hash || x.begin != y.begin || x.end != y.end)
      std::abort();
    for (size_t i = x.begin; i < x.end; ++i)
      if (a.weights[i] != float(a.unscaled[i] * a.char_scale)) std::abort();
    at = x.end;
  }
  if (at != a.rows.size()) std::abort();
  return 0;
}
