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

// A 64-byte aligned buffer of `n` uniform random integers in [lo, hi] (int8 weights, int16
// activations).
template <typename T>
inline AlignedBuffer<T> RandomInt(size_t n, std::mt19937& rng, int lo, int hi) {
  AlignedBuffer<T> b(n);
  std::uniform_int_distribution<int> dist(lo, hi);
  for (size_t i = 0; i < n; ++i) b[i] = T(dist(rng));
  return b;
}

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

// --- Reduced precision ---

void TestSparseAccumulateI8() {
  std::mt19937 rng(12);
  constexpr size_t kTableRows = 997;
  for (size_t n : {16, 32, 48, 256, 512}) {
    const size_t stride = n + (n == 48 ? 16 : 0);  // also a stride wider than n
    // The table needs no alignment: start it one byte into an aligned buffer.
    auto storage = ft::RandomInt<int8_t>(kTableRows * stride + 1, rng, -127, 127);
    int8_t* table = storage.data() + 1;
    for (size_t j = 0; j < stride; ++j) {  // extreme rows: all +127, all -127
      table[0 * stride + j] = 127;
      table[1 * stride + j] = -127;
    }
    const auto row_scale = ft::Random(kTableRows, rng, 1e-3f, 2e-2f);
    for (size_t count : {0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 120, 300}) {
      std::uniform_int_distribution<uint32_t> pick(0, kTableRows - 1);
      std::vector<uint32_t> rows(count);
      for (auto& r : rows) r = pick(rng);
      if (count > 2) rows[1] = rows[0];                      // repeated rows
      if (count > 3) rows[count - 1] = kTableRows - 1;       // the last row of the table
      if (count > 5) rows[2] = 0, rows[3] = 1, rows[4] = 0;  // the extreme rows, one repeated
      const auto weights = ft::Random(count, rng, -2, 2);
      const auto init = ft::Random(n, rng);
      AlignedBuffer<float> got(n), want(n);
      std::copy(init.data(), init.data() + n, got.data());
      std::copy(init.data(), init.data() + n, want.data());
      SparseAccumulateI8(table, stride, row_scale.data(), rows.data(), weights.data(), count,
                         got.data(), n);
      reference::SparseAccumulateI8(table, stride, row_scale.data(), rows.data(), weights.data(),
                                    count, want.data(), n);
      // As SparseAccumulate: same order, the coefficient weights[k] * row_scale[row] rounded
      // once on both sides, then fused multiply-adds (one rounding per term instead of two).
      std::vector<double> scale(n);
      for (size_t j = 0; j < n; ++j) {
        double s = std::fabs(init[j]);
        for (size_t k = 0; k < count; ++k)
          s += std::fabs(double(weights[k] * row_scale[rows[k]]) * table[rows[k] * stride + j]);
        scale[j] = s;
      }
      const std::string what =
          "SparseAccumulateI8 n=" + std::to_string(n) + " count=" + std::to_string(count);
      ASSERT_TRUE(ft::AllNear(got.data(), want.data(), n,
                              2 * ft::kFltEps * (1 + std::sqrt(double(count))), 0, what,
                              scale.data()));

      // Dyadic coefficients and a zero start: every partial sum is exact, so the result must
      // equal the reference bit for bit (catches a wrong row, lane or coefficient outright).
      std::vector<float> pow2(count);
      std::vector<float> unit_scale(kTableRows, 0.25f);
      for (size_t k = 0; k < count; ++k) pow2[k] = float(int(k % 5) - 2) * 0.5f;  // -1 .. 1
      std::fill(got.data(), got.data() + n, 0.0f);
      std::fill(want.data(), want.data() + n, 0.0f);
      SparseAccumulateI8(table, stride, unit_scale.data(), rows.data(), pow2.data(), count,
                         got.data(), n);
      reference::SparseAccumulateI8(table, stride, unit_scale.data(), rows.data(), pow2.data(),
                                    count, want.data(), n);
      for (size_t j = 0; j < n; ++j) ASSERT_EQ(got[j], want[j]) << what << " exact, j=" << j;
    }
  }
}

// QuantizeI16 must agree with the reference exactly: the same max, the same float product, the
// same round-half-even.
void CheckQuantizeI16(const float* x, size_t n, float max_q, const std::string& what) {
  AlignedBuffer<int16_t> got(n), want(n);
  std::fill(got.data(), got.data() + n, int16_t(0x5a5a));  // no stale zeros
  std::fill(want.data(), want.data() + n, int16_t(-0x5a5a));
  const float got_scale = QuantizeI16(x, n, max_q, got.data());
  const float want_scale = reference::QuantizeI16(x, n, max_q, want.data());
  ASSERT_EQ(got_scale, want_scale) << what << " scale";
  for (size_t j = 0; j < n; ++j) {
    ASSERT_EQ(got[j], want[j]) << what << ": x[" << j << "] = " << x[j] << " (x * inv = "
                               << double(x[j]) * (double(max_q) / (double(want_scale) * max_q))
                               << ")";
    ASSERT_LE(std::abs(int(got[j])), int(max_q)) << what << " j=" << j;
  }
}

void TestQuantizeI16() {
  std::mt19937 rng(13);
  for (size_t n : ft::PaddedSizes()) {
    for (float range : {1e-3f, 1.0f, 3e4f}) {
      for (float max_q : {127.0f, 1000.0f, 32767.0f}) {
        auto x = ft::Random(n, rng, -range, range);
        x[(n * 7) / 11] = (n % 32 == 0) ? -range : range;  // the max, sometimes negative
        const std::string what = "QuantizeI16 n=" + std::to_string(n) +
                                 " range=" + std::to_string(range) +
                                 " max_q=" + std::to_string(max_q);
        ASSERT_NO_FATAL_FAILURE(CheckQuantizeI16(x.data(), n, max_q, what));
      }
    }
    // The max in the last element (the last lane of the last vector).
    auto x = ft::Random(n, rng);
    x[n - 1] = -5.0f;
    ASSERT_NO_FATAL_FAILURE(
        CheckQuantizeI16(x.data(), n, 32767, "QuantizeI16 max last n=" + std::to_string(n)));
    AlignedBuffer<int16_t> q(n);
    QuantizeI16(x.data(), n, 32767, q.data());
    ASSERT_EQ(q[n - 1], -32767) << "n=" << n;

    // All zero (also -0): scale 0, q all zero (overwriting whatever was there).
    for (float zero : {0.0f, -0.0f}) {
      AlignedBuffer<float> z(n);
      std::fill(z.data(), z.data() + n, zero);
      std::fill(q.data(), q.data() + n, int16_t(77));
      ASSERT_EQ(QuantizeI16(z.data(), n, 32767, q.data()), 0.0f) << "n=" << n;
      for (size_t j = 0; j < n; ++j) ASSERT_EQ(q[j], 0) << "all zero, n=" << n << " j=" << j;
      ASSERT_NO_FATAL_FAILURE(CheckQuantizeI16(z.data(), n, 32767, "QuantizeI16 zero"));
    }
  }

  // Ties and near-ties, with inv = max_q / max|x| = 1 exactly (max|x| = max_q = 32767), so
  // x * inv = x: round half to even, in both directions, and just below one half.
  {
    const float below_half = std::nextafter(0.5f, 0.0f);   // 0.49999997
    const float below_3half = std::nextafter(1.5f, 0.0f);  // 1.4999999
    const std::vector<std::pair<float, int>> cases = {
        {0.5f, 0},         {1.5f, 2},         {2.5f, 2},           {3.5f, 4},
        {-0.5f, 0},        {-1.5f, -2},       {-2.5f, -2},         {-3.5f, -4},
        {4.5f, 4},         {-4.5f, -4},       {1000.5f, 1000},     {1001.5f, 1002},
        {32765.5f, 32766}, {32766.5f, 32766}, {-32766.5f, -32766}, {below_half, 0},
        {-below_half, 0},  {below_3half, 1},  {-below_3half, -1},  {0.75f, 1},
        {-0.25f, 0},       {0.0f, 0},         {-0.0f, 0},          {32767.0f, 32767},
    };
    AlignedBuffer<float> x(32);
    for (size_t i = 0; i < cases.size(); ++i) x[i] = cases[i].first;
    for (size_t i = cases.size(); i < 32; ++i) x[i] = 1.0f;
    AlignedBuffer<int16_t> q(32), rq(32);
    ASSERT_EQ(QuantizeI16(x.data(), 32, 32767, q.data()), 1.0f);
    reference::QuantizeI16(x.data(), 32, 32767, rq.data());
    for (size_t i = 0; i < cases.size(); ++i) {
      EXPECT_EQ(q[i], cases[i].second) << "QuantizeI16 of x * inv = " << cases[i].first;
      EXPECT_EQ(rq[i], cases[i].second) << "reference::QuantizeI16 of x * inv = " << cases[i].first;
    }
    ASSERT_NO_FATAL_FAILURE(CheckQuantizeI16(x.data(), 32, 32767, "QuantizeI16 ties"));
  }
  // Ties through a non-trivial inv: max|x| = 2, max_q = 5, inv = 2.5; x = +-1 gives +-2.5.
  {
    AlignedBuffer<float> x(16);
    const float vals[16] = {2,     -2, 1,    -1,    0.2f, 0.6f,  1.4f,  -0.6f,
                            3e-8f, 0,  1.8f, -1.8f, 0.5f, -0.5f, 0.25f, 1.0f};
    std::copy(vals, vals + 16, x.data());
    AlignedBuffer<int16_t> q(16);
    ASSERT_EQ(QuantizeI16(x.data(), 16, 5, q.data()), 0.4f);
    EXPECT_EQ(q[0], 5);
    EXPECT_EQ(q[1], -5);
    EXPECT_EQ(q[2], 2);   // 2.5 -> 2
    EXPECT_EQ(q[3], -2);  // -2.5 -> -2
    EXPECT_EQ(q[15], 2);
    ASSERT_NO_FATAL_FAILURE(CheckQuantizeI16(x.data(), 16, 5, "QuantizeI16 inv=2.5"));
  }
  // A small maximum (inv large) and a huge one (inv tiny), both with a finite inv.
  for (float m : {1e-30f, 3e38f}) {
    AlignedBuffer<float> x(64);
    for (size_t j = 0; j < 64; ++j) x[j] = m * (float(j) / 63.0f) * ((j % 2) ? -1.0f : 1.0f);
    ASSERT_NO_FATAL_FAILURE(
        CheckQuantizeI16(x.data(), 64, 32767, "QuantizeI16 max=" + std::to_string(m)));
  }
}

// Contract properties that hold whatever the rounding: q = 0 where x = 0, |q| <= max_q, and
// q = +-max_q at the maximum. Checked for maxima so small that max_q / max|x| overflows float
// (max|x| < max_q / FLT_MAX, ~1e-34 for max_q = 32767), on the kernel and on the reference.
template <class Quantize>
void CheckQuantizeI16Contract(const Quantize& quantize, const char* impl) {
  constexpr size_t n = 64;
  for (float m : {1e-33f, 1e-35f, 1e-40f /* subnormal */}) {
    for (float max_q : {127.0f, 32767.0f}) {
      AlignedBuffer<float> x(n);
      for (size_t j = 0; j < n; ++j) x[j] = m * (float(j % 9) / 8.0f) * ((j % 2) ? -1.0f : 1.0f);
      // x[0] = 0, x[8] = m, x[17] = -m
      AlignedBuffer<int16_t> q(n);
      const float s = quantize(x.data(), n, max_q, q.data());
      char what[96];
      std::snprintf(what, sizeof(what), "%s max|x|=%g max_q=%g", impl, double(m), double(max_q));
      EXPECT_EQ(s, m / max_q) << what;
      size_t bad = 0, first = n;
      for (size_t j = 0; j < n; ++j) {
        if ((x[j] == 0 && q[j] != 0) || std::abs(int(q[j])) > int(max_q)) {
          if (bad++ == 0) first = j;
        }
      }
      EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << n << " outputs break the contract, "
                         << "first x[" << first << "] = " << (first < n ? x[first] : 0.0f)
                         << " -> q = " << (first < n ? q[first] : 0);
      EXPECT_EQ(q[8], int(max_q)) << what << " at x = max|x|";
      EXPECT_EQ(q[17], -int(max_q)) << what << " at x = -max|x|";
    }
  }
}

void TestQuantizeI16TinyMax() {
  CheckQuantizeI16Contract(
      [](const float* x, size_t n, float max_q, int16_t* q) { return QuantizeI16(x, n, max_q, q); },
      "QuantizeI16");
  CheckQuantizeI16Contract([](const float* x, size_t n, float max_q,
                              int16_t* q) { return reference::QuantizeI16(x, n, max_q, q); },
                           "reference::QuantizeI16");
}

// Exact int64 sum of one row of w times x.
int64_t ExactRowSum(const int8_t* w, const int16_t* x, size_t cols) {
  int64_t s = 0;
  for (size_t j = 0; j < cols; ++j) s += int64_t(w[j]) * x[j];
  return s;
}

// With bias 0 and scales 1, y[r] = float(sum) exactly (float of the exact integer, no other
// rounding), so y must equal float(exact sum) on every target, fused multiply-add or not.
void CheckMatVecI8Exact(const int8_t* w, size_t rows, size_t cols, const int16_t* x,
                        const std::string& what) {
  std::vector<float> ones(rows, 1.0f), zeros(rows, 0.0f);
  std::vector<float> y(rows, -1.0f), ry(rows, -2.0f);
  MatVecI8(w, ones.data(), rows, cols, x, 1.0f, zeros.data(), y.data());
  reference::MatVecI8(w, ones.data(), rows, cols, x, 1.0f, zeros.data(), ry.data());
  for (size_t r = 0; r < rows; ++r) {
    const int64_t s = ExactRowSum(w + r * cols, x, cols);
    ASSERT_LT(std::llabs(s), int64_t(1) << 31) << what << ": test inputs out of contract";
    ASSERT_EQ(y[r], float(s)) << what << " exact sum, row " << r << " (int sum " << s << ")";
    ASSERT_EQ(ry[r], float(s)) << what << " reference exact sum, row " << r;
  }
}

void TestMatVecI8() {
  std::mt19937 rng(14);
  for (size_t cols : {32, 64, 96, 256, 512, 1024}) {
    // Largest |x| allowed by cols * 127 * max|x| < 2^31.
    const int max_x =
        int(std::min<int64_t>(32767, ((int64_t(1) << 31) - 1) / (int64_t(cols) * 127)));
    for (size_t rows : {1, 2, 3, 4, 5, 7, 8, 9, 150, 151}) {
      const auto w = ft::RandomInt<int8_t>(rows * cols, rng, -127, 127);
      const auto x = ft::RandomInt<int16_t>(cols, rng, -max_x, max_x);
      const auto w_scale = ft::Random(rows, rng, 1e-3f, 2e-2f);
      const auto bias = ft::Random(rows, rng);
      const float x_scale = 1.0f / 32767 * 3.0f;
      const std::string what =
          "MatVecI8 rows=" + std::to_string(rows) + " cols=" + std::to_string(cols);
      auto got = ft::Exact(bias.data(), rows);  // any count: exact size
      std::vector<float> want(rows);
      MatVecI8(w.data(), w_scale.data(), rows, cols, x.data(), x_scale, bias.data(), got.get());
      reference::MatVecI8(w.data(), w_scale.data(), rows, cols, x.data(), x_scale, bias.data(),
                          want.data());
      // The integer sums are exact on both sides; only bias + s * float(sum) may be fused.
      std::vector<double> scale(rows);
      for (size_t r = 0; r < rows; ++r) {
        scale[r] = std::fabs(bias[r]) +
                   std::fabs(double(x_scale * w_scale[r]) *
                             double(ExactRowSum(w.data() + r * cols, x.data(), cols)));
      }
      ASSERT_TRUE(ft::AllNear(got.get(), want.data(), rows, ft::kFltEps, 0, what, scale.data()));
      ASSERT_NO_FATAL_FAILURE(CheckMatVecI8Exact(w.data(), rows, cols, x.data(), what));
    }
  }

  // At the overflow bound: cols = 512, |w| = 127, |x| up to 32767 (and -32768), so that
  // |sum| = 512 * 127 * 32767 = 2130641408 (or 512 * 127 * 32768 = 2130706432) < 2^31 - 1:
  // any int16 or narrower intermediate, or a lost carry, shows.
  {
    constexpr size_t cols = 512, rows = 9;
    AlignedBuffer<int8_t> w(rows * cols);
    AlignedBuffer<int16_t> x(cols), xn(cols), xa(cols);
    for (size_t j = 0; j < cols; ++j) {
      x[j] = 32767;
      xn[j] = -32768;
      xa[j] = (j % 2) ? -32767 : 32767;
    }
    for (size_t j = 0; j < cols; ++j) {
      w[0 * cols + j] = 127;                          // +max
      w[1 * cols + j] = -127;                         // -max
      w[2 * cols + j] = (j % 2) ? -127 : 127;         // with xa: +max
      w[3 * cols + j] = (j < cols / 2) ? 127 : -127;  // cancels to 0
      w[4 * cols + j] = (j % 3 == 0) ? 126 : 127;
      w[5 * cols + j] = (j == cols - 1) ? 1 : 127;
      w[6 * cols + j] = (j % 7 == 0) ? -127 : 127;
      w[7 * cols + j] = (j / 16 % 2) ? -127 : 127;
      w[8 * cols + j] = 127;
    }
    ASSERT_NO_FATAL_FAILURE(CheckMatVecI8Exact(w.data(), rows, cols, x.data(), "bound x=32767"));
    ASSERT_NO_FATAL_FAILURE(CheckMatVecI8Exact(w.data(), rows, cols, xn.data(), "bound x=-32768"));
    ASSERT_NO_FATAL_FAILURE(CheckMatVecI8Exact(w.data(), rows, cols, xa.data(), "bound x=+-32767"));
    std::vector<float> ones(rows, 1.0f), zeros(rows, 0.0f), y(rows);
    MatVecI8(w.data(), ones.data(), rows, cols, x.data(), 1.0f, zeros.data(), y.data());
    EXPECT_EQ(y[0], 2130641408.0f);
    EXPECT_EQ(y[1], -2130641408.0f);
    EXPECT_EQ(y[3], 0.0f);
    MatVecI8(w.data(), ones.data(), rows, cols, xn.data(), 1.0f, zeros.data(), y.data());
    EXPECT_EQ(y[1], 2130706432.0f);
    MatVecI8(w.data(), ones.data(), rows, cols, xa.data(), 1.0f, zeros.data(), y.data());
    EXPECT_EQ(y[2], 2130641408.0f);
    // Random signs at full magnitude.
    std::bernoulli_distribution coin;
    for (size_t i = 0; i < rows * cols; ++i) w[i] = coin(rng) ? 127 : -127;
    for (size_t j = 0; j < cols; ++j) x[j] = coin(rng) ? 32767 : -32767;
    ASSERT_NO_FATAL_FAILURE(CheckMatVecI8Exact(w.data(), rows, cols, x.data(), "bound random"));
  }

  // Small values with an exactly representable result: unit scales, integer bias.
  {
    constexpr size_t cols = 64, rows = 6;
    const auto w = ft::RandomInt<int8_t>(rows * cols, rng, -127, 127);
    const auto x = ft::RandomInt<int16_t>(cols, rng, -100, 100);
    std::vector<float> ws(rows, 1.0f), bias = {0, 1, -1, 1000, -12345, 7};
    std::vector<float> y(rows);
    MatVecI8(w.data(), ws.data(), rows, cols, x.data(), 1.0f, bias.data(), y.data());
    for (size_t r = 0; r < rows; ++r) {
      ASSERT_EQ(y[r], bias[r] + float(ExactRowSum(w.data() + r * cols, x.data(), cols)))
          << "MatVecI8 small exact, row " << r;
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
HWY_EXPORT_AND_TEST_P(KernelsTest, TestSparseAccumulateI8);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestQuantizeI16);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestQuantizeI16TinyMax);
HWY_EXPORT_AND_TEST_P(KernelsTest, TestMatVecI8);
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

  // Reduced precision.
  auto table8 = ft::RandomInt<int8_t>(table_rows * n, rng, -127, 127);
  const auto row_scale = ft::Random(table_rows, rng, 1e-3f, 1e-2f);
  std::fill(got.data(), got.data() + n, 0.0f);
  std::fill(want.data(), want.data() + n, 0.0f);
  SparseAccumulateI8(table8.data(), n, row_scale.data(), ids.data(), weights.data(), ids.size(),
                     got.data(), n);
  reference::SparseAccumulateI8(table8.data(), n, row_scale.data(), ids.data(), weights.data(),
                                ids.size(), want.data(), n);
  EXPECT_TRUE(ft::AllNear(got.data(), want.data(), n, 1e-5, 1e-5, what + " SparseAccumulateI8"));

  AlignedBuffer<int16_t> q(n), rq(n);
  EXPECT_EQ(QuantizeI16(x.data(), n, 32767, q.data()),
            reference::QuantizeI16(x.data(), n, 32767, rq.data()))
      << what << " QuantizeI16";
  EXPECT_TRUE(std::equal(q.data(), q.data() + n, rq.data())) << what << " QuantizeI16";

  MatVecI8(table8.data(), row_scale.data(), rows, n, q.data(), 1.0f / 32767, bias.data(), y.data());
  reference::MatVecI8(table8.data(), row_scale.data(), rows, n, q.data(), 1.0f / 32767, bias.data(),
                      ry.data());
  EXPECT_TRUE(ft::AllNear(y.data(), ry.data(), rows, 1e-6, 1e-6, what + " MatVecI8"));
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

// MatVecI8 through the dispatcher (on AVX-512 VNNI CPUs, the intrinsics version in kernels.cc,
// which the per-target tests do not reach): exact integer sums over odd row counts and every
// column count up to the contract's largest |x|.
TEST(KernelsDispatchTest, MatVecI8SumsAreExact) {
  std::mt19937 rng(15);
  for (size_t cols : {32, 64, 96, 256, 512, 1024}) {
    const int max_x =
        int(std::min<int64_t>(32767, ((int64_t(1) << 31) - 1) / (int64_t(cols) * 127)));
    for (size_t rows : {1, 2, 3, 4, 5, 7, 8, 9, 151}) {
      const auto w = ft::RandomInt<int8_t>(rows * cols, rng, -127, 127);
      auto x = ft::RandomInt<int16_t>(cols, rng, -max_x, max_x);
      x[0] = int16_t(max_x);  // extremes included
      x[cols - 1] = int16_t(-max_x);
      std::vector<float> ones(rows, 1.0f), zeros(rows, 0.0f), y(rows, -1.0f);
      MatVecI8(w.data(), ones.data(), rows, cols, x.data(), 1.0f, zeros.data(), y.data());
      for (size_t r = 0; r < rows; ++r) {
        int64_t sum = 0;
        for (size_t j = 0; j < cols; ++j) sum += int64_t(w[r * cols + j]) * x[j];
        ASSERT_EQ(y[r], float(sum)) << "rows " << rows << " cols " << cols << " row " << r;
      }
    }
  }
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
