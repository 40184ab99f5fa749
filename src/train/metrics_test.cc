// Tests of MetricsBuilder against small cases computed by hand.
#include "train/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fastintent {
namespace {

using Ids = std::vector<uint32_t>;
constexpr double kEps = 1e-12;

const LabelMetrics* Find(const Metrics& m, const std::string& label) {
  for (const LabelMetrics& l : m.per_label)
    if (l.label == label) return &l;
  return nullptr;
}

TEST(MetricsTest, SingleLabelPrecisionRecallF1AndMacro) {
  MetricsBuilder b({"a", "b", "c"}, /*multi_label=*/false, /*oos_label=*/-1);
  b.Add({0}, {0});  // a right
  b.Add({0}, {1});  // a -> b
  b.Add({1}, {1});  // b right
  b.Add({2}, {2});  // c right
  b.Add({2}, {0});  // c -> a
  b.Add({1}, {1});  // b right
  const Metrics m = b.Compute();
  EXPECT_EQ(m.examples, 6u);
  EXPECT_FALSE(m.multi_label);
  EXPECT_FALSE(m.has_oos);
  EXPECT_NEAR(m.accuracy, 4.0 / 6, kEps);
  ASSERT_EQ(m.per_label.size(), 3u);
  // a: tp 1, fp 1 (c -> a), fn 1 (a -> b).
  EXPECT_EQ(m.per_label[0].label, "a");
  EXPECT_NEAR(m.per_label[0].precision, 0.5, kEps);
  EXPECT_NEAR(m.per_label[0].recall, 0.5, kEps);
  EXPECT_NEAR(m.per_label[0].f1, 0.5, kEps);
  EXPECT_EQ(m.per_label[0].support, 2u);
  // b: tp 2, fp 1, fn 0.
  EXPECT_EQ(m.per_label[1].label, "b");
  EXPECT_NEAR(m.per_label[1].precision, 2.0 / 3, kEps);
  EXPECT_NEAR(m.per_label[1].recall, 1.0, kEps);
  EXPECT_NEAR(m.per_label[1].f1, 0.8, kEps);
  EXPECT_EQ(m.per_label[1].support, 2u);
  // c: tp 1, fp 0, fn 1.
  EXPECT_EQ(m.per_label[2].label, "c");
  EXPECT_NEAR(m.per_label[2].precision, 1.0, kEps);
  EXPECT_NEAR(m.per_label[2].recall, 0.5, kEps);
  EXPECT_NEAR(m.per_label[2].f1, 2.0 / 3, kEps);
  EXPECT_NEAR(m.macro_f1, (0.5 + 0.8 + 2.0 / 3) / 3, kEps);
}

TEST(MetricsTest, LabelsNeverSeenAreLeftOutOfPerLabelAndMacro) {
  MetricsBuilder b({"a", "b", "unused"}, false, -1);
  b.Add({0}, {0});
  b.Add({1}, {0});  // b -> a: a P 1/2 R 1 F1 2/3; b P 0 R 0 F1 0
  const Metrics m = b.Compute();
  ASSERT_EQ(m.per_label.size(), 2u);
  EXPECT_EQ(Find(m, "unused"), nullptr);
  const LabelMetrics* b_metrics = Find(m, "b");
  ASSERT_NE(b_metrics, nullptr);
  EXPECT_EQ(b_metrics->precision, 0.0);  // no prediction of b: 0, not NaN
  EXPECT_EQ(b_metrics->f1, 0.0);
  EXPECT_NEAR(m.macro_f1, (2.0 / 3 + 0.0) / 2, kEps);
}

TEST(MetricsTest, LabelOnlyPredictedCountsWithZeroSupport) {
  MetricsBuilder b({"a", "b"}, false, -1);
  b.Add({0}, {1});
  const Metrics m = b.Compute();
  const LabelMetrics* bm = Find(m, "b");
  ASSERT_NE(bm, nullptr);
  EXPECT_EQ(bm->support, 0u);
  EXPECT_EQ(bm->recall, 0.0);
  EXPECT_EQ(m.accuracy, 0.0);
}

TEST(MetricsTest, MultiLabelExactMatchMicroAndMacro) {
  MetricsBuilder b({"x", "y", "z"}, /*multi_label=*/true, -1);
  b.Add({0, 1}, {0});  // y missed
  b.Add({1}, {2, 1});  // z extra; order of the prediction does not matter
  b.Add({2}, {2});     // exact
  const Metrics m = b.Compute();
  EXPECT_TRUE(m.multi_label);
  EXPECT_FALSE(m.has_oos);
  EXPECT_NEAR(m.accuracy, 1.0 / 3, kEps);
  // tp 3 (x, y, z once each), fp 1 (z in #2), fn 1 (y in #1): micro-F1 = 6 / 8.
  EXPECT_NEAR(m.micro_f1, 0.75, kEps);
  // x: F1 1; y: P 1 R 1/2 F1 2/3; z: P 1/2 R 1 F1 2/3.
  EXPECT_NEAR(m.macro_f1, (1.0 + 2.0 / 3 + 2.0 / 3) / 3, kEps);
  EXPECT_EQ(Find(m, "y")->support, 2u);
  EXPECT_EQ(Find(m, "z")->support, 1u);
}

TEST(MetricsTest, MultiLabelEmptyGoldSetIsOutOfScope) {
  MetricsBuilder b({"x", "y"}, true, -1);
  b.Add({}, {});      // nothing needed, nothing predicted: right
  b.Add({}, {1});     // nothing needed, y predicted: wrong
  b.Add({0}, {0});    // in scope, right
  b.Add({0, 1}, {});  // in scope, nothing predicted: wrong
  const Metrics m = b.Compute();
  EXPECT_TRUE(m.has_oos);
  EXPECT_EQ(m.oos_examples, 2u);
  EXPECT_EQ(m.in_scope_examples, 2u);
  EXPECT_NEAR(m.oos_recall, 0.5, kEps);
  EXPECT_NEAR(m.in_scope_accuracy, 0.5, kEps);
  EXPECT_NEAR(m.accuracy, 2.0 / 4, kEps);  // the empty-set match counts once, not twice
  // tp 1 (x), fp 1 (y), fn 2 (x, y in #4): micro = 2 / (2 + 1 + 2).
  EXPECT_NEAR(m.micro_f1, 2.0 / 5, kEps);
}

TEST(MetricsTest, OutOfScopeRecallWithRejection) {
  // Labels a, b, oos (id 2). An empty prediction is a rejection.
  MetricsBuilder b({"a", "b", "oos"}, false, /*oos_label=*/2);
  b.Add({0}, {0});  // in scope, right
  b.Add({0}, {});   // in scope, rejected: wrong
  b.Add({2}, {});   // oos, rejected: right
  b.Add({2}, {2});  // oos, predicted as the oos label: right
  b.Add({2}, {0});  // oos, predicted a: wrong
  b.Add({1}, {1});  // in scope, right
  const Metrics m = b.Compute();
  EXPECT_TRUE(m.has_oos);
  EXPECT_EQ(m.in_scope_examples, 3u);
  EXPECT_EQ(m.oos_examples, 3u);
  EXPECT_NEAR(m.in_scope_accuracy, 2.0 / 3, kEps);
  EXPECT_NEAR(m.oos_recall, 2.0 / 3, kEps);
  EXPECT_NEAR(m.accuracy, 4.0 / 6, kEps);  // #1, #3, #4, #6
  // a: tp 1, fp 1 (#5), fn 1 (#2).
  const LabelMetrics* a = Find(m, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_NEAR(a->precision, 0.5, kEps);
  EXPECT_NEAR(a->recall, 0.5, kEps);
}

TEST(MetricsTest, WithoutOutOfScopeLabelNothingIsOutOfScope) {
  MetricsBuilder b({"a", "b"}, false, -1);
  b.Add({0}, {});  // rejected in-scope example: wrong, and not out of scope
  b.Add({1}, {1});
  const Metrics m = b.Compute();
  EXPECT_FALSE(m.has_oos);
  EXPECT_EQ(m.oos_examples, 0u);
  EXPECT_EQ(m.in_scope_examples, 2u);
  EXPECT_NEAR(m.accuracy, 0.5, kEps);
  EXPECT_NEAR(m.in_scope_accuracy, 0.5, kEps);
}

TEST(MetricsTest, EmptyBuilderGivesZerosNotNaN) {
  const Metrics m = MetricsBuilder({"a", "b"}, false, -1).Compute();
  EXPECT_EQ(m.examples, 0u);
  EXPECT_EQ(m.accuracy, 0.0);
  EXPECT_EQ(m.macro_f1, 0.0);
  EXPECT_EQ(m.micro_f1, 0.0);
  EXPECT_EQ(m.oos_recall, 0.0);
  EXPECT_TRUE(m.per_label.empty());
}

}  // namespace
}  // namespace fastintent
