// Scalar reference kernels: the semantics every SIMD target must reproduce.
#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"

namespace fastintent::kernels::reference {

void SparseAccumulate(const float* table, size_t stride, const uint32_t* rows,
                      const float* weights, size_t count, float* out, size_t n) {
  for (size_t k = 0; k < count; ++k) {
    const float* row = table + size_t(rows[k]) * stride;
    const float w = weights[k];
    for (size_t j = 0; j < n; ++j) out[j] += w * row[j];
  }
}

void Axpy(float a, const float* x, float* y, size_t n) {
  for (size_t j = 0; j < n; ++j) y[j] += a * x[j];
}

float Dot(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t j = 0; j < n; ++j) s += double(a[j]) * b[j];
  return float(s);
}

void MatVec(const float* w, size_t rows, size_t cols, const float* x, const float* bias,
            float* y) {
  for (size_t r = 0; r < rows; ++r) y[r] = bias[r] + Dot(w + r * cols, x, cols);
}

void BiasRelu(const float* bias, float* x, size_t n) {
  for (size_t j = 0; j < n; ++j) x[j] = std::max(0.0f, x[j] + bias[j]);
}

void Softmax(float* x, size_t n) {
  float mx = x[0];
  for (size_t j = 1; j < n; ++j) mx = std::max(mx, x[j]);
  double sum = 0;
  for (size_t j = 0; j < n; ++j) {
    x[j] = std::exp(x[j] - mx);
    sum += x[j];
  }
  const float inv = float(1.0 / sum);
  for (size_t j = 0; j < n; ++j) x[j] *= inv;
}

void Sigmoid(float* x, size_t n) {
  for (size_t j = 0; j < n; ++j) x[j] = 1.0f / (1.0f + std::exp(-x[j]));
}

float L2Normalize(float* x, size_t n) {
  double s = 0;
  for (size_t j = 0; j < n; ++j) s += double(x[j]) * x[j];
  if (s == 0) return 0;
  const float norm = float(std::sqrt(s));
  const float inv = 1.0f / norm;
  for (size_t j = 0; j < n; ++j) x[j] *= inv;
  return norm;
}

void GatherScale(const float* table, const uint32_t* idx, float* x, size_t n) {
  for (size_t k = 0; k < n; ++k) x[k] *= table[idx[k]];
}

void AdamStep(float* w, float* m, float* v, const float* g, size_t n, float lr, float b1,
              float b2, float eps, float wd, float bc1, float bc2) {
  const float inv_bc1 = 1.0f / bc1, inv_bc2 = 1.0f / bc2;
  for (size_t j = 0; j < n; ++j) {
    m[j] = b1 * m[j] + (1 - b1) * g[j];
    v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
    w[j] -= lr * (m[j] * inv_bc1 / (std::sqrt(v[j] * inv_bc2) + eps) + wd * w[j]);
  }
}

}  // namespace fastintent::kernels::reference
