// Appender<T>: writes into a std::vector through a raw pointer, for the featuriser's hot loops
// (feature_hash.cc, featurizer.cc). Internal to src/text; not synchronised.
#pragma once

#include <cstddef>
#include <vector>

namespace fastintent {

// The vector is first grown to an upper bound of what will be written and cut to the written
// length by Finish(), so the hot loops have no capacity checks and nothing is allocated once the
// vector is warm. Writing more than `bound` elements is undefined behaviour.
template <class T>
class Appender {
 public:
  Appender(std::vector<T>* v, size_t bound) : v_(v) {
    if (v_->size() < bound) v_->resize(bound);
    begin_ = p_ = v_->data();
  }
  void operator()(T x) { *p_++ = x; }
  // Counts `k` elements written directly after the last one appended.
  void Skip(size_t k) { p_ += k; }
  size_t size() const { return size_t(p_ - begin_); }
  void Finish() { v_->resize(size()); }

 private:
  std::vector<T>* v_;
  T* begin_;
  T* p_;
};

}  // namespace fastintent
