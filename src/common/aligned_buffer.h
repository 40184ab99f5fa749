// AlignedBuffer<T>: a fixed-size, zero-initialised array aligned to 64 bytes (a cache line and
// the widest SIMD vector), so kernels may use aligned loads. Move-only; not synchronised.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace fastintent {

inline constexpr size_t kAlignBytes = 64;
// Floats per kAlignBytes: rows of weight matrices are padded to a multiple of this, so SIMD
// kernels never need a tail loop.
inline constexpr size_t kFloatPad = kAlignBytes / sizeof(float);

// Rounds n up to a multiple of kFloatPad.
inline constexpr size_t PadFloats(size_t n) { return (n + kFloatPad - 1) / kFloatPad * kFloatPad; }

// Columns of the int8 weight matrices and int16 activations of reduced-precision models are
// padded to a multiple of this: the widest int16 vector the kernels use (32 lanes).
inline constexpr size_t kInt8Pad = 2 * kFloatPad;
inline constexpr size_t PadInt8(size_t n) { return (n + kInt8Pad - 1) / kInt8Pad * kInt8Pad; }

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { Resize(n); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~AlignedBuffer() { std::free(data_); }

  // Discards the contents and holds n zeroed elements.
  void Resize(size_t n) {
    std::free(data_);
    data_ = nullptr;
    size_ = n;
    if (n == 0) return;
    size_t bytes = (n * sizeof(T) + kAlignBytes - 1) / kAlignBytes * kAlignBytes;
    data_ = static_cast<T*>(std::aligned_alloc(kAlignBytes, bytes));
    if (!data_) throw std::bad_alloc();
    std::memset(static_cast<void*>(data_), 0, bytes);
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace fastintent
