// Per-target Highway implementations of the kernels declared in kernels.h.
//
// This is a Highway "-inl.h": it has no ordinary include guard but is re-included once per
// SIMD target by hwy/foreach_target.h, each time defining the kernels in namespace
// fastintent::kernels::HWY_NAMESPACE (N_AVX3, N_AVX2, N_SSE4, N_NEON, N_SVE, N_SCALAR, ...).
// Two translation units include it: kernels.cc (which exports and dispatches them) and
// kernels_test.cc (built with HWY_IS_TEST=1, which calls every target's copy directly).
// Include it only after hwy/foreach_target.h and hwy/highway.h.
//
// Deviations from the scalar references in kernels_reference.cc (all covered by the tests):
// - SparseAccumulate, Axpy: same summation order as the reference, but with fused
//   multiply-adds (one rounding per term instead of two).
// - Dot, MatVec: float accumulation in several vector lanes/accumulators instead of one double
//   accumulator, so results differ by a small multiple of 2^-24 * sum|a_j * b_j|.
// - Softmax, Sigmoid: hwy/contrib/math Exp (documented max error 1 ULP) instead of std::exp;
//   the softmax denominator is still summed in double. Within ~1e-6 relative of the reference
//   (absolute 1e-38 for results in the subnormal range).
// - L2Normalize (double sum of squares, like the reference), BiasRelu: the same operations in
//   the same order; the tests require BiasRelu to match exactly.
// - AdamStep: the same operations in the same order, but GCC fuses multiply-adds on targets
//   that have them (it contracts by default in C++ mode, intrinsics included), so it differs
//   from the baseline-compiled reference by about one rounding per term.
// - SparseAccumulateI8: the coefficient weights[k] * row_scale[row] is rounded once, as in the
//   reference, and int8 -> float is exact; then as SparseAccumulate (fused multiply-adds).
// - QuantizeI16: identical to the reference (same max, same float product, NearestInt rounds
//   half to even like std::nearbyint in the default mode); the tests require exact equality.
//   A max below 1e-30 (where max_q / max would overflow) is handled by first scaling x by 2^64,
//   which is exact (TestQuantizeI16TinyMax).
// - MatVecI8: the int32 sum is exact on every target (equal to the reference's int64 sum
//   within the contract); only bias + scale * float(sum) may be fused by GCC on targets with
//   FMA, one rounding less (within 2^-23 * (|bias| + |scale * sum|)).
// - NaN inputs: results are unspecified (the reference and SIMD max/min treat NaN differently).
//
// GatherScale has no per-target version: kernels.cc calls the reference. With unsigned 32-bit
// indices a hardware gather (signed indices) needs a range check, and on the AVX-512 machine
// measured, both GatherIndex and GCC's auto-vectorised AVX2/AVX3 copies of the scalar loop were
// slower than the plain baseline loop (100 features: ~30 ns scalar, 60-110 ns vectorised).
//
// Vector width: kernels over "padded" sizes use at most kFloatPad lanes (CappedTag), so that
// n being a multiple of kFloatPad suffices even on wide SVE machines; "any count" kernels use
// full vectors and run the last partial vector through a stack copy (no out-of-bounds access).

#if defined(FASTINTENT_KERNELS_KERNELS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef FASTINTENT_KERNELS_KERNELS_INL_H_
#undef FASTINTENT_KERNELS_KERNELS_INL_H_
#else
#define FASTINTENT_KERNELS_KERNELS_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "common/aligned_buffer.h"
#include "hwy/cache_control.h"
#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace fastintent::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Vectors of at most kFloatPad floats: the descriptor for kernels over padded sizes.
using DPad = hn::CappedTag<float, kFloatPad>;
// Full-width vectors: the descriptor for kernels over any count.
using DAny = hn::ScalableTag<float>;

namespace detail {

template <class D>
HWY_INLINE hn::TFromD<D> ReduceSum(D d, hn::Vec<D> v) {
  return hn::GetLane(hn::SumOfLanes(d, v));
}

// x[i] = f(x[i]) for i < n, a whole vector at a time; the last partial vector is processed in a
// stack copy so that nothing outside x[0, n) is read or written.
template <class D, class Func>
HWY_INLINE void MapInPlace(D d, float* HWY_RESTRICT x, size_t n, const Func& f) {
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(f(hn::LoadU(d, x + i)), d, x + i);
  if (i == n) return;
  HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)] = {};
  std::copy(x + i, x + n, buf);
  hn::Store(f(hn::Load(d, buf)), d, buf);
  std::copy(buf, buf + (n - i), x + i);
}

// Returns sum_i x[i] (squared when kSquare), accumulated in double like the references do.
template <bool kSquare>
HWY_INLINE double SumF64(const float* HWY_RESTRICT x, size_t n) {
  const hn::ScalableTag<double> dd;
  const hn::Rebind<float, decltype(dd)> df;  // as many floats as dd has doubles
  const size_t N = hn::Lanes(dd);
  auto s0 = hn::Zero(dd);
  auto s1 = hn::Zero(dd);
  const auto term = [&](size_t i) {
    const auto v = hn::PromoteTo(dd, hn::LoadU(df, x + i));
    return kSquare ? hn::Mul(v, v) : v;
  };
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    s0 = hn::Add(s0, term(i));
    s1 = hn::Add(s1, term(i + N));
  }
  for (; i + N <= n; i += N) s0 = hn::Add(s0, term(i));
  double s = ReduceSum(dd, hn::Add(s0, s1));
  for (; i < n; ++i) s += kSquare ? double(x[i]) * x[i] : double(x[i]);
  return s;
}

// A padded piece of a table row as floats: float rows as they are, int8 rows widened exactly.
HWY_INLINE hn::Vec<DPad> LoadRow(const float* HWY_RESTRICT p) { return hn::LoadU(DPad(), p); }
HWY_INLINE hn::Vec<DPad> LoadRow(const int8_t* HWY_RESTRICT p) {
  const DPad d;
  return hn::ConvertTo(
      d, hn::PromoteTo(hn::Rebind<int32_t, DPad>(), hn::LoadU(hn::Rebind<int8_t, DPad>(), p)));
}

// out[j] += sum_{i < kRows} c[i] * row[i][j] for j < n, in increasing i like the reference.
// Each output vector is loaded and stored once per kRows table rows.
template <size_t kRows, typename T>
HWY_INLINE void AccumulateRows(const T* const* HWY_RESTRICT row, const float* c,
                               float* HWY_RESTRICT out, size_t n) {
  const DPad d;
  const size_t N = hn::Lanes(d);
  for (size_t j = 0; j < n; j += N) {
    auto o = hn::LoadU(d, out + j);
    for (size_t i = 0; i < kRows; ++i) o = hn::MulAdd(hn::Set(d, c[i]), LoadRow(row[i] + j), o);
    hn::StoreU(o, d, out + j);
  }
}

// Requests the table rows rows[begin, min(end, count)) (n elements of T each) into the cache.
template <typename T>
HWY_INLINE void PrefetchRows(const T* table, size_t stride, const uint32_t* rows, size_t begin,
                             size_t end, size_t count, size_t n) {
  for (size_t i = begin; i < std::min(count, end); ++i) {
    const char* row = reinterpret_cast<const char*>(table + size_t(rows[i]) * stride);
    for (size_t b = 0; b < n * sizeof(T); b += 64) hwy::Prefetch(row + b);
  }
}

// The embedding bag shared by SparseAccumulate (float rows; row_scale unused) and
// SparseAccumulateI8: out[j] += sum_k c_k * table[rows[k] * stride + j] with c_k = weights[k],
// times row_scale[rows[k]] for int8 rows. Rows are taken eight at a time, so each output vector
// makes one trip through a register per eight rows and eight independent row streams keep
// loads in flight; the next group's rows are prefetched while a group is summed (measured: one
// group ahead beat two and three, and beat none: int8 CLINC single p50 2.82 -> 2.61 us).
template <typename T>
HWY_INLINE void EmbeddingBag(const T* HWY_RESTRICT table, size_t stride,
                             const float* HWY_RESTRICT row_scale, const uint32_t* HWY_RESTRICT rows,
                             const float* HWY_RESTRICT weights, size_t count,
                             float* HWY_RESTRICT out, size_t n) {
  constexpr size_t kGroup = 8;
  const T* row[kGroup];
  float c[kGroup];
  const auto gather = [&](size_t k, size_t group) {
    for (size_t i = 0; i < group; ++i) {
      const uint32_t r = rows[k + i];
      row[i] = table + size_t(r) * stride;
      if constexpr (std::is_same_v<T, int8_t>) {
        c[i] = weights[k + i] * row_scale[r];
      } else {
        c[i] = weights[k + i];
      }
    }
  };
  PrefetchRows(table, stride, rows, 0, kGroup, count, n);
  size_t k = 0;
  for (; k + kGroup <= count; k += kGroup) {
    gather(k, kGroup);
    PrefetchRows(table, stride, rows, k + kGroup, k + 2 * kGroup, count, n);
    AccumulateRows<kGroup>(row, c, out, n);
  }
  if (k + 4 <= count) {
    gather(k, 4);
    AccumulateRows<4>(row, c, out, n);
    k += 4;
  }
  for (; k < count; ++k) {
    gather(k, 1);
    AccumulateRows<1>(row, c, out, n);
  }
}

}  // namespace detail

inline void SparseAccumulate(const float* HWY_RESTRICT table, size_t stride,
                             const uint32_t* HWY_RESTRICT rows, const float* HWY_RESTRICT weights,
                             size_t count, float* HWY_RESTRICT out, size_t n) {
  detail::EmbeddingBag(table, stride, static_cast<const float*>(nullptr), rows, weights, count, out,
                       n);
}

inline void Axpy(float a, const float* HWY_RESTRICT x, float* HWY_RESTRICT y, size_t n) {
  const DPad d;
  const size_t N = hn::Lanes(d);
  const auto va = hn::Set(d, a);
  for (size_t j = 0; j < n; j += N) {
    hn::StoreU(hn::MulAdd(va, hn::LoadU(d, x + j), hn::LoadU(d, y + j)), d, y + j);
  }
}

// Four independent accumulators hide the latency of MulAdd.
inline float Dot(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, size_t n) {
  const DPad d;
  const size_t N = hn::Lanes(d);
  const size_t vectors = n / N;
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  size_t v = 0;
  for (; v + 4 <= vectors; v += 4) {
    const size_t j = v * N;
    s0 = hn::MulAdd(hn::LoadU(d, a + j), hn::LoadU(d, b + j), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + j + N), hn::LoadU(d, b + j + N), s1);
    s2 = hn::MulAdd(hn::LoadU(d, a + j + 2 * N), hn::LoadU(d, b + j + 2 * N), s2);
    s3 = hn::MulAdd(hn::LoadU(d, a + j + 3 * N), hn::LoadU(d, b + j + 3 * N), s3);
  }
  // At most three vectors remain.
  const size_t j = v * N;
  if (v + 1 <= vectors) s0 = hn::MulAdd(hn::LoadU(d, a + j), hn::LoadU(d, b + j), s0);
  if (v + 2 <= vectors) s1 = hn::MulAdd(hn::LoadU(d, a + j + N), hn::LoadU(d, b + j + N), s1);
  if (v + 3 <= vectors)
    s2 = hn::MulAdd(hn::LoadU(d, a + j + 2 * N), hn::LoadU(d, b + j + 2 * N), s2);
  return detail::ReduceSum(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3)));
}

// Four rows at a time share each load of x; two accumulators per row (even and odd vectors)
// give eight independent MulAdd chains.
inline void MatVec(const float* HWY_RESTRICT w, size_t rows, size_t cols,
                   const float* HWY_RESTRICT x, const float* HWY_RESTRICT bias,
                   float* HWY_RESTRICT y) {
  const DPad d;
  const size_t N = hn::Lanes(d);
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = w + r * cols;
    const float* w1 = w0 + cols;
    const float* w2 = w1 + cols;
    const float* w3 = w2 + cols;
    auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
    auto b0 = hn::Zero(d), b1 = hn::Zero(d), b2 = hn::Zero(d), b3 = hn::Zero(d);
    size_t j = 0;
    for (; j + 2 * N <= cols; j += 2 * N) {
      const auto x0 = hn::LoadU(d, x + j);
      const auto x1 = hn::LoadU(d, x + j + N);
      a0 = hn::MulAdd(hn::LoadU(d, w0 + j), x0, a0);
      a1 = hn::MulAdd(hn::LoadU(d, w1 + j), x0, a1);
      a2 = hn::MulAdd(hn::LoadU(d, w2 + j), x0, a2);
      a3 = hn::MulAdd(hn::LoadU(d, w3 + j), x0, a3);
      b0 = hn::MulAdd(hn::LoadU(d, w0 + j + N), x1, b0);
      b1 = hn::MulAdd(hn::LoadU(d, w1 + j + N), x1, b1);
      b2 = hn::MulAdd(hn::LoadU(d, w2 + j + N), x1, b2);
      b3 = hn::MulAdd(hn::LoadU(d, w3 + j + N), x1, b3);
    }
    if (j < cols) {  // cols / N is odd
      const auto x0 = hn::LoadU(d, x + j);
      a0 = hn::MulAdd(hn::LoadU(d, w0 + j), x0, a0);
      a1 = hn::MulAdd(hn::LoadU(d, w1 + j), x0, a1);
      a2 = hn::MulAdd(hn::LoadU(d, w2 + j), x0, a2);
      a3 = hn::MulAdd(hn::LoadU(d, w3 + j), x0, a3);
    }
    y[r + 0] = bias[r + 0] + detail::ReduceSum(d, hn::Add(a0, b0));
    y[r + 1] = bias[r + 1] + detail::ReduceSum(d, hn::Add(a1, b1));
    y[r + 2] = bias[r + 2] + detail::ReduceSum(d, hn::Add(a2, b2));
    y[r + 3] = bias[r + 3] + detail::ReduceSum(d, hn::Add(a3, b3));
  }
  for (; r < rows; ++r) y[r] = bias[r] + Dot(w + r * cols, x, cols);
}

inline void BiasRelu(const float* HWY_RESTRICT bias, float* HWY_RESTRICT x, size_t n) {
  const DPad d;
  const size_t N = hn::Lanes(d);
  const auto zero = hn::Zero(d);
  for (size_t j = 0; j < n; j += N) {
    hn::StoreU(hn::Max(hn::Add(hn::LoadU(d, x + j), hn::LoadU(d, bias + j)), zero), d, x + j);
  }
}

inline void Softmax(float* HWY_RESTRICT x, size_t n) {
  const DAny d;
  const size_t N = hn::Lanes(d);
  float mx = x[0];
  size_t i = 0;
  if (n >= N) {
    auto vmax = hn::LoadU(d, x);
    for (i = N; i + N <= n; i += N) vmax = hn::Max(vmax, hn::LoadU(d, x + i));
    mx = hn::GetLane(hn::MaxOfLanes(d, vmax));
  }
  for (; i < n; ++i) mx = std::max(mx, x[i]);

  const auto vmx = hn::Set(d, mx);
  detail::MapInPlace(d, x, n, [&](hn::Vec<DAny> v) { return hn::Exp(d, hn::Sub(v, vmx)); });
  const auto inv = hn::Set(d, float(1.0 / detail::SumF64<false>(x, n)));
  detail::MapInPlace(d, x, n, [&](hn::Vec<DAny> v) { return hn::Mul(v, inv); });
}

inline void Sigmoid(float* HWY_RESTRICT x, size_t n) {
  const DAny d;
  const auto one = hn::Set(d, 1.0f);
  // hn::Exp is specified up to +104; beyond ~88.7 the result is +inf anyway, so clamping
  // keeps exp(-x) = +inf and sigmoid = 0 for very negative x, as with std::exp.
  const auto max_arg = hn::Set(d, 104.0f);
  detail::MapInPlace(d, x, n, [&](hn::Vec<DAny> v) {
    return hn::Div(one, hn::Add(one, hn::Exp(d, hn::Min(hn::Neg(v), max_arg))));
  });
}

inline float L2Normalize(float* HWY_RESTRICT x, size_t n) {
  const double s = detail::SumF64<true>(x, n);
  if (s == 0) return 0;
  const float norm = float(std::sqrt(s));
  const DAny d;
  const auto inv = hn::Set(d, 1.0f / norm);
  detail::MapInPlace(d, x, n, [&](hn::Vec<DAny> v) { return hn::Mul(v, inv); });
  return norm;
}

// Written as the reference is (no explicit MulAdd); see the note on contraction at the top.
inline void AdamStep(float* HWY_RESTRICT w, float* HWY_RESTRICT m, float* HWY_RESTRICT v,
                     const float* HWY_RESTRICT g, size_t n, float lr, float b1, float b2, float eps,
                     float wd, float bc1, float bc2) {
  const DPad d;
  const size_t N = hn::Lanes(d);
  const auto vb1 = hn::Set(d, b1), vc1 = hn::Set(d, 1 - b1);
  const auto vb2 = hn::Set(d, b2), vc2 = hn::Set(d, 1 - b2);
  const auto inv_bc1 = hn::Set(d, 1.0f / bc1), inv_bc2 = hn::Set(d, 1.0f / bc2);
  const auto veps = hn::Set(d, eps), vwd = hn::Set(d, wd), vlr = hn::Set(d, lr);
  for (size_t j = 0; j < n; j += N) {
    const auto gj = hn::LoadU(d, g + j);
    const auto mj = hn::Add(hn::Mul(vb1, hn::LoadU(d, m + j)), hn::Mul(vc1, gj));
    const auto vj = hn::Add(hn::Mul(vb2, hn::LoadU(d, v + j)), hn::Mul(hn::Mul(vc2, gj), gj));
    const auto wj = hn::LoadU(d, w + j);
    const auto step = hn::Div(hn::Mul(mj, inv_bc1), hn::Add(hn::Sqrt(hn::Mul(vj, inv_bc2)), veps));
    hn::StoreU(mj, d, m + j);
    hn::StoreU(vj, d, v + j);
    hn::StoreU(hn::Sub(wj, hn::Mul(vlr, hn::Add(step, hn::Mul(vwd, wj)))), d, w + j);
  }
}

// --- Reduced precision (int8 weights; see kernels.h) ---

// As SparseAccumulate, over int8 rows with a scale per row: out[j] += (weights[k] *
// row_scale[rows[k]]) * float(table[rows[k] * stride + j]). Rows eight at a time as above; each
// 16-byte piece of a row is widened to int32 and converted to float before the MulAdd.
inline void SparseAccumulateI8(const int8_t* HWY_RESTRICT table, size_t stride,
                               const float* HWY_RESTRICT row_scale,
                               const uint32_t* HWY_RESTRICT rows, const float* HWY_RESTRICT weights,
                               size_t count, float* HWY_RESTRICT out, size_t n) {
  detail::EmbeddingBag(table, stride, row_scale, rows, weights, count, out, n);
}

// q[j] = round-to-nearest-even(x[j] * (max_q / m)) with m = max_j |x[j]|, for j < n (padded);
// returns the scale m / max_q (0, with q all zero, when x is all zero).
inline float QuantizeI16(const float* HWY_RESTRICT x, size_t n, float max_q,
                         int16_t* HWY_RESTRICT q) {
  const DPad d;
  const hn::Rebind<int16_t, DPad> d16;
  const size_t N = hn::Lanes(d);
  auto vmax = hn::Zero(d);
  for (size_t j = 0; j < n; j += N) vmax = hn::Max(vmax, hn::Abs(hn::LoadU(d, x + j)));
  const float m = hn::GetLane(hn::MaxOfLanes(d, vmax));
  if (!(m > 0)) {
    for (size_t j = 0; j < n; ++j) q[j] = 0;
    return 0;
  }
  // For a tiny max (max_q / m would overflow) x is first scaled by 2^64, exactly.
  const float boost = m < 1e-30f ? 0x1p64f : 1.0f;
  const auto vboost = hn::Set(d, boost);
  const auto inv = hn::Set(d, max_q / (m * boost));
  for (size_t j = 0; j < n; j += N) {
    const auto v = hn::Mul(hn::Mul(hn::LoadU(d, x + j), vboost), inv);
    hn::StoreU(hn::DemoteTo(d16, hn::NearestInt(v)), d16, q + j);
  }
  return m / max_q;
}

#if HWY_TARGET == HWY_SCALAR
// One-lane vectors cannot hold the int16 pairs the vector version multiplies; a plain loop gives
// the same exact integer sums.
inline void MatVecI8(const int8_t* HWY_RESTRICT w, const float* HWY_RESTRICT w_scale, size_t rows,
                     size_t cols, const int16_t* HWY_RESTRICT x, float x_scale,
                     const float* HWY_RESTRICT bias, float* HWY_RESTRICT y) {
  for (size_t r = 0; r < rows; ++r) {
    int32_t sum = 0;
    for (size_t j = 0; j < cols; ++j) sum += int32_t(w[r * cols + j]) * x[j];
    y[r] = bias[r] + (x_scale * w_scale[r]) * float(sum);
  }
}
#else
// y[r] = bias[r] + (x_scale * w_scale[r]) * float(sum_j w[r * cols + j] * x[j]), the sum exact
// in int32; `cols` a multiple of kInt8Pad. Four rows at a time share each load of x; int8
// weights are widened to int16 and multiplied pairwise into int32 lanes (vpmaddwd / smlal).
inline void MatVecI8(const int8_t* HWY_RESTRICT w, const float* HWY_RESTRICT w_scale, size_t rows,
                     size_t cols, const int16_t* HWY_RESTRICT x, float x_scale,
                     const float* HWY_RESTRICT bias, float* HWY_RESTRICT y) {
  const hn::CappedTag<int32_t, kFloatPad> d32;
  const hn::Repartition<int16_t, decltype(d32)> d16;
  const hn::Rebind<int8_t, decltype(d16)> d8;
  const size_t N16 = hn::Lanes(d16);
  const auto total = [&](hn::Vec<decltype(d32)> a, hn::Vec<decltype(d32)> b) {
    return float(hn::GetLane(hn::SumOfLanes(d32, hn::Add(a, b))));
  };
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const int8_t* w0 = w + r * cols;
    const int8_t* w1 = w0 + cols;
    const int8_t* w2 = w1 + cols;
    const int8_t* w3 = w2 + cols;
    auto a0 = hn::Zero(d32), a1 = hn::Zero(d32), a2 = hn::Zero(d32), a3 = hn::Zero(d32);
    auto b0 = hn::Zero(d32), b1 = hn::Zero(d32), b2 = hn::Zero(d32), b3 = hn::Zero(d32);
    for (size_t j = 0; j < cols; j += N16) {
      const auto xv = hn::LoadU(d16, x + j);
      a0 =
          hn::ReorderWidenMulAccumulate(d32, hn::PromoteTo(d16, hn::LoadU(d8, w0 + j)), xv, a0, b0);
      a1 =
          hn::ReorderWidenMulAccumulate(d32, hn::PromoteTo(d16, hn::LoadU(d8, w1 + j)), xv, a1, b1);
      a2 =
          hn::ReorderWidenMulAccumulate(d32, hn::PromoteTo(d16, hn::LoadU(d8, w2 + j)), xv, a2, b2);
      a3 =
          hn::ReorderWidenMulAccumulate(d32, hn::PromoteTo(d16, hn::LoadU(d8, w3 + j)), xv, a3, b3);
    }
    y[r + 0] = bias[r + 0] + (x_scale * w_scale[r + 0]) * total(a0, b0);
    y[r + 1] = bias[r + 1] + (x_scale * w_scale[r + 1]) * total(a1, b1);
    y[r + 2] = bias[r + 2] + (x_scale * w_scale[r + 2]) * total(a2, b2);
    y[r + 3] = bias[r + 3] + (x_scale * w_scale[r + 3]) * total(a3, b3);
  }
  for (; r < rows; ++r) {
    const int8_t* wr = w + r * cols;
    auto a = hn::Zero(d32), b = hn::Zero(d32);
    for (size_t j = 0; j < cols; j += N16)
      a = hn::ReorderWidenMulAccumulate(d32, hn::PromoteTo(d16, hn::LoadU(d8, wr + j)),
                                        hn::LoadU(d16, x + j), a, b);
    y[r] = bias[r] + (x_scale * w_scale[r]) * total(a, b);
  }
}
#endif  // HWY_TARGET == HWY_SCALAR

inline const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

// Whether this is an AVX-512 target, where kernels.cc may take its VNNI MatVecI8 instead.
inline bool IsAvx512() { return HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL; }

}  // namespace fastintent::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // include guard toggle
