#include "train/calibration.h"

#include <algorithm>
#include <cstdio>

namespace fastintent {

CalibrationResult CalibrateThreshold(const CalibrationInput& in) {
  CalibrationResult r;
  const size_t n = in.gold.size();
  const uint32_t nl = in.num_labels;
  char buf[256];
  if (in.kind == OutputKind::kSigmoid) {
    r.threshold = 0.5f;
    if (n == 0) {
      r.explanation = "no validation data: default threshold 0.5";
      return r;
    }
    double best = -1;
    for (int step = 1; step <= 19; ++step) {
      const float t = 0.05f * float(step);
      size_t match = 0;
      for (size_t i = 0; i < n; ++i) {
        const float* p = in.probs.data() + i * nl;
        bool ok = true;
        for (uint32_t j = 0; j < nl && ok; ++j) {
          const bool pos = std::find(in.gold[i].begin(), in.gold[i].end(), j) != in.gold[i].end();
          ok = (p[j] >= t) == pos;
        }
        match += ok;
      }
      const double score = double(match) / double(n);
      if (score > best) {
        best = score;
        r.threshold = t;
      }
    }
    r.score = best;
    std::snprintf(
        buf, sizeof buf,
        "per-label threshold %.2f maximises exact match (%.2f%%) on %zu validation examples",
        r.threshold, 100 * best, n);
    r.explanation = buf;
    return r;
  }

  // Softmax: sweep thresholds over the sorted top probabilities.
  struct Item {
    float top;
    bool oos;            // gold is out of scope
    bool right_if_kept;  // kept (not rejected): is the prediction counted correct?
  };
  std::vector<Item> items;
  size_t negatives = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* p = in.probs.data() + i * nl;
    const uint32_t best = uint32_t(std::max_element(p, p + nl) - p);
    const bool oos =
        in.gold[i].empty() || (in.oos_label >= 0 && in.gold[i][0] == uint32_t(in.oos_label));
    negatives += oos;
    const bool right = oos ? (int(best) == in.oos_label) : best == in.gold[i][0];
    items.push_back({p[best], oos, right});
  }
  r.threshold = 0;
  if (negatives == 0) {
    r.explanation = "no out-of-scope examples in the validation data: rejection off (threshold 0)";
    return r;
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.top < b.top; });
  // Threshold t rejects items with top < t. Start with t = 0: nothing rejected.
  long correct = 0;
  for (const Item& it : items) correct += it.right_if_kept;
  long best_correct = correct;
  for (size_t i = 0; i < items.size(); ++i) {
    // Reject items[i] (and all before it): t just above items[i].top.
    const Item& it = items[i];
    correct += (it.oos ? 1 : 0) - (it.right_if_kept ? 1 : 0);
    if (i + 1 < items.size() && items[i + 1].top == it.top) continue;
    // Midway to the next top probability, so that tiny numeric differences do not flip it;
    // after the last one, just above it, capped at 1 (the largest threshold a model file holds).
    const float t =
        i + 1 < items.size() ? 0.5f * (it.top + items[i + 1].top) : std::min(1.0f, it.top + 1e-6f);
    // Decide rejects tops strictly below the threshold: when t does not reject items[i] (a top
    // of exactly 1), this cut cannot be made and must not be scored.
    if (!(it.top < t)) continue;
    if (correct > best_correct) {
      best_correct = correct;
      r.threshold = t;
    }
  }
  r.score = double(best_correct) / double(n);
  std::snprintf(buf, sizeof buf,
                "top-probability threshold %.4f maximises accuracy with out-of-scope counted as a "
                "class (%.2f%%) on %zu validation examples (%zu out of scope)",
                r.threshold, 100 * r.score, n, negatives);
  r.explanation = buf;
  return r;
}

}  // namespace fastintent
