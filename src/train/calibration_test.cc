// Tests of CalibrateThreshold: hand-computed sweeps, ties, the no-out-of-scope case, the
// sigmoid grid, and a brute-force cross-check of the softmax sweep on random data.
#include "train/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iomanip>
#include <random>
#include <vector>

namespace fastintent {
namespace {

// Builds a softmax input over labels {a = 0, b = 1, oos = 2}.
struct SoftmaxCase {
  CalibrationInput in;
  SoftmaxCase() {
    in.kind = OutputKind::kSoftmax;
    in.num_labels = 3;
    in.oos_label = 2;
  }
  void Add(std::vector<uint32_t> gold, std::vector<float> probs) {
    in.gold.push_back(std::move(gold));
    in.probs.insert(in.probs.end(), probs.begin(), probs.end());
  }
};

// Accuracy with out-of-scope counted as a class when rejecting every example whose top
// probability is below `t` (Model::Decide's rule): the quantity the sweep maximises.
double AccuracyAt(const CalibrationInput& in, float t) {
  size_t right = 0;
  for (size_t i = 0; i < in.gold.size(); ++i) {
    const float* p = in.probs.data() + i * in.num_labels;
    const uint32_t best = uint32_t(std::max_element(p, p + in.num_labels) - p);
    const bool oos =
        in.gold[i].empty() || (in.oos_label >= 0 && in.gold[i][0] == uint32_t(in.oos_label));
    const bool rejected = p[best] < t;
    if (oos)
      right += rejected || int(best) == in.oos_label;
    else
      right += !rejected && best == in.gold[i][0];
  }
  return in.gold.empty() ? 0 : double(right) / double(in.gold.size());
}

TEST(CalibrationTest, SoftmaxSweepFindsTheKnownOptimum) {
  SoftmaxCase c;
  c.Add({0}, {0.90f, 0.05f, 0.05f});  // top .90, right
  c.Add({1}, {0.10f, 0.80f, 0.10f});  // top .80, right
  c.Add({0}, {0.60f, 0.30f, 0.10f});  // top .60, right
  c.Add({2}, {0.50f, 0.40f, 0.10f});  // top .50, oos predicted a: right only if rejected
  c.Add({2}, {0.30f, 0.45f, 0.25f});  // top .45, oos predicted b: right only if rejected
  c.Add({1}, {0.35f, 0.40f, 0.25f});  // top .40, right
  // Keeping all: 4/6. Rejecting below .45, .50, .60: 3, 4, 5 right; rejecting .60 too: 4.
  // Best: reject the tops .40, .45, .50, i.e. a threshold between .50 and .60 (midway).
  const CalibrationResult r = CalibrateThreshold(c.in);
  EXPECT_GT(r.threshold, 0.50f);
  EXPECT_LE(r.threshold, 0.60f);
  EXPECT_NEAR(r.threshold, 0.55f, 1e-6);
  EXPECT_NEAR(r.score, 5.0 / 6, 1e-12);
  EXPECT_NEAR(AccuracyAt(c.in, r.threshold), r.score, 1e-12);
  EXPECT_NE(r.explanation.find("6 validation examples"), std::string::npos) << r.explanation;
  EXPECT_NE(r.explanation.find("2 out of scope"), std::string::npos) << r.explanation;
}

TEST(CalibrationTest, EqualScoresGoToTheLowestThreshold) {
  SoftmaxCase c;
  c.Add({2}, {0.20f, 0.10f, 0.10f});  // oos, top .2
  c.Add({0}, {0.30f, 0.10f, 0.10f});  // right, top .3
  c.Add({2}, {0.40f, 0.10f, 0.10f});  // oos, top .4
  c.Add({1}, {0.05f, 0.90f, 0.05f});  // right, top .9
  // Rejecting below .25 and below .65 both give 3/4; the lower one wins.
  const CalibrationResult r = CalibrateThreshold(c.in);
  EXPECT_NEAR(r.threshold, 0.25f, 1e-6);
  EXPECT_NEAR(r.score, 0.75, 1e-12);
}

TEST(CalibrationTest, TiedTopProbabilitiesAreRejectedTogether) {
  // An oos and an in-scope example share top .5: no threshold can reject one without the
  // other. Whatever their input order, the answer is to reject only the .3 example.
  for (int order = 0; order < 2; ++order) {
    SoftmaxCase c;
    c.Add({2}, {0.30f, 0.20f, 0.10f});  // oos, top .3
    if (order == 0) {
      c.Add({2}, {0.50f, 0.20f, 0.10f});  // oos, top .5
      c.Add({0}, {0.50f, 0.20f, 0.10f});  // right, top .5
    } else {
      c.Add({0}, {0.50f, 0.20f, 0.10f});
      c.Add({2}, {0.50f, 0.20f, 0.10f});
    }
    c.Add({1}, {0.05f, 0.90f, 0.05f});  // right, top .9
    const CalibrationResult r = CalibrateThreshold(c.in);
    EXPECT_NEAR(r.threshold, 0.40f, 1e-6) << "order " << order;
    EXPECT_NEAR(r.score, 0.75, 1e-12) << "order " << order;
    EXPECT_NEAR(AccuracyAt(c.in, r.threshold), r.score, 1e-12) << "order " << order;
  }
}

TEST(CalibrationTest, OutOfScopePredictedAsTheOosLabelNeedsNoRejection) {
  SoftmaxCase c;
  c.Add({2}, {0.10f, 0.10f, 0.80f});  // oos, predicted oos: right when kept
  c.Add({0}, {0.60f, 0.20f, 0.20f});
  c.Add({1}, {0.20f, 0.70f, 0.10f});
  const CalibrationResult r = CalibrateThreshold(c.in);
  EXPECT_EQ(r.threshold, 0.0f);
  EXPECT_NEAR(r.score, 1.0, 1e-12);
}

TEST(CalibrationTest, WithoutOutOfScopeExamplesRejectionIsOff) {
  SoftmaxCase c;
  c.Add({0}, {0.40f, 0.35f, 0.25f});  // a low-confidence right answer...
  c.Add({1}, {0.50f, 0.30f, 0.20f});  // ...and a confident wrong one
  const CalibrationResult r = CalibrateThreshold(c.in);
  EXPECT_EQ(r.threshold, 0.0f);
  EXPECT_NE(r.explanation.find("no out-of-scope"), std::string::npos) << r.explanation;

  SoftmaxCase none;  // no validation data at all
  EXPECT_EQ(CalibrateThreshold(none.in).threshold, 0.0f);
}

TEST(CalibrationTest, EmptyGoldSetCountsAsOutOfScopeWithoutOosLabel) {
  CalibrationInput in;
  in.kind = OutputKind::kSoftmax;
  in.num_labels = 2;
  in.oos_label = -1;
  in.gold = {{0}, {}, {1}};
  in.probs = {0.9f, 0.1f, /**/ 0.6f, 0.4f, /**/ 0.2f, 0.8f};
  const CalibrationResult r = CalibrateThreshold(in);
  EXPECT_NEAR(r.threshold, 0.7f, 1e-6);  // midway between .6 (reject) and .8 (keep)
  EXPECT_NEAR(r.score, 1.0, 1e-12);
}

TEST(CalibrationTest, ThresholdIsStorableAndAchievesItsScore) {
  // Two out-of-scope examples are misclassified with top probability exactly 1: no threshold
  // a model file can hold (LoadModel accepts [0, 1]) rejects them, since Decide rejects only
  // tops strictly below it. The sweep must not count them as rejected: the best achievable cut
  // rejects only the .3 example (2 of 4 right), not "everything" (3 of 4 on paper, 1 in fact).
  SoftmaxCase c;
  c.Add({2}, {0.30f, 0.20f, 0.10f});  // oos, top .3: right only if rejected
  c.Add({0}, {0.60f, 0.20f, 0.20f});  // right, top .6
  c.Add({2}, {1.00f, 0.00f, 0.00f});  // oos, top 1: wrong whatever the threshold
  c.Add({2}, {0.00f, 1.00f, 0.00f});  // likewise
  const CalibrationResult r = CalibrateThreshold(c.in);
  EXPECT_GE(r.threshold, 0.0f);
  EXPECT_LE(r.threshold, 1.0f) << std::setprecision(9) << r.threshold;
  EXPECT_NEAR(AccuracyAt(c.in, r.threshold), r.score, 1e-12)
      << "the reported score is not achievable";
  EXPECT_NEAR(r.score, 0.5, 1e-12);
  EXPECT_NEAR(r.threshold, 0.45f, 1e-6);
}

TEST(CalibrationTest, RejectingEverythingJustBelowOneIsPossible) {
  SoftmaxCase c;
  c.Add({2}, {0.99f, 0.00f, 0.01f});  // oos predicted a
  c.Add({2}, {0.00f, 0.90f, 0.10f});  // oos predicted b
  const CalibrationResult r = CalibrateThreshold(c.in);
  EXPECT_GT(r.threshold, 0.99f);
  EXPECT_LE(r.threshold, 1.0f);
  EXPECT_NEAR(r.score, 1.0, 1e-12);
  EXPECT_NEAR(AccuracyAt(c.in, r.threshold), 1.0, 1e-12);
}

// How many examples a threshold rejects (top probability below it).
size_t RejectedAt(const CalibrationInput& in, float t) {
  size_t n = 0;
  for (size_t i = 0; i < in.gold.size(); ++i) {
    const float* p = in.probs.data() + i * in.num_labels;
    n += *std::max_element(p, p + in.num_labels) < t;
  }
  return n;
}

TEST(CalibrationTest, SoftmaxSweepMatchesBruteForceOnRandomData) {
  std::mt19937 rng(1234);
  int calibrated = 0;
  for (int trial = 0; trial < 200; ++trial) {
    CalibrationInput in;
    in.kind = OutputKind::kSoftmax;
    in.num_labels = 4;
    in.oos_label = 3;
    const int n = 5 + int(rng() % 40);
    for (int i = 0; i < n; ++i) {
      // Coarse probabilities so that ties between examples are common; below 1 so that every
      // cut is reachable with a threshold in [0, 1] (ThresholdIsStorableAndAchievesItsScore covers
      // 1).
      std::vector<float> p(4);
      for (float& x : p) x = float(1 + rng() % 8) / 10.0f;
      std::vector<uint32_t> gold;
      if (rng() % 6 != 0) gold.push_back(uint32_t(rng() % 4));  // else: empty set, out of scope
      if (!gold.empty() && rng() % 2 == 0)
        p[gold[0]] = float(5 + rng() % 5) / 10.0f;  // often right
      in.probs.insert(in.probs.end(), p.begin(), p.end());
      in.gold.push_back(gold);
    }
    const CalibrationResult r = CalibrateThreshold(in);
    bool any_oos = false;
    for (const auto& g : in.gold) any_oos |= g.empty() || g[0] == 3;
    if (!any_oos) {
      EXPECT_EQ(r.threshold, 0.0f);
      continue;
    }
    calibrated += r.threshold > 0;
    // Tops are multiples of .1 up to .9: thresholds midway between them reach every cut.
    std::vector<float> candidates = {0.0f};
    for (int k = 1; k <= 10; ++k) candidates.push_back(0.1f * float(k) - 0.05f);
    double best = 0;
    for (float t : candidates) best = std::max(best, AccuracyAt(in, t));
    EXPECT_NEAR(r.score, best, 1e-12) << "trial " << trial;
    EXPECT_NEAR(AccuracyAt(in, r.threshold), r.score, 1e-12)
        << "trial " << trial << " threshold " << r.threshold;
    // Ties go to the lowest threshold: every cut that rejects fewer examples scores less.
    for (float t : candidates) {
      if (RejectedAt(in, t) < RejectedAt(in, r.threshold)) {
        EXPECT_LT(AccuracyAt(in, t), r.score) << "trial " << trial << " t " << t;
      }
    }
  }
  EXPECT_GT(calibrated, 20) << "the random cases should often call for rejection";
}

// ---------------------------------------------------------------------------------------------
// Sigmoid

TEST(CalibrationTest, SigmoidGridPicksLowestBestThreshold) {
  CalibrationInput in;
  in.kind = OutputKind::kSigmoid;
  in.num_labels = 2;
  in.gold = {{0}, {0, 1}, {}, {1}};
  in.probs = {0.70f, 0.20f,   // right for t in (.20, .70]
              0.80f, 0.38f,   // right for t <= .38
              0.27f, 0.10f,   // empty set: right for t > .27
              0.10f, 0.60f};  // right for t in (.10, .60]
  // All four are right for t in (.27, .38]: grid points .30 and .35; the lower one wins.
  // The default .5 gets only 3 of 4.
  const CalibrationResult r = CalibrateThreshold(in);
  EXPECT_NEAR(r.threshold, 0.30f, 1e-6);
  EXPECT_NEAR(r.score, 1.0, 1e-12);
  EXPECT_NE(r.explanation.find("4 validation examples"), std::string::npos) << r.explanation;
}

TEST(CalibrationTest, SigmoidThresholdIsOnTheGrid) {
  CalibrationInput in;
  in.kind = OutputKind::kSigmoid;
  in.num_labels = 1;
  in.gold = {{0}, {}};
  in.probs = {0.93f, 0.91f};  // only t in (.91, .93] separates them: grid .95 is too high
  const CalibrationResult r = CalibrateThreshold(in);
  // No grid point separates them; one of the two is always right: score 1/2 at the lowest t.
  EXPECT_NEAR(r.score, 0.5, 1e-12);
  EXPECT_NEAR(r.threshold, 0.05f, 1e-6);

  in.probs = {0.97f, 0.91f};  // now .95 separates them
  const CalibrationResult r2 = CalibrateThreshold(in);
  EXPECT_NEAR(r2.threshold, 0.95f, 1e-6);
  EXPECT_NEAR(r2.score, 1.0, 1e-12);
}

TEST(CalibrationTest, SigmoidWithoutValidationDataDefaultsToHalf) {
  CalibrationInput in;
  in.kind = OutputKind::kSigmoid;
  in.num_labels = 3;
  const CalibrationResult r = CalibrateThreshold(in);
  EXPECT_EQ(r.threshold, 0.5f);
}

}  // namespace
}  // namespace fastintent
