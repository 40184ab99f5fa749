// LatencyHistogram: a fixed-size log-linear histogram of durations in nanoseconds, for latency
// percentiles and Prometheus export. Record() is wait-free (relaxed atomic increments) and may
// be called from any number of threads; Read() may run concurrently with Record() and sees
// each count either before or after a concurrent increment (never torn).
//
// Buckets: values below 2^kSubBits ns are exact; above, each power of two is split into
// 2^kSubBits equal buckets, so a bucket's width is at most 1/2^kSubBits (12.5 %) of its lower
// bound. Values >= 2^40 ns (~18 minutes) land in the last bucket.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace fastintent {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 3;
  static constexpr int kMaxExp = 40;
  static constexpr int kBuckets = (kMaxExp - kSubBits + 1) << kSubBits;

  // A plain, mergeable copy of the counts.
  struct Snapshot {
    std::vector<uint64_t> counts;  // kBuckets entries
    uint64_t count = 0;
    uint64_t sum_ns = 0;
    uint64_t max_ns = 0;

    Snapshot() : counts(kBuckets, 0) {}
    // Adds `other`'s samples to these (counts, count and sum added; max is the larger).
    void Merge(const Snapshot& other);
    // Value below which a fraction q (0..1) of the samples fall, in ns: the upper bound of the
    // bucket holding that rank (so an over-estimate by at most one bucket width), clamped to
    // max_ns. 0 when empty.
    uint64_t Percentile(double q) const;
    // Samples <= `bound_ns` (counting whole buckets whose upper bound is <= bound_ns).
    uint64_t CountAtMost(uint64_t bound_ns) const;
    double MeanNs() const { return count ? double(sum_ns) / double(count) : 0.0; }
  };

  // Counts one sample of `ns` nanoseconds. Wait-free; any thread.
  void Record(uint64_t ns);
  // A copy of the counts so far; may run concurrently with Record().
  Snapshot Read() const;

  // Index of the bucket that counts `ns` (0..kBuckets-1; the last one for values >= 2^40).
  static int BucketOf(uint64_t ns);
  // Smallest value of bucket b + width (exclusive upper bound).
  static uint64_t BucketUpper(int b);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> max_ns_{0};
};

}  // namespace fastintent
