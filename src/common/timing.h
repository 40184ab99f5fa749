// Per-call timing for the benchmarks (`fastintent bench`, bench/fasttext_peer): nearest-rank
// percentiles, the clock's own cost, and a loop that times each call. Single-threaded; header
// only, so both sides of a comparison measure the same way.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <vector>

namespace fastintent::timing {

using Clock = std::chrono::steady_clock;

// Seconds from `a` to `b`.
inline double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Percentile (0..100) of `v` by nearest rank; sorts `v`. 0 when `v` is empty.
inline double Percentile(std::vector<double>* v, double p) {
  if (v->empty()) return 0;
  std::sort(v->begin(), v->end());
  size_t i = size_t(std::ceil(p / 100.0 * double(v->size())));
  i = std::min(v->size() - 1, i == 0 ? 0 : i - 1);
  return (*v)[i];
}

// Median cost of one steady_clock::now() pair, in ns, subtracted from per-call samples.
inline double TimerOverheadNs() {
  std::vector<double> v;
  v.reserve(20001);
  for (int i = 0; i < 20001; ++i) {
    const auto a = Clock::now();
    const auto b = Clock::now();
    v.push_back(std::chrono::duration<double, std::nano>(b - a).count());
  }
  return Percentile(&v, 50);
}

// Runs fn(i) for i < n, one timed call each, passes until `seconds` (at least one pass);
// returns per-call microseconds (timer overhead removed).
template <class Fn>
std::vector<double> TimePerCall(size_t n, double seconds, double overhead_ns, Fn&& fn) {
  std::vector<double> us;
  us.reserve(n * 8);
  const auto start = Clock::now();
  do {
    for (size_t i = 0; i < n; ++i) {
      const auto a = Clock::now();
      fn(i);
      const auto b = Clock::now();
      const double ns = std::chrono::duration<double, std::nano>(b - a).count();
      us.push_back(std::max(0.0, ns - overhead_ns) / 1e3);
    }
  } while (Seconds(start, Clock::now()) < seconds);
  return us;
}

}  // namespace fastintent::timing
