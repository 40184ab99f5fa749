// `fastintent bench -m MODEL DATA [--json] [--seconds S] [--precision P]`
//
// Measures, in one run and on one labelled file, what a user of the model pays:
//   accuracy      top-1 label against the gold label(s), no rejection, over every example;
//   featurize     Featurizer::Featurize alone, per utterance (p50);
//   single        text in -> labels out (Model::Probabilities + Model::Decide), one thread, one
//                 call at a time, per-call latency p50/p90/p99 and mean;
//   batch 1t/2t   utterances/s with 1 and 2 threads looping over the file, each thread with its
//                 own Session (the same calls as "single", back to back);
//   peak RSS      getrusage(RUSAGE_SELF).ru_maxrss of this process (model + data + scratch).
//
// It measures fastintent only. Peers live in bench/: bench/fasttext_peer.cc measures fastText
// in-process with the same JSON field names, and bench/compare.py runs both on the same data and
// prints the ratios.
//
// Timing notes: per-call figures subtract the measured cost of reading the clock; percentiles
// are nearest-rank; run it a few times on a shared machine and compare ratios within one run.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/timing.h"
#include "fastintent/model_io.h"
#include "kernels/kernels.h"
#include "text/featurizer.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "train/dataset.h"

namespace fastintent::cli {
namespace {

using timing::Clock;
using timing::Percentile;
using timing::Seconds;
using timing::TimePerCall;
using timing::TimerOverheadNs;

struct BenchArgs {
  std::string model, data;
  std::string precision = "stored";  // --precision
  bool json = false;
  double seconds = 1.0;  // per timed phase
};

double PeakRssMb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Utterances per second with `threads` threads, each with its own Session, each looping over
// the texts (from its own starting point) for `seconds`.
double Throughput(const Model& m, const std::vector<std::string>& texts, int threads,
                  double seconds) {
  std::atomic<bool> go{false}, stop{false};
  std::atomic<int> ready{0};
  std::vector<uint64_t> done(size_t(threads) * 8, 0);  // spaced out: no false sharing
  std::vector<std::thread> pool;
  pool.reserve(size_t(threads));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Session s = m.NewSession();
      std::vector<LabelScore> top;
      size_t i = texts.size() * size_t(t) / size_t(threads), count = 0;
      for (size_t w = 0; w < texts.size(); ++w) {  // warm-up pass
        if (m.Probabilities(texts[w], &s).ok()) m.Decide(s.probs(), 1, -1, &top);
      }
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 64; ++k) {
          if (m.Probabilities(texts[i], &s).ok()) m.Decide(s.probs(), 1, -1, &top);
          if (++i == texts.size()) i = 0;
        }
        count += 64;
      }
      done[size_t(t) * 8] = count;
    });
  }
  // The clock starts once every thread has finished its warm-up pass.
  while (ready.load() < threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  go.store(true, std::memory_order_release);
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (auto& th : pool) th.join();
  const double wall = Seconds(t0, Clock::now());
  uint64_t total = 0;
  for (int t = 0; t < threads; ++t) total += done[size_t(t) * 8];
  return double(total) / wall;
}

void PrintTable(const nlohmann::json& j) {
  std::printf("fastintent bench: %s (%s weights) on %s (%zu utterances), SIMD target %s\n\n",
              j["model"].get<std::string>().c_str(), j["precision"].get<std::string>().c_str(),
              j["data"].get<std::string>().c_str(), j["examples"].get<size_t>(),
              j["simd_target"].get<std::string>().c_str());
  struct Row {
    const char* name;
    const char* key;
    const char* fmt;
  };
  const Row rows[] = {
      {"top-1 accuracy", "accuracy", "%.4f"},
      {"featurise p50 (us)", "featurize_p50_us", "%.2f"},
      {"single p50 (us)", "single_p50_us", "%.2f"},
      {"single p90 (us)", "single_p90_us", "%.2f"},
      {"single p99 (us)", "single_p99_us", "%.2f"},
      {"single mean (us)", "single_mean_us", "%.2f"},
      {"batch 1 thread (utt/s)", "batch_per_s_1t", "%.0f"},
      {"batch 2 threads (utt/s)", "batch_per_s_2t", "%.0f"},
      {"peak RSS (MB)", "peak_rss_mb", "%.1f"},
  };
  for (const Row& r : rows) {
    char value[64];
    std::snprintf(value, sizeof value, r.fmt, j[r.key].get<double>());
    std::printf("%-28s %14s\n", r.name, value);
  }
  std::printf(
      "\ntimer overhead subtracted: %.0f ns per call; fastText beside it: bench/compare.py\n",
      j["timer_overhead_ns"].get<double>());
}

int Run(const BenchArgs& a) {
  auto loaded = LoadForInference(a.model, a.precision);
  if (!loaded.ok()) return Fail(loaded.status().message());
  const Model& m = **loaded;
  auto data = ReadDataset(a.data);
  if (!data.ok()) return Fail(data.status().message());
  if (data->examples.empty()) return Fail(a.data + ": no examples");
  if (Status s = CheckLabelsKnown(m, *data, a.data); !s.ok()) return Fail(s.message());
  std::vector<std::string> texts;
  for (const Example& e : data->examples) texts.push_back(e.text);
  const size_t n = texts.size();
  const double overhead_ns = TimerOverheadNs();
  const bool verbose = !a.json;

  nlohmann::json j;
  j["model"] = a.model.empty() ? DefaultModelPath() : a.model;
  j["data"] = a.data;
  j["examples"] = n;
  j["simd_target"] = kernels::ActiveTarget();
  j["precision"] = PrecisionName(m.precision());
  j["timer_overhead_ns"] = overhead_ns;

  // Warm-up (sizes every scratch buffer) and accuracy: top label vs gold, no rejection.
  Session s = m.NewSession();
  std::vector<LabelScore> top;
  size_t correct = 0;
  for (const Example& e : data->examples) {
    if (!m.Probabilities(e.text, &s).ok()) continue;
    m.Decide(s.probs(), 1, 0, &top);
    if (!top.empty() &&
        std::find(e.labels.begin(), e.labels.end(), m.labels()[top[0].label]) != e.labels.end())
      ++correct;
  }
  j["accuracy"] = double(correct) / double(n);

  // The featuriser's own scratch and output (not the session's): featurisation alone.
  if (verbose) std::fprintf(stderr, "bench: featurisation ...\n");
  FeaturizerScratch scratch;
  FeatureVector x;
  std::vector<double> feat = TimePerCall(n, a.seconds, overhead_ns, [&](size_t i) {
    m.featurizer().Featurize(texts[i], &scratch, &x);
  });
  j["featurize_p50_us"] = Percentile(&feat, 50);

  if (verbose) std::fprintf(stderr, "bench: single-utterance latency ...\n");
  std::vector<double> single = TimePerCall(n, a.seconds, overhead_ns, [&](size_t i) {
    if (m.Probabilities(texts[i], &s).ok()) m.Decide(s.probs(), 1, -1, &top);
  });
  double mean_us = 0;
  for (double v : single) mean_us += v;
  mean_us /= double(single.size());
  j["single_p50_us"] = Percentile(&single, 50);
  j["single_p90_us"] = Percentile(&single, 90);
  j["single_p99_us"] = Percentile(&single, 99);
  j["single_mean_us"] = mean_us;

  if (verbose) std::fprintf(stderr, "bench: throughput, 1 and 2 threads ...\n");
  j["batch_per_s_1t"] = Throughput(m, texts, 1, a.seconds);
  j["batch_per_s_2t"] = Throughput(m, texts, 2, a.seconds);
  j["peak_rss_mb"] = PeakRssMb();

  if (a.json) {
    std::printf("%s\n", DumpJson(j, 2).c_str());
  } else {
    PrintTable(j);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void AddBench(CLI::App& root, int* exit_code) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* c = root.add_subcommand(
      "bench", "Measure accuracy, featurisation, single-utterance latency, throughput and memory");
  c->add_option("-m,--model", a->model, "Model file (default: the built-in assistant model)")
      ->check(NotEmpty());
  AddPrecisionOption(c, &a->precision);
  c->add_option("data", a->data, "Labelled test data (.jsonl, .csv or fastText format)")
      ->required();
  c->add_flag("--json", a->json,
              "Print one JSON object (accuracy, featurize_p50_us, single_p50_us, single_p90_us, "
              "single_p99_us, single_mean_us, batch_per_s_1t, batch_per_s_2t, peak_rss_mb, ...)");
  c->add_option("--seconds", a->seconds, "Minimum duration of each timed phase")
      ->capture_default_str()
      ->check(NumberIn(0.05, 600.0));
  c->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace fastintent::cli
