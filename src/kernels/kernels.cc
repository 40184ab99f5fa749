// Dispatching entry points: kernels-inl.h is compiled once per SIMD target Highway can reach
// from the baseline flags (on x86-64: AVX3, AVX2, SSE4, SSSE3 and SCALAR), and each call goes
// through a table indexed by the best target this CPU supports, chosen on first use. One
// exception, written with intrinsics below: MatVecI8 on AVX-512 CPUs with VNNI.
#include "kernels/kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/kernels.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/kernels-inl.h"

#if HWY_ONCE
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace fastintent::kernels {

#if defined(__x86_64__) && defined(__GNUC__)
namespace {
// MatVecI8 for AVX-512 CPUs with VNNI (Ice Lake, Zen 4 and later): vpdpwssd multiplies int16
// pairs and adds them to the int32 lanes in one instruction, where the AVX3 target needs
// vpmaddwd + vpaddd (Highway 1.0.3 does not emit it). The same exact int32 sums as the
// reference; kernels_bench MatVecI8/151x256 on Zen 4: 354 ns against 406 ns for AVX3.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void MatVecI8Vnni(
    const int8_t* w, const float* w_scale, size_t rows, size_t cols, const int16_t* x,
    float x_scale, const float* bias, float* y) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const int8_t* w0 = w + r * cols;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t j = 0; j < cols; j += 32) {
      const __m512i xv = _mm512_loadu_si512(x + j);
      a0 = _mm512_dpwssd_epi32(
          a0, _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w0 + j))),
          xv);
      a1 = _mm512_dpwssd_epi32(
          a1,
          _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w0 + cols + j))),
          xv);
      a2 = _mm512_dpwssd_epi32(a2,
                               _mm512_cvtepi8_epi16(_mm256_loadu_si256(
                                   reinterpret_cast<const __m256i*>(w0 + 2 * cols + j))),
                               xv);
      a3 = _mm512_dpwssd_epi32(a3,
                               _mm512_cvtepi8_epi16(_mm256_loadu_si256(
                                   reinterpret_cast<const __m256i*>(w0 + 3 * cols + j))),
                               xv);
    }
    y[r + 0] = bias[r + 0] + (x_scale * w_scale[r + 0]) * float(_mm512_reduce_add_epi32(a0));
    y[r + 1] = bias[r + 1] + (x_scale * w_scale[r + 1]) * float(_mm512_reduce_add_epi32(a1));
    y[r + 2] = bias[r + 2] + (x_scale * w_scale[r + 2]) * float(_mm512_reduce_add_epi32(a2));
    y[r + 3] = bias[r + 3] + (x_scale * w_scale[r + 3]) * float(_mm512_reduce_add_epi32(a3));
  }
  for (; r < rows; ++r) {
    const int8_t* wr = w + r * cols;
    __m512i a = _mm512_setzero_si512();
    for (size_t j = 0; j < cols; j += 32)
      a = _mm512_dpwssd_epi32(
          a, _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr + j))),
          _mm512_loadu_si512(x + j));
    y[r] = bias[r] + (x_scale * w_scale[r]) * float(_mm512_reduce_add_epi32(a));
  }
}
}  // namespace
#endif

HWY_EXPORT(SparseAccumulate);
HWY_EXPORT(Axpy);
HWY_EXPORT(Dot);
HWY_EXPORT(MatVec);
HWY_EXPORT(BiasRelu);
HWY_EXPORT(Softmax);
HWY_EXPORT(Sigmoid);
HWY_EXPORT(L2Normalize);
HWY_EXPORT(AdamStep);
HWY_EXPORT(SparseAccumulateI8);
HWY_EXPORT(QuantizeI16);
HWY_EXPORT(MatVecI8);
HWY_EXPORT(TargetName);
HWY_EXPORT(IsAvx512);

void SparseAccumulate(const float* table, size_t stride, const uint32_t* rows, const float* weights,
                      size_t count, float* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(SparseAccumulate)(table, stride, rows, weights, count, out, n);
}
void Axpy(float a, const float* x, float* y, size_t n) { HWY_DYNAMIC_DISPATCH(Axpy)(a, x, y, n); }
float Dot(const float* a, const float* b, size_t n) { return HWY_DYNAMIC_DISPATCH(Dot)(a, b, n); }
void MatVec(const float* w, size_t rows, size_t cols, const float* x, const float* bias, float* y) {
  HWY_DYNAMIC_DISPATCH(MatVec)(w, rows, cols, x, bias, y);
}
void BiasRelu(const float* bias, float* x, size_t n) { HWY_DYNAMIC_DISPATCH(BiasRelu)(bias, x, n); }
void Softmax(float* x, size_t n) { HWY_DYNAMIC_DISPATCH(Softmax)(x, n); }
void Sigmoid(float* x, size_t n) { HWY_DYNAMIC_DISPATCH(Sigmoid)(x, n); }
float L2Normalize(float* x, size_t n) { return HWY_DYNAMIC_DISPATCH(L2Normalize)(x, n); }
// Scalar on every CPU: gathers did not pay off (see kernels-inl.h).
void GatherScale(const float* table, const uint32_t* idx, float* x, size_t n) {
  reference::GatherScale(table, idx, x, n);
}
void AdamStep(float* w, float* m, float* v, const float* g, size_t n, float lr, float b1, float b2,
              float eps, float wd, float bc1, float bc2) {
  HWY_DYNAMIC_DISPATCH(AdamStep)(w, m, v, g, n, lr, b1, b2, eps, wd, bc1, bc2);
}
void SparseAccumulateI8(const int8_t* table, size_t stride, const float* row_scale,
                        const uint32_t* rows, const float* weights, size_t count, float* out,
                        size_t n) {
  HWY_DYNAMIC_DISPATCH(SparseAccumulateI8)(table, stride, row_scale, rows, weights, count, out, n);
}
float QuantizeI16(const float* x, size_t n, float max_q, int16_t* q) {
  return HWY_DYNAMIC_DISPATCH(QuantizeI16)(x, n, max_q, q);
}
void MatVecI8(const int8_t* w, const float* w_scale, size_t rows, size_t cols, const int16_t* x,
              float x_scale, const float* bias, float* y) {
#if defined(__x86_64__) && defined(__GNUC__)
  // Only where dispatch picks AVX3 anyway (tests may narrow the targets at run time).
  static const bool cpu_has_vnni = __builtin_cpu_supports("avx512vnni");
  if (cpu_has_vnni && HWY_DYNAMIC_DISPATCH(IsAvx512)())
    return MatVecI8Vnni(w, w_scale, rows, cols, x, x_scale, bias, y);
#endif
  HWY_DYNAMIC_DISPATCH(MatVecI8)(w, w_scale, rows, cols, x, x_scale, bias, y);
}
const char* ActiveTarget() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

}  // namespace fastintent::kernels
#endif  // HWY_ONCE
