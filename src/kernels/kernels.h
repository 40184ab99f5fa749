// The numeric kernels of fastintent's hot paths, as plain functions over pointers and sizes.
// Only src/kernels/ knows how they are vectorised; callers see no SIMD types.
//
// Contract shared by every kernel unless its comment says otherwise:
// - "padded" sizes are multiples of kFloatPad (16 floats, 64 bytes) and the pointers they go
//   with are 64-byte aligned (AlignedBuffer gives both), so implementations need no tail loop;
// - pointers may not alias unless stated;
// - pure functions of their arguments: thread-safe, no allocation.
// Each kernel has a scalar reference in namespace `reference` with identical semantics, used by
// the tests as ground truth. The dispatched versions may round differently (fused multiply-adds,
// summation order, a vector exp); the bounds are listed at the top of kernels-inl.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fastintent::kernels {

// out[j] += sum_k weights[k] * table[rows[k] * stride + j] for j < n. `n` and `stride` padded.
// This is the first layer's sparse x dense product (an embedding bag).
void SparseAccumulate(const float* table, size_t stride, const uint32_t* rows, const float* weights,
                      size_t count, float* out, size_t n);

// y[j] += a * x[j] for j < n (padded).
void Axpy(float a, const float* x, float* y, size_t n);

// Returns sum_j a[j] * b[j] for j < n (padded).
float Dot(const float* a, const float* b, size_t n);

// y[r] = bias[r] + dot(w + r * cols, x) for r < rows; `cols` padded; y has `rows` elements
// (any count). `w` is row-major [rows][cols].
void MatVec(const float* w, size_t rows, size_t cols, const float* x, const float* bias, float* y);

// x[j] = max(0, x[j] + bias[j]) for j < n (padded).
void BiasRelu(const float* bias, float* x, size_t n);

// In place, numerically stable softmax over n (any count >= 1) elements, exact exp.
void Softmax(float* x, size_t n);

// In place logistic sigmoid over n (any count) elements.
void Sigmoid(float* x, size_t n);

// Scales x (n any count) to unit L2 norm and returns the norm it had; leaves an all-zero
// vector unchanged and returns 0.
float L2Normalize(float* x, size_t n);

// x[k] *= table[idx[k]] for k < n (any count): IDF scaling of hashed features.
void GatherScale(const float* table, const uint32_t* idx, float* x, size_t n);

// One AdamW step over n (padded) parameters: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// w -= lr * (m / bc1 / (sqrt(v / bc2) + eps) + wd * w), where bc1, bc2 are the bias
// corrections 1 - b1^t and 1 - b2^t.
void AdamStep(float* w, float* m, float* v, const float* g, size_t n, float lr, float b1, float b2,
              float eps, float wd, float bc1, float bc2);

// --- Reduced precision: int8 weights with one float scale per row (symmetric, w ~ scale * q). ---

// As SparseAccumulate over an int8 table: out[j] += sum_k (weights[k] * row_scale[rows[k]]) *
// table[rows[k] * stride + j]. `n` and `stride` padded (kFloatPad); `table` needs no alignment.
void SparseAccumulateI8(const int8_t* table, size_t stride, const float* row_scale,
                        const uint32_t* rows, const float* weights, size_t count, float* out,
                        size_t n);

// Symmetric int16 quantisation of x (n padded, kFloatPad): returns s = max|x| / max_q and sets
// q[j] = round-half-even(x[j] * (max_q / max|x|)), so x ~ s * q; all zero (returns 0) when x is.
// max_q <= 32767.
float QuantizeI16(const float* x, size_t n, float max_q, int16_t* q);

// y[r] = bias[r] + (x_scale * w_scale[r]) * sum_j w[r * cols + j] * x[j] for r < rows, the sum
// computed exactly in int32: `cols` a multiple of kInt8Pad, and cols * 127 * max|x| < 2^31.
// (On AVX-512 CPUs with VNNI the dispatcher uses a vpdpwssd version written in kernels.cc.)
void MatVecI8(const int8_t* w, const float* w_scale, size_t rows, size_t cols, const int16_t* x,
              float x_scale, const float* bias, float* y);

// Name of the SIMD target the dispatcher picked on this CPU (hwy::TargetName: "AVX3", "AVX2",
// "SSE4", "NEON", "SVE2", "SCALAR", ...).
const char* ActiveTarget();

namespace reference {
void SparseAccumulate(const float* table, size_t stride, const uint32_t* rows, const float* weights,
                      size_t count, float* out, size_t n);
void Axpy(float a, const float* x, float* y, size_t n);
float Dot(const float* a, const float* b, size_t n);
void MatVec(const float* w, size_t rows, size_t cols, const float* x, const float* bias, float* y);
void BiasRelu(const float* bias, float* x, size_t n);
void Softmax(float* x, size_t n);
void Sigmoid(float* x, size_t n);
float L2Normalize(float* x, size_t n);
void GatherScale(const float* table, const uint32_t* idx, float* x, size_t n);
void AdamStep(float* w, float* m, float* v, const float* g, size_t n, float lr, float b1, float b2,
              float eps, float wd, float bc1, float bc2);
void SparseAccumulateI8(const int8_t* table, size_t stride, const float* row_scale,
                        const uint32_t* rows, const float* weights, size_t count, float* out,
                        size_t n);
float QuantizeI16(const float* x, size_t n, float max_q, int16_t* q);
void MatVecI8(const int8_t* w, const float* w_scale, size_t rows, size_t cols, const int16_t* x,
              float x_scale, const float* bias, float* y);
}  // namespace reference

}  // namespace fastintent::kernels
