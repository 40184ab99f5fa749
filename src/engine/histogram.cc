#include "fastintent/histogram.h"

#include <algorithm>
#include <cmath>

namespace fastintent {

int LatencyHistogram::BucketOf(uint64_t ns) {
  constexpr uint64_t kLinear = uint64_t(1) << kSubBits;
  if (ns < kLinear) return int(ns);
  const int exp = 63 - __builtin_clzll(ns);  // >= kSubBits
  if (exp >= kMaxExp) return kBuckets - 1;
  const int sub = int((ns >> (exp - kSubBits)) & (kLinear - 1));
  return ((exp - kSubBits + 1) << kSubBits) + sub;
}

uint64_t LatencyHistogram::BucketUpper(int b) {
  constexpr int kLinear = 1 << kSubBits;
  if (b < kLinear) return uint64_t(b) + 1;
  const int exp = (b >> kSubBits) + kSubBits - 1;
  const uint64_t sub = uint64_t(b & (kLinear - 1));
  const uint64_t width = uint64_t(1) << (exp - kSubBits);
  return (uint64_t(1) << exp) + (sub + 1) * width;
}

void LatencyHistogram::Record(uint64_t ns) {
  counts_[BucketOf(ns)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  uint64_t prev = max_ns_.load(std::memory_order_relaxed);
  while (ns > prev && !max_ns_.compare_exchange_weak(prev, ns, std::memory_order_relaxed)) {
  }
}

LatencyHistogram::Snapshot LatencyHistogram::Read() const {
  Snapshot s;
  uint64_t total = 0;
  for (int b = 0; b < kBuckets; ++b) {
    s.counts[b] = counts_[b].load(std::memory_order_relaxed);
    total += s.counts[b];
  }
  // The per-bucket counts are the truth; count_ may be read mid-update.
  s.count = total;
  s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
  s.max_ns = max_ns_.load(std::memory_order_relaxed);
  return s;
}

void LatencyHistogram::Snapshot::Merge(const Snapshot& o) {
  for (int b = 0; b < kBuckets; ++b) counts[b] += o.counts[b];
  count += o.count;
  sum_ns += o.sum_ns;
  max_ns = std::max(max_ns, o.max_ns);
}

uint64_t LatencyHistogram::Snapshot::Percentile(double q) const {
  if (count == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = uint64_t(std::llround(q * double(count)));
  rank = std::clamp<uint64_t>(rank, 1, count);
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts[b];
    if (seen >= rank) return std::min(BucketUpper(b), std::max<uint64_t>(max_ns, 1));
  }
  return max_ns;
}

uint64_t LatencyHistogram::Snapshot::CountAtMost(uint64_t bound_ns) const {
  uint64_t n = 0;
  for (int b = 0; b < kBuckets; ++b) {
    if (BucketUpper(b) > bound_ns + 1) break;
    n += counts[b];
  }
  return n;
}

}  // namespace fastintent
