// Every kernel on every SIMD target compiled into this binary (built with HWY_IS_TEST=1, so
// that includes SCALAR), compared with the scalar reference; then the dispatched entry points
// of fi_kernels, once per target the library was built for.
#include "kernels/kernels.h"

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "gtest/gtest.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/kernels_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/hwy_gtest.h"
#include "kernels/kernels-inl.h"

// Target-independent helpers, compiled once (this file is included once per target).
#ifndef FASTINTENT_KERNELS_KERNELS_TEST_HELPERS_
#define FASTINTENT_KERNELS_KERNELS_TEST_HELPERS_
namespace fastintent::kernels::test {

// Sizes for kernels whose size must be a multiple of kFloatPad, and for "any count" kernels.
inline const std::vector<size_t>& PaddedSizes() {
  static const std::vector<size_t> sizes = {16, 32, 48, 64, 256, 512, 4096};
  return sizes;
}
inline const std::vector<size_t>& AnySizes() {
  static const std::vector<size_t> sizes = {1,  2,  3,  4,  5,  7,   8,   9,   15,   16,   17,
                                            31, 32, 33, 63, 65, 150, 151, 256, 1000, 1023, 4097};
  return sizes;
}

// A padded, 64-byte aligned buffer of `n` uniform random floats in [lo, hi).
inline AlignedBuffer<float> Random(size_t n, std::mt19937& rng, float lo = -1, float hi = 1) {
  AlignedBuffer<float> b(n);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (size_t i = 0; i < n; ++i) b[i] = dist(rng);
  return b;
}

// An exactly sized heap array (so AddressSanitizer flags any access past n), for "any count"
// kernels, which promise to touch x[0, n) only.
inline std::unique_ptr<float[]> Exact(const float* src, size_t n) {
  std::unique_ptr<float[]> p(new float[n]);
  std::copy(src, src + n, p.get());
  return p;
}

// |got - want| <= rel * scale + abs, where scale defaults to |want|.
inline ::testing::AssertionResult Near(float got, float want, double rel, double abs,
                                       double scale = -1) {
  if (scale < 0) scale = std::fabs(double(want));
  const double tol = rel * scale + abs;
  if (std::isnan(got) == std::isnan(want) &&
      (std::isnan(got) || std::fabs(double(got) - want) <= tol)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << got << ", want " << want << " (diff "
                                       << double(got) - want << ", tol " << tol << ")";
}

// Elementwise Near over n floats; reports the first mismatch with its index and `what`.
inline ::testing::AssertionResult AllNear(const float* got, const float* want, size_t n, double rel,
                                          double abs, const std::string& what,
                                          const double* scale = nullptr) {
  for (size_t i = 0; i < n; ++i) {
    auto r = Near(got[i], want[i], rel, abs, scale ? scale[i] : -1);
    if (!r) return r << " at [" << i << "] of " << n << " in " << what;
  }
  return ::testing::AssertionSuccess();
}

inline constexpr float kFltEps = std::numeric_limits<float>::epsilon();  // 2^-23

}  // namespace fastintent::kernels::test
#endif  // FASTINTENT_KERNELS_KERNELS_TEST_HELPERS_

HWY_BEFORE_NAMESPACE();
namespace fastintent::kernels::HWY_NAMESPACE {
namespace ft = fastintent::kernels::test;

// "Any count" kernels must not write past x[n): checked with sentinels in a larger buffer
// (complements the exact-size allocations, which only sanitizers check).
template <class Kernel>
void ExpectNoWritePastEnd(size_t n, const Kernel& kernel, const char* name) {
  constexpr float kSentinel = 12345.0f;
  std::vector<float> x(n + 64, kSentinel);
  for (size_t i = 0; i < n; ++i) x[i] = 0.25f * float(i % 7) - 0.5f;
  kernel(x.data(), n);
  for (size_t i = n; i < x.size(); ++i) {
    ASSERT_EQ(x[i], kSentinel) << name << " wrote x[" << i << "] with n = " << n;
  }
}

void TestSparseAccumulate() {
  std::mt19937 rng(1);
  constexpr size_t kTableRows = 997;
  for (size_t n : {16, 32, 48, 256, 512}) {
    const size_t stride = n + (n == 48 ? 16 : 0);  // also a stride wider than n
    const auto table = ft::Random(kTableRows * stride, rng);
    for (size_t count : {0, 1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 120, 300}) {
      std::uniform_int_distribution<uint32_t> pick(0, kTableRows - 1);
      std::vector<uint32_t> rows(count);
      for (auto& r : rows) r = pick(rng);
      if (count > 2) rows[1] = rows[0];                 // repeated rows
      if (count > 3) rows[count - 1] = kTableRows - 1;  // the last row of the table
      const auto weights = ft::Random(count, rng, -2, 2);
      const auto init = ft::Random(n, rng);
      AlignedBuffer<float> got(n), want(n);
      std::copy(init.data(), init.data() + n, got.data());
      std::copy(init.data(), init.data() + n, want.data());
      SparseAccumulate(table.data(), stride, rows.data(), weights.data(), count, got.data(), n);
      reference::SparseAccumulate(table.data(), stride, rows.data(), weights.data(), count,
                                  want.data(), n);
      // Same summation order as the reference; fused multiply-adds round differently, one
      // rounding per term (worst case ~count, typically ~sqrt(count) ulps of the magnitude sum).
      std::vector<double> scale(n);
      for (size_t j = 0; j < n; ++j) {
        double s = std::fabs(init[j]);
        for (size_t k = 0; k < count; ++k) s += std::fabs(weights[k] * table[rows[k] * stride + j]);
        scale[j] = s;
      }
      ASSERT_TRUE(ft::AllNear(
          got.data(), want.data(), n, 2 * ft::kFltEps * (1 + std::sqrt(double(count))), 0,
          "SparseAccumulate n=" + std::to_string(n) + " count=" + std::to_string(count),
          scale.data()));
    }
  }
}

void TestAxpy() {
  std::mt19937 rng(2);
  for (size_t n : ft::PaddedSizes()) {
    const auto x = ft::Random(n, rng);
    const auto y0 = ft::Random(n, rng);
    for (float a : {0.0f, 1.0f, -0.37f, 1e3f}) {
      AlignedBuffer<float> got(n), want(n);
      std::copy(y0.data(), y0.data() + n, got.data());
      std::copy(y0.data(), y0.data() + n, want.data());
      Axpy(a, x.data(), got.data(), n);
      reference::Axpy(a, x.data(), want.data(), n);
      std::vector<double> scale(n);
      for (size_t j = 0; j < n; ++j) scale[j] = std::fabs(a * x[j]) + std::fabs(y0[j]);
      ASSERT_TRUE(ft::AllNear(got.data(), want.data(), n, ft::kFltEps, 0,
                              "Axpy n=" + std::to_string(n), scale.data()));
    }
  }
}

void TestDot() {
  std::mt19937 rng(3);
  for (size_t n : ft::PaddedSizes()) {
    const auto a = ft::Random(n, rng);
    const auto b = ft::Random(n, rng, -3, 3);
    double scale = 0;
    for (size_t j = 0; j < n; ++j) scale += std::fabs(double(a[j]) * b[j]);
    // Float accumulation in lanes; the reference accumulates in double.
    ASSERT_TRUE(ft::Near(Dot(a.data(), b.data(), n), reference::Dot(a.data(), b.data(), n),
                         2 * ft::kFltEps * std::sqrt(double(n)), 0, scale))
        << "Dot n=" << n;
  }
  // All-equal terms: an exact result.
  AlignedBuffer<float> ones(512);
  for (size_t j = 0; j < 512; ++j) ones[j] = 1.0f;
  ASSERT_EQ(Dot(ones.data(), ones.data(), 512), 512.0f);
}

void TestMatVec() {
  std::mt19937 rng(4);
  for (size_t cols : {16, 32, 48, 256, 512}) {
    for (size_t rows : {1, 2, 3, 4, 5, 7, 8, 9, 150, 151}) {
      const auto w = ft::Random(rows * cols, rng);
      const auto x = ft::Random(cols, rng);
      const auto bias = ft::Random(rows, rng);
      auto got = ft::Exact(bias.data(), rows);  // any count: exact size
      std::vector<float> want(rows);
      MatVec(w.data(), rows, cols, x.data(), bias.data(), got.get());
      reference::MatVec(w.data(), rows, cols, x.data(), bias.data(), want.data());
      std::vector<double> scale(rows);
      for (size_t r = 0; r < rows; ++r) {
        double s = std::fabs(bias[r]);
        for (size_t j = 0; j < cols; ++j) s += std::fabs(double(w[r * cols + j]) * x[j]);
        scale[r] = s;
      }
      ASSERT_TRUE(ft::AllNear(
          got.get(), want.data(), rows, 2 * ft::kFltEps * std::sqrt(double(cols)), 0,
          "MatVec rows=" + std::to_string(rows) + " cols=" + std::to_string(cols), scale.data()));
    }
  }
}

void TestBiasRelu() {
  std::mt19937 rng(5);
  for (size_t n : ft::PaddedSizes()) {
    const auto bias = ft::Random(n, rng);
    const auto x0 = ft::Random(n, rng);
    AlignedBuffer<float> got(n), want(n);
    std::copy(x0.data(), x0.data() + n, got.data());
    std::copy(x0.data(), x0.data() + n, want.data());
    BiasRelu(bias.data(), got.data(), n);
    reference::BiasRelu(bias.data(), want.data(), n);
    for (size_t j = 0; j < n; ++j) ASSERT_EQ(got[j], want[j]) << "BiasRelu n=" << n << " j=" << j;
  }
}

// Softmax output must be within 1e-6 relative of the std::exp based reference (and 1e-38
// absolute: results in the subnormal range carry fewer significant bits).
void CheckSoftmax(const float* in, size_t n, const std::string& what) {
  auto got = ft::Exact(in, n);
  std::vector<float> want(in, in + n);
  Softmax(got.get(), n);
  reference::Softmax(want.data(), n);
  ASSERT_TRUE(ft::AllNear(got.get(), want.data(), n, 1e-6, 1e-38, what));
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += got[i];
  ASSERT_NEAR(sum, 1.0, 1e-5) << what;
}

void TestSoftmax() {
  std::mt19937 rng(6);
  for (size_t n : ft::AnySizes()) {
    for (float range : {1.0f, 10.0f, 60.0f}) {
      const auto x = ft::Random(n, rng, -range, range);
      ASSERT_NO_FATAL_FAILURE(CheckSoftmax(
          x.data(), n, "Softmax n=" + std::to_string(n) + " range=" + std::to_string(range)));
    }
  }
  // Huge and hugely negative logits, the max in the tail, differences in the subnormal range.
  for (size_t n : {1, 5, 17, 33, 150}) {
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = (i % 3 == 0) ? -1e30f : 1e30f - float(i) * 1e24f;
    ASSERT_NO_FATAL_FAILURE(CheckSoftmax(x.data(), n, "Softmax huge n=" + std::to_string(n)));
    for (size_t i = 0; i < n; ++i) x[i] = -3e38f + float(i);
    ASSERT_NO_FATAL_FAILURE(
        CheckSoftmax(x.data(), n, "Softmax very negative n=" + std::to_string(n)));
    for (size_t i = 0; i < n; ++i) x[i] = -0.9f * float(i);
    x[n - 1] = 50.0f;  // max in the last element (a tail lane for most n)
    ASSERT_NO_FATAL_FAILURE(CheckSoftmax(x.data(), n, "Softmax max last n=" + std::to_string(n)));
    for (size_t i = 0; i < n; ++i) x[i] = (i == n / 2) ? 0.0f : -80.0f - 0.7f * float(i);
    ASSERT_NO_FATAL_FAILURE(CheckSoftmax(x.data(), n, "Softmax subnormal n=" + std::to_string(n)));
    for (size_t i = 0; i < n; ++i) x[i] = 7.0f;
    ASSERT_NO_FATAL_FAILURE(CheckSoftmax(x.data(), n, "Softmax uniform n=" + std::to_string(n)));
  }
  ExpectNoWritePastEnd(
      33, [](float* x, size_t n) { Softmax(x, n); }, "Softmax");
}

void TestSigmoid() {
  std::mt19937 rng(7);
  for (size_t n : ft::AnySizes()) {
    const auto x = ft::Random(n, rng, -20, 20);
    auto got = ft::Exact(x.data(), n);
    std::vector<float> want(x.data(), x.data() + n);
    Sigmoid(got.get(), n);
    reference::Sigmoid(want.data(), n);
    ASSERT_TRUE(ft::AllNear(got.get(), want.data(), n, 1e-6, 0, "Sigmoid n=" + std::to_string(n)));
  }
  const float edge[] = {-std::numeric_limits<float>::infinity(),
                        -1e30f,
                        -200.0f,
                        -104.5f,
                        -100.0f,
                        -90.0f,
                        -88.0f,
                        -80.0f,
                        -30.0f,
                        -1e-30f,
                        -0.0f,
                        0.0f,
                        1e-30f,
                        0.5f,
                        30.0f,
                        88.0f,
                        100.0f,
                        1e30f,
                        std::numeric_limits<float>::infinity()};
  const size_t n = sizeof(edge) / sizeof(edge[0]);
  auto got = ft::Exact(edge, n);
  std::vector<float> want(edge, edge + n);
  Sigmoid(got.get(), n);
  reference::Sigmoid(want.data(), n);
  ASSERT_TRUE(ft::AllNear(got.get(), want.data(), n, 1e-6, 1e-38, "Sigmoid edge cases"));
  ASSERT_EQ(got[0], 0.0f);      // sigmoid(-inf)
  ASSERT_EQ(got[4], 0.0f);      // sigmoid(-100) underflows to 0 with std::exp too
  ASSERT_EQ(got[n - 3], 1.0f);  // sigmoid(100)
  ASSERT_EQ(got[n - 1], 1.0f);  // sigmoid(inf)
  ExpectNoWritePastEnd(
      17, [](float* x, size_t n) { Sigmoid(x, n); }, "Sigmoid");
}

void TestL2Normalize() {
  std::mt19937 rng(8);
  for (size_t n : ft::AnySizes()) {
    for (float range : {1e-20f, 1.0f, 1e20f}) {  // sums of squares beyond float range too
      const auto x = ft::Random(n, rng, -range, range);
      auto got = ft::Exact(x.data(), n);
      std::vector<float> want(x.data(), x.data() + n);
      const float got_norm = L2Normalize(got.get(), n);
      const float want_norm = reference::L2Normalize(want.data(), n);
      const std::string what =
          "L2Normalize n=" + std::to_string(n) + " range=" + std::to_string(range);
      ASSERT_TRUE(ft::Near(got_norm, want_norm, 2 * ft::kFltEps, 0)) << what;
      ASSERT_TRUE(ft::AllNear(got.get(), want.data(), n, 2 * ft::kFltEps, 0, what));
    }
    std::vector<float> zero(n, 0.0f);
    auto z = ft::Exact(zero.data(), n);
    ASSERT_EQ(L2Normalize(z.get(), n), 0.0f) << "n=" << n;
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(z[i], 0.0f);
  }
  std::vector<float> unit(9, 0.0f);
  unit[8] = -3.0f;
  ASSERT_EQ(L2Normalize(unit.data(), 9), 3.0f);
  ASSERT_EQ(unit[8], -1.0f);
  ExpectNoWritePastEnd(
      33, [](float* x, size_t n) { L2Normalize(x, n); }, "L2Normalize");
}

// Each step starts both implementations from the same state, so that differences do not
// compound. Compilers may fuse the multiply-adds of either side (GCC does for AVX2/AVX3 and
// NEON), so allow a few roundings of each term's magnitude.
void TestAdamStep() {
  std::mt19937 rng(10);
  const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.01f;
  for (size_t n : ft::PaddedSizes()) {
    AlignedBuffer<float> w = ft::Random(n, rng), m = ft::Random(n, rng, -0.1f, 0.1f);
    AlignedBuffer<float> v = ft::Random(n, rng, 0, 0.01f);
    AlignedBuffer<float> rw(n), rm(n), rv(n);
    v[0] = 0.0f;  // sqrt(0) + eps
    for (int t = 1; t <= 3; ++t) {
      const auto g = ft::Random(n, rng);
      const float bc1 = 1 - std::pow(b1, float(t)), bc2 = 1 - std::pow(b2, float(t));
      std::copy(w.data(), w.data() + n, rw.data());
      std::copy(m.data(), m.data() + n, rm.data());
      std::copy(v.data(), v.data() + n, rv.data());
      std::vector<double> m_scale(n), v_scale(n), w_scale(n);
      for (size_t j = 0; j < n; ++j) {
        m_scale[j] = std::fabs(b1 * m[j]) + std::fabs((1 - b1) * g[j]);
        v_scale[j] = b2 * v[j] + (1 - b2) * double(g[j]) * g[j];
        const double den = std::sqrt(v_scale[j] / bc2) + eps;
        w_scale[j] = std::fabs(w[j]) + lr * (m_scale[j] / bc1 / den + std::fabs(wd * w[j]));
      }
      AdamStep(w.data(), m.data(), v.data(), g.data(), n, lr, b1, b2, eps, wd, bc1, bc2);
      reference::AdamStep(rw.data(), rm.data(), rv.data(), g.data(), n, lr, b1, b2, eps, wd, bc1,
                          bc2);
      const std::string what = "AdamStep n=" + std::to_string(n) + " t=" + std::to_string(t);
      ASSERT_TRUE(ft::AllNear(m.data(), rm.data(), n, ft::kFltEps, 0, what + " m", m_scale.data()));
      ASSERT_TRUE(ft::AllNear(v.data(), rv.data(), n, ft::kFltEps, 0, what + " v", v_scale.data()));
      ASSERT_TRUE(
          ft::AllNear(w.data(), rw.data(), n, 2 * ft::kFltEps, 0, what + " w", w_scale.data()));
    }
  }
}

void TestTargetName() { EXPECT_STREQ(TargetName(), hwy::TargetName(HWY_TARGET)); }

}  // namespace fastintent::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace fastintent::kernels {

HWY_BEFORE_TEST(KernelsTest);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestSparseAccumulate);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestAxpy);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestDot);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestMatVec);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestBiasRelu);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestSoftmax);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestSigmoid);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestL2Normalize);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestAdamStep);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestTargetName);

namespace {

namespace ft = fastintent::kernels::test;

// The targets fi_kernels was compiled for: kernels.cc is built without HWY_IS_TEST, so it gets
// Highway's default policy (attainable targets no worse than the baseline), while this file
// gets every attainable target. Mirrors the default branch of hwy/detect_targets.h (1.0.3).
constexpr int64_t kLibraryTargets =
    HWY_ATTAINABLE_TARGETS & ((HWY_STATIC_TARGET - 1LL) | HWY_STATIC_TARGET);

// Restores Highway's real CPU detection when a test ends, however it ends.
struct TargetOverride {
  explicit TargetOverride(int64_t target) { hwy::SetSupportedTargetsForTest(target); }
  ~TargetOverride() { hwy::SetSupportedTargetsForTest(0); }
};

// One call of every public entry point, compared with the reference (the per-target tests above
// cover the numerics in depth; this checks the dispatch and the wrappers' argument passing).
void CheckDispatchedKernels(const std::string& what) {
  std::mt19937 rng(11);
  constexpr size_t n = 256, rows = 37, table_rows = 300;
  const auto table = ft::Random(table_rows * n, rng);
  std::vector<uint32_t> ids(120);
  for (size_t k = 0; k < ids.size(); ++k) ids[k] = uint32_t((k * 7919) % table_rows);
  const auto weights = ft::Random(ids.size(), rng);
  AlignedBuffer<float> got(n), want(n);
  SparseAccumulate(table.data(), n, ids.data(), weights.data(), ids.size(), got.data(), n);
  reference::SparseAccumulate(table.data(), n, ids.data(), weights.data(), ids.size(), want.data(),
                              n);
  EXPECT_TRUE(ft::AllNear(got.data(), want.data(), n, 1e-5, 1e-5, what + " SparseAccumulate"));

  const auto x = ft::Random(n, rng);
  Axpy(0.5f, x.data(), got.data(), n);
  reference::Axpy(0.5f, x.data(), want.data(), n);
  EXPECT_TRUE(ft::AllNear(got.data(), want.data(), n, 1e-5, 1e-5, what + " Axpy"));

  EXPECT_TRUE(ft::Near(Dot(x.data(), table.data(), n), reference::Dot(x.data(), table.data(), n),
                       1e-5, 1e-5))
      << what << " Dot";

  const auto bias = ft::Random(rows, rng);
  std::vector<float> y(rows), ry(rows);
  MatVec(table.data(), rows, n, x.data(), bias.data(), y.data());
  reference::MatVec(table.data(), rows, n, x.data(), bias.data(), ry.data());
  EXPECT_TRUE(ft::AllNear(y.data(), ry.data(), rows, 1e-5, 1e-5, what + " MatVec"));

  BiasRelu(x.data(), got.data(), n);
  reference::BiasRelu(x.data(), want.data(), n);
  EXPECT_TRUE(ft::AllNear(got.data(), want.data(), n, 1e-5, 1e-5, what + " BiasRelu"));

  std::vector<float> s(y), rs(y);
  Softmax(s.data(), rows);
  reference::Softmax(rs.data(), rows);
  EXPECT_TRUE(ft::AllNear(s.data(), rs.data(), rows, 1e-6, 1e-38, what + " Softmax"));

  s = y, rs = y;
  Sigmoid(s.data(), rows);
  reference::Sigmoid(rs.data(), rows);
  EXPECT_TRUE(ft::AllNear(s.data(), rs.data(), rows, 1e-6, 0, what + " Sigmoid"));

  s = y, rs = y;
  EXPECT_TRUE(
      ft::Near(L2Normalize(s.data(), rows), reference::L2Normalize(rs.data(), rows), 1e-6, 0))
      << what << " L2Normalize";
  EXPECT_TRUE(ft::AllNear(s.data(), rs.data(), rows, 1e-6, 0, what + " L2Normalize"));

  s = y, rs = y;
  GatherScale(table.data(), ids.data(), s.data(), rows);
  reference::GatherScale(table.data(), ids.data(), rs.data(), rows);
  EXPECT_TRUE(ft::AllNear(s.data(), rs.data(), rows, 0, 0, what + " GatherScale"));

  AlignedBuffer<float> w(n), m(n), v(n), rw(n), rm(n), rv(n);
  std::copy(x.data(), x.data() + n, w.data());
  std::copy(x.data(), x.data() + n, rw.data());
  AdamStep(w.data(), m.data(), v.data(), table.data(), n, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.1f,
           0.001f);
  reference::AdamStep(rw.data(), rm.data(), rv.data(), table.data(), n, 0.01f, 0.9f, 0.999f, 1e-8f,
                      0.01f, 0.1f, 0.001f);
  EXPECT_TRUE(ft::AllNear(w.data(), rw.data(), n, 1e-6, 0, what + " AdamStep"));
}

TEST(KernelsDispatchTest, DefaultTargetIsTheBestSupported) {
  hwy::SetSupportedTargetsForTest(0);
  // Dispatch first: in Highway 1.0.3 a direct call of SupportedTargets() initialises the chosen
  // target without the vector-length-specific Arm targets (SVE2_128, SVE_256), and dispatch
  // would then keep that choice. Resetting afterwards lets the next call choose afresh.
  const std::string active = ActiveTarget();
  const int64_t usable = hwy::SupportedTargets() & kLibraryTargets;
  hwy::SetSupportedTargetsForTest(0);
  ASSERT_NE(usable, 0);
  const int64_t best = usable & -usable;  // lowest bit = best target
  EXPECT_EQ(active, hwy::TargetName(best));
  EXPECT_EQ(active, ActiveTarget());
  std::printf("[          ] dispatched target on this CPU: %s\n", ActiveTarget());
  CheckDispatchedKernels(ActiveTarget());
}

TEST(KernelsDispatchTest, EveryLibraryTarget) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    if (!(target & kLibraryTargets)) continue;
    TargetOverride override_targets(target);
    EXPECT_STREQ(ActiveTarget(), hwy::TargetName(target));
    CheckDispatchedKernels(hwy::TargetName(target));
  }
}

}  // namespace
}  // namespace fastintent::kernels
#endif  // HWY_ONCE
