// Scalar reference kernels: the semantics every SIMD target must reproduce.
#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"

namespace fastintent::kernels::reference {

void SparseAccumulate(const float* table, size_t stride, const uint32_t* rows, const float* weights,
                      size_t count, float* out, size_t n) {
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

void MatVec(const float* w, size_t rows, size_t cols, const float* x, const float* bias, float* y) {
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

void AdamStep(float* w, float* m, float* v, const float* g, size_t n, float lr, float b1, float b2,
              float eps, float wd, float bc1, float bc2) {
  const float inv_bc1 = 1.0f / bc1, inv_bc2 = 1.0f / bc2;
  for (size_t j = 0; j < n; ++j) {
    m[j] = b1 * m[j] + (1 - b1) * g[j];
    v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
    w[j] -= lr * (m[j] * inv_bc1 / (std::sqrt(v[j] * inv_bc2) + eps) + wd * w[j]);
  }
}

void SparseAccumulateI8(const int8_t* table, size_t stride, const float* row_scale,
                        const uint32_t* rows, const float* weights, size_t count, float* out,
                        size_t n) {
  for (size_t k = 0; k < count; ++k) {
    const int8_t* row = table + size_t(rows[k]) * stride;
    const float c = weights[k] * row_scale[rows[k]];
    for (size_t j = 0; j < n; ++j) out[j] += c * float(row[j]);
  }
}

float QuantizeI16(const float* x, size_t n, float max_q, int16_t* q) {
  float m = 0;
  for (size_t j = 0; j < n; ++j) m = std::max(m, std::fabs(x[j]));
  if (!(m > 0)) {
    for (size_t j = 0; j < n; ++j) q[j] = 0;
    return 0;
  }
  const float boost = m < 1e-30f ? 0x1p64f : 1.0f;  // exact; keeps max_q / m finite
  const float inv = max_q / (m * boost);
  for (size_t j = 0; j < n; ++j) {
    const float v = std::nearbyint((x[j] * boost) * inv);
    q[j] = int16_t(std::max(-32768.0f, std::min(32767.0f, v)));
  }
  return m / max_q;
}

void MatVecI8(const int8_t* w, const float* w_scale, size_t rows, size_t cols, const int16_t* x,
              float x_scale, const float* bias, float* y) {
  for (size_t r = 0; r < rows; ++r) {
    int64_t sum = 0;
    for (size_t j = 0; j < cols; ++j) sum += int64_t(w[r * cols + j]) * x[j];
    y[r] = bias[r] + (x_scale * w_scale[r]) * float(sum);
  }
}

}  // namespace fastintent::kernels::reference
