// Dispatching entry points: kernels-inl.h is compiled once per SIMD target Highway can reach
// from the baseline flags (on x86-64: AVX3, AVX2, SSE4, SSSE3 and SCALAR), and each call goes
// through a table indexed by the best target this CPU supports, chosen on first use.
#include "kernels/kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/kernels.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/kernels-inl.h"

#if HWY_ONCE
namespace fastintent::kernels {

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
  HWY_DYNAMIC_DISPATCH(MatVecI8)(w, w_scale, rows, cols, x, x_scale, bias, y);
}
const char* ActiveTarget() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

}  // namespace fastintent::kernels
#endif  // HWY_ONCE
