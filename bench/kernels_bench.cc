// Micro-benchmarks of src/kernels at the sizes fastintent uses: every kernel through the
// dispatched entry point ("dispatched", the target this CPU gets), once per SIMD target the
// CPU supports (forced through Highway's test hook), and the scalar reference.
//
//   kernels_bench --benchmark_filter='Softmax'        one kernel
//   kernels_bench --benchmark_filter='/dispatched|/reference'
//
// SparseAccumulate "cold" cycles through 1024 random sets of 120 rows of a 60,000 x n table
// (61 MB at n = 256, larger than the caches); "hot" repeats one set (about 120 KB, in L2).
// The int8 comparison rows ("32768x256") use a 32,768 x 256 table for both element types:
// 32 MB as float, 8 MB as int8 (the int8 table may fit a large L3, which is part of its point).
// In-place kernels run on their own output again; the values stay finite and typical.
//
//   kernels_bench --benchmark_filter='I8|I16|32768x256|MatVec/(151|256)x256'   int8 vs float
#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/aligned_buffer.h"
#include "hwy/targets.h"  // only to force a target for the per-target rows
#include "kernels/kernels.h"

namespace fastintent::kernels {
namespace {

// Which implementation a benchmark runs: the scalar reference, or the dispatched kernels with
// Highway restricted to `target` (0 = whatever the CPU supports best).
struct Impl {
  std::string name;
  bool reference = false;
  int64_t target = 0;
};

// Restricts Highway's dispatch to one target for the lifetime of the object.
class ScopedTarget {
 public:
  explicit ScopedTarget(const Impl& impl) : active_(!impl.reference && impl.target != 0) {
    if (active_) hwy::SetSupportedTargetsForTest(impl.target);
  }
  ~ScopedTarget() {
    if (active_) hwy::SetSupportedTargetsForTest(0);
  }
  ScopedTarget(const ScopedTarget&) = delete;
  ScopedTarget& operator=(const ScopedTarget&) = delete;

 private:
  bool active_;
};

AlignedBuffer<float> Random(size_t n, uint32_t seed, float lo = -1, float hi = 1) {
  AlignedBuffer<float> b(n);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (size_t i = 0; i < n; ++i) b[i] = dist(rng);
  return b;
}

// Symmetric int8 weights in [-127, 127] and int16 activations in [-32767, 32767].
AlignedBuffer<int8_t> RandomI8(size_t n, uint32_t seed) {
  AlignedBuffer<int8_t> b(n);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-127, 127);
  for (size_t i = 0; i < n; ++i) b[i] = int8_t(dist(rng));
  return b;
}
AlignedBuffer<int16_t> RandomI16(size_t n, uint32_t seed) {
  AlignedBuffer<int16_t> b(n);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-32767, 32767);
  for (size_t i = 0; i < n; ++i) b[i] = int16_t(dist(rng));
  return b;
}

void SetLabel(benchmark::State& state, const Impl& impl) {
  state.SetLabel(impl.reference ? "reference" : ActiveTarget());
}

// The embedding bag over a table of `table_rows` rows of T (float, or int8 with a scale per
// row): 120 rows per call, cycling through 1024 row sets when `cold` (so rows come from memory)
// or repeating one set (cache-resident) otherwise.
template <typename T>
void SparseAccumulateBench(benchmark::State& state, Impl impl, size_t n, bool cold,
                           size_t table_rows) {
  ScopedTarget scoped(impl);
  constexpr bool kInt8 = std::is_same_v<T, int8_t>;
  constexpr size_t kRowsPerCall = 120, kSets = 1024;
  // Per shape: 61 MB of floats at 60000 x 256, 8 MB of int8 at 32768 x 256.
  static std::map<std::pair<size_t, size_t>, AlignedBuffer<T>> tables;
  AlignedBuffer<T>& table = tables[{table_rows, n}];
  if (table.size() == 0) {
    if constexpr (kInt8) {
      table = RandomI8(table_rows * n, 1);
    } else {
      table = Random(table_rows * n, 1, -0.1f, 0.1f);
    }
  }
  const auto row_scale = Random(table_rows, 4, 1e-3f, 1e-2f);  // int8 only
  std::mt19937 rng(2);
  std::uniform_int_distribution<uint32_t> pick(0, uint32_t(table_rows - 1));
  std::vector<uint32_t> rows(kSets * kRowsPerCall);
  for (auto& r : rows) r = pick(rng);
  const auto weights = Random(kRowsPerCall, 3);
  AlignedBuffer<float> out(n);
  size_t set = 0;
  for (auto _ : state) {
    const uint32_t* ids = rows.data() + set * kRowsPerCall;
    if (cold) set = (set + 1) % kSets;
    if constexpr (kInt8) {
      (impl.reference ? reference::SparseAccumulateI8 : SparseAccumulateI8)(
          table.data(), n, row_scale.data(), ids, weights.data(), kRowsPerCall, out.data(), n);
    } else {
      (impl.reference ? reference::SparseAccumulate : SparseAccumulate)(
          table.data(), n, ids, weights.data(), kRowsPerCall, out.data(), n);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations() * kRowsPerCall * n * sizeof(T)));
  SetLabel(state, impl);
}

void BM_SparseAccumulate(benchmark::State& state, Impl impl, size_t n, bool cold,
                         size_t table_rows = 60000) {
  SparseAccumulateBench<float>(state, impl, n, cold, table_rows);
}

void BM_SparseAccumulateI8(benchmark::State& state, Impl impl, size_t n, bool cold,
                           size_t table_rows) {
  SparseAccumulateBench<int8_t>(state, impl, n, cold, table_rows);
}

void BM_Axpy(benchmark::State& state, Impl impl, size_t n) {
  ScopedTarget scoped(impl);
  const auto x = Random(n, 1);
  auto y = Random(n, 2);
  for (auto _ : state) {
    impl.reference ? reference::Axpy(1e-3f, x.data(), y.data(), n)
                   : Axpy(1e-3f, x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetLabel(state, impl);
}

void BM_Dot(benchmark::State& state, Impl impl, size_t n) {
  ScopedTarget scoped(impl);
  const auto a = Random(n, 1), b = Random(n, 2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(impl.reference ? reference::Dot(a.data(), b.data(), n)
                                            : Dot(a.data(), b.data(), n));
  }
  SetLabel(state, impl);
}

void BM_MatVec(benchmark::State& state, Impl impl, size_t rows, size_t cols) {
  ScopedTarget scoped(impl);
  const auto w = Random(rows * cols, 1), x = Random(cols, 2), bias = Random(rows, 3);
  std::vector<float> y(rows);
  for (auto _ : state) {
    if (impl.reference) {
      reference::MatVec(w.data(), rows, cols, x.data(), bias.data(), y.data());
    } else {
      MatVec(w.data(), rows, cols, x.data(), bias.data(), y.data());
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetLabel(state, impl);
}

// x quantised to int16 with max_q = 32767: cols * 127 * 32767 < 2^31 for cols <= 512.
void BM_MatVecI8(benchmark::State& state, Impl impl, size_t rows, size_t cols) {
  ScopedTarget scoped(impl);
  const auto w = RandomI8(rows * cols, 1);
  const auto x = RandomI16(cols, 2);
  const auto w_scale = Random(rows, 4, 1e-3f, 1e-2f), bias = Random(rows, 3);
  std::vector<float> y(rows);
  for (auto _ : state) {
    if (impl.reference) {
      reference::MatVecI8(w.data(), w_scale.data(), rows, cols, x.data(), 1e-4f, bias.data(),
                          y.data());
    } else {
      MatVecI8(w.data(), w_scale.data(), rows, cols, x.data(), 1e-4f, bias.data(), y.data());
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetLabel(state, impl);
}

void BM_QuantizeI16(benchmark::State& state, Impl impl, size_t n) {
  ScopedTarget scoped(impl);
  const auto x = Random(n, 1, 0, 3);  // post-ReLU activations
  AlignedBuffer<int16_t> q(n);
  for (auto _ : state) {
    benchmark::DoNotOptimize(impl.reference ? reference::QuantizeI16(x.data(), n, 32767, q.data())
                                            : QuantizeI16(x.data(), n, 32767, q.data()));
    benchmark::ClobberMemory();
  }
  SetLabel(state, impl);
}

void BM_BiasRelu(benchmark::State& state, Impl impl, size_t n) {
  ScopedTarget scoped(impl);
  const auto bias = Random(n, 1, -1e-3f, 1e-3f);
  auto x = Random(n, 2);
  for (auto _ : state) {
    impl.reference ? reference::BiasRelu(bias.data(), x.data(), n)
                   : BiasRelu(bias.data(), x.data(), n);
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
  SetLabel(state, impl);
}

// In-place kernels over any count: `fn` is applied to its own output again each iteration.
void BM_InPlace(benchmark::State& state, Impl impl, size_t n, float lo, float hi,
                const std::function<void(float*, size_t)>& simd,
                const std::function<void(float*, size_t)>& ref) {
  ScopedTarget scoped(impl);
  auto x = Random(n, 1, lo, hi);
  const auto& fn = impl.reference ? ref : simd;
  for (auto _ : state) {
    fn(x.data(), n);
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
  SetLabel(state, impl);
}

void BM_GatherScale(benchmark::State& state, Impl impl, size_t n) {
  ScopedTarget scoped(impl);
  constexpr size_t kBuckets = 1 << 20;  // hashed feature buckets: a 4 MB IDF table
  const auto table = Random(kBuckets, 1, 0.999f, 1.001f);
  std::mt19937 rng(2);
  std::uniform_int_distribution<uint32_t> pick(0, kBuckets - 1);
  std::vector<uint32_t> idx(n);
  for (auto& i : idx) i = pick(rng);
  auto x = Random(n, 3);
  for (auto _ : state) {
    impl.reference ? reference::GatherScale(table.data(), idx.data(), x.data(), n)
                   : GatherScale(table.data(), idx.data(), x.data(), n);
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
  SetLabel(state, impl);
}

void BM_AdamStep(benchmark::State& state, Impl impl, size_t n) {
  ScopedTarget scoped(impl);
  auto w = Random(n, 1), m = Random(n, 2, -1e-3f, 1e-3f), v = Random(n, 3, 0, 1e-4f);
  const auto g = Random(n, 4, -1e-2f, 1e-2f);
  for (auto _ : state) {
    if (impl.reference) {
      reference::AdamStep(w.data(), m.data(), v.data(), g.data(), n, 1e-3f, 0.9f, 0.999f, 1e-8f,
                          0.01f, 0.5f, 0.01f);
    } else {
      AdamStep(w.data(), m.data(), v.data(), g.data(), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.5f,
               0.01f);
    }
    benchmark::DoNotOptimize(w.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations() * n));
  SetLabel(state, impl);
}

// The reference, the dispatched kernels, and each target this CPU supports, best first.
// Targets the CPU supports but fi_kernels was not compiled for (e.g. AVX3_DL) are skipped:
// forcing one would silently run another.
std::vector<Impl> Impls() {
  std::vector<Impl> impls = {{"reference", true, 0}, {"dispatched", false, 0}};
  for (int64_t bits = hwy::SupportedTargets(); bits != 0; bits &= bits - 1) {
    const int64_t target = bits & -bits;
    Impl impl{hwy::TargetName(target), false, target};
    ScopedTarget scoped(impl);
    if (impl.name == ActiveTarget()) impls.push_back(impl);
  }
  return impls;
}

// NOLINTBEGIN(performance-inefficient-string-concatenation): the names are built once, at
// start-up; "a" + b + c reads best here.
void RegisterAll() {
  const auto reg = [](const std::string& name, auto fn) {
    benchmark::RegisterBenchmark(name.c_str(), fn);
  };
  for (const Impl& impl : Impls()) {
    const std::string s = "/" + impl.name;
    for (size_t n : {256, 512}) {
      const std::string ns = "/n=" + std::to_string(n);
      for (bool cold : {true, false}) {
        reg("SparseAccumulate" + ns + (cold ? "/cold" : "/hot") + s,
            [=](benchmark::State& st) { BM_SparseAccumulate(st, impl, n, cold); });
      }
      reg("Axpy" + ns + s, [=](benchmark::State& st) { BM_Axpy(st, impl, n); });
      reg("Dot" + ns + s, [=](benchmark::State& st) { BM_Dot(st, impl, n); });
      reg("BiasRelu" + ns + s, [=](benchmark::State& st) { BM_BiasRelu(st, impl, n); });
      reg("L2Normalize" + ns + s, [=](benchmark::State& st) {
        BM_InPlace(st, impl, n, -1, 1, L2Normalize,
                   [](float* x, size_t k) { reference::L2Normalize(x, k); });
      });
      reg("AdamStep" + ns + s, [=](benchmark::State& st) { BM_AdamStep(st, impl, n); });
    }
    reg("AdamStep/n=65536" + s, [=](benchmark::State& st) { BM_AdamStep(st, impl, 65536); });
    reg("MatVec/150x256" + s, [=](benchmark::State& st) { BM_MatVec(st, impl, 150, 256); });
    reg("MatVec/151x256" + s, [=](benchmark::State& st) { BM_MatVec(st, impl, 151, 256); });
    reg("MatVec/256x256" + s, [=](benchmark::State& st) { BM_MatVec(st, impl, 256, 256); });
    reg("MatVec/256x512" + s, [=](benchmark::State& st) { BM_MatVec(st, impl, 256, 512); });
    reg("MatVec/150x512" + s, [=](benchmark::State& st) { BM_MatVec(st, impl, 150, 512); });
    // Reduced precision, next to float rows of the same shapes.
    for (bool cold : {true, false}) {
      const std::string c = cold ? "/cold" : "/hot";
      reg("SparseAccumulate/32768x256" + c + s,
          [=](benchmark::State& st) { BM_SparseAccumulate(st, impl, 256, cold, 32768); });
      reg("SparseAccumulateI8/32768x256" + c + s,
          [=](benchmark::State& st) { BM_SparseAccumulateI8(st, impl, 256, cold, 32768); });
    }
    reg("MatVecI8/151x256" + s, [=](benchmark::State& st) { BM_MatVecI8(st, impl, 151, 256); });
    reg("MatVecI8/256x256" + s, [=](benchmark::State& st) { BM_MatVecI8(st, impl, 256, 256); });
    reg("QuantizeI16/n=256" + s, [=](benchmark::State& st) { BM_QuantizeI16(st, impl, 256); });
    reg("Softmax/n=150" + s, [=](benchmark::State& st) {
      BM_InPlace(st, impl, 150, -10, 10, Softmax, reference::Softmax);
    });
    reg("Sigmoid/n=150" + s, [=](benchmark::State& st) {
      BM_InPlace(st, impl, 150, -10, 10, Sigmoid, reference::Sigmoid);
    });
    if (impl.reference || impl.target == 0) {  // GatherScale is the same scalar loop everywhere
      reg("GatherScale/n=100" + s, [=](benchmark::State& st) { BM_GatherScale(st, impl, 100); });
    }
  }
}
// NOLINTEND(performance-inefficient-string-concatenation)

}  // namespace
}  // namespace fastintent::kernels

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  fastintent::kernels::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
