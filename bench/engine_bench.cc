// engine_bench: in-process throughput and latency of InferenceEngine.
//
//   engine_bench [MODEL] [--texts FILE.jsonl] [--workers 2] [--submitters 2] [--seconds 3]
//                [--max-batch 64] [--max-wait-us 0] [--window 256] [--load 0.5]
//
// MODEL defaults to $FASTINTENT_BENCH_MODEL, then $FASTINTENT_MODEL. Texts come from a JSON Lines
// file with "text" (default: ../shared/data/clinc150/test.jsonl beside the source tree) or a
// built-in list. Three phases:
//   1. direct: one thread calling Model::Probabilities + Decide in a loop (the compute ceiling
//      of one core);
//   2. saturation: `submitters` threads keep up to `window` requests each in flight through the
//      callback API; prints classifications/s (completed answers only);
//   3. latency at `load` x the saturation rate: submitters pace requests open-loop (a schedule
//      fixed in advance, so a slow answer cannot slow the offered load) and the engine's
//      submit-to-answer histogram gives p50/p99/p99.9.
// A plain binary rather than Google Benchmark: the phases are multi-threaded and open-loop.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "fastintent/engine.h"
#include "fastintent/model_io.h"

namespace fastintent {
namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string model;
  std::string texts = FI_SOURCE_DIR "/../shared/data/clinc150/test.jsonl";
  int workers = 2, submitters = 2, window = 256;
  double seconds = 3, load = 0.5;
  size_t max_batch = 64;
  uint32_t max_wait_us = 0;
};

std::vector<std::string> ReadTexts(const std::string& path) {
  std::vector<std::string> texts;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("text") && j["text"].is_string()) texts.push_back(j["text"]);
  }
  if (texts.empty()) {
    texts = {"what is the weather like tomorrow",
             "play some jazz music",
             "set an alarm for 7 am",
             "how do you say thank you in french",
             "transfer 100 dollars to my savings account",
             "can you see my screen",
             "remind me to call mom tonight",
             "what's my credit score"};
  }
  return texts;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double DirectRate(const Model& m, const std::vector<std::string>& texts, double seconds) {
  Session s = m.NewSession();
  std::vector<LabelScore> out;
  size_t n = 0;
  const Clock::time_point end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(seconds));
  const Clock::time_point start = Clock::now();
  while (Clock::now() < end) {
    for (int i = 0; i < 256; ++i, ++n) {
      if (m.Probabilities(texts[n % texts.size()], &s).ok()) m.Decide(s.probs(), 1, -1, &out);
    }
  }
  return double(n) / Seconds(Clock::now() - start);
}

double SaturationRate(std::shared_ptr<const Model> model, const std::vector<std::string>& texts,
                      const Args& a) {
  EngineOptions eo;
  eo.workers = a.workers;
  eo.max_batch = a.max_batch;
  eo.max_wait_us = a.max_wait_us;
  InferenceEngine engine(model, eo);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  // Each submitter sends `window` requests, then sleeps until half of them were answered (as a
  // client waiting for answers would), so submitters do not spin on the engine's cores.
  struct Window {
    std::mutex mu;
    std::condition_variable cv;
    int inflight = 0;
  };
  std::vector<std::unique_ptr<Window>> windows;
  windows.reserve(size_t(a.submitters));
  threads.reserve(size_t(a.submitters));
  for (int t = 0; t < a.submitters; ++t) windows.push_back(std::make_unique<Window>());
  const Clock::time_point start = Clock::now();
  for (int t = 0; t < a.submitters; ++t) {
    threads.emplace_back([&, t] {
      Window& w = *windows[t];
      size_t i = size_t(t) * 7919;
      while (!stop.load(std::memory_order_relaxed)) {
        int n;
        {
          std::unique_lock<std::mutex> l(w.mu);
          w.cv.wait(l, [&] { return w.inflight <= a.window / 2; });
          n = a.window - w.inflight;
          w.inflight = a.window;
        }
        for (int j = 0; j < n; ++j) {
          engine.Submit(texts[i++ % texts.size()], {},
                        [&w, half = a.window / 2](InferenceResult&&) {
                          std::lock_guard<std::mutex> l(w.mu);
                          if (--w.inflight == half) w.cv.notify_one();
                        });
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
  const EngineStats st = engine.Stats();
  const double elapsed = Seconds(Clock::now() - start);
  stop.store(true);
  for (auto& th : threads) th.join();
  engine.Shutdown();
  std::printf(
      "  saturation: %.0f classifications/s (%llu ok + %llu no-feature in %.2f s, %llu rejected, "
      "mean batch %.1f)\n",
      double(st.completed + st.failed) / elapsed, (unsigned long long)st.completed,
      (unsigned long long)st.failed, elapsed, (unsigned long long)st.rejected,
      st.batches ? double(st.completed + st.failed) / double(st.batches) : 0.0);
  return double(st.completed + st.failed) / elapsed;
}

void LatencyAtRate(std::shared_ptr<const Model> model, const std::vector<std::string>& texts,
                   const Args& a, double rate) {
  EngineOptions eo;
  eo.workers = a.workers;
  eo.max_batch = a.max_batch;
  eo.max_wait_us = a.max_wait_us;
  InferenceEngine engine(model, eo);
  std::vector<std::thread> threads;
  const double per_thread = rate / a.submitters;
  const auto interval = std::chrono::duration<double>(1.0 / per_thread);
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(10);
  const Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  std::atomic<uint64_t> late{0};
  threads.reserve(size_t(a.submitters));
  for (int t = 0; t < a.submitters; ++t) {
    threads.emplace_back([&, t] {
      size_t i = size_t(t) * 7919;
      // Submitters are offset by a fraction of the interval so their requests interleave.
      Clock::time_point next = start + std::chrono::duration_cast<Clock::duration>(
                                           interval * (double(t) / a.submitters));
      uint64_t n = 0;
      while (next < end) {
        std::this_thread::sleep_until(next);
        const Clock::time_point now = Clock::now();
        if (now - next > std::chrono::microseconds(100))
          late.fetch_add(1, std::memory_order_relaxed);
        engine.Submit(texts[i++ % texts.size()], {}, [](InferenceResult&&) {});
        ++n;
        next = start + std::chrono::duration_cast<Clock::duration>(
                           interval * double(n * a.submitters + t) / a.submitters);
        // Equivalent to start + (n + t/S) * interval.
      }
    });
  }
  for (auto& th : threads) th.join();
  engine.Shutdown();
  const EngineStats st = engine.Stats();
  const auto& h = st.end_to_end;
  std::printf(
      "  latency at %.0f req/s offered (%.0f answered/s): submit-to-answer p50 %.1f us, p99 %.1f "
      "us, "
      "p99.9 %.1f us, max %.1f us; queue wait p99 %.1f us; compute p99 %.1f us; %llu rejected; "
      "%llu submissions >100 us late\n",
      rate, double(h.count) / a.seconds, h.Percentile(0.5) / 1e3, h.Percentile(0.99) / 1e3,
      h.Percentile(0.999) / 1e3, h.max_ns / 1e3, st.queue_wait.Percentile(0.99) / 1e3,
      st.compute.Percentile(0.99) / 1e3, (unsigned long long)st.rejected,
      (unsigned long long)late.load());
}

int Main(int argc, char** argv) {
  Args a;
  if (const char* e = std::getenv("FASTINTENT_BENCH_MODEL"); e && *e)
    a.model = e;
  else if (const char* m = std::getenv("FASTINTENT_MODEL"); m && *m)
    a.model = m;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "engine_bench: %s needs a value\n", f.c_str());
        std::exit(1);
      }
      return argv[++i];
    };
    if (f == "--texts")
      a.texts = next();
    else if (f == "--workers")
      a.workers = std::atoi(next());
    else if (f == "--submitters")
      a.submitters = std::atoi(next());
    else if (f == "--window")
      a.window = std::atoi(next());
    else if (f == "--seconds")
      a.seconds = std::atof(next());
    else if (f == "--load")
      a.load = std::atof(next());
    else if (f == "--max-batch")
      a.max_batch = size_t(std::atol(next()));
    else if (f == "--max-wait-us")
      a.max_wait_us = uint32_t(std::atol(next()));
    else if (!f.empty() && f[0] != '-')
      a.model = f;
    else {
      std::fprintf(
          stderr,
          "engine_bench: unknown flag %s (see the comment at the top of bench/engine_bench.cc)\n",
          f.c_str());
      return 1;
    }
  }
  if (a.model.empty()) {
    std::fprintf(stderr, "engine_bench: give a model path (or set FASTINTENT_BENCH_MODEL)\n");
    return 1;
  }
  auto model = LoadModel(a.model);
  if (!model.ok()) {
    std::fprintf(stderr, "engine_bench: %s\n", model.status().message().c_str());
    return 1;
  }
  const std::vector<std::string> texts = ReadTexts(a.texts);
  std::printf(
      "engine_bench: model %s (%zu labels), %zu texts, %d workers, %d submitters, max_batch %zu, "
      "max_wait_us %u, %u hardware threads\n",
      a.model.c_str(), (*model)->labels().size(), texts.size(), a.workers, a.submitters,
      a.max_batch, a.max_wait_us, std::thread::hardware_concurrency());
  std::printf("  direct (1 thread, no engine): %.0f classifications/s\n",
              DirectRate(**model, texts, 1.0));
  const double rate = SaturationRate(*model, texts, a);
  LatencyAtRate(*model, texts, a, rate * a.load);
  return 0;
}

}  // namespace
}  // namespace fastintent

int main(int argc, char** argv) { return fastintent::Main(argc, argv); }
