// Tests of InferenceEngine: results match the model, micro-batching, overload, deadlines,
// cancellation, shutdown, hot swap and concurrent submitters. Run under ThreadSanitizer in CI
// (the `tsan` preset). No timing assertions beyond generous bounds.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "fastintent/engine.h"
#include "testing/tiny_model.h"

namespace fastintent {
namespace {

using namespace std::chrono_literals;

// A tiny model trained in-test; `labels` names the three keyword classes.
std::shared_ptr<const Model> TinyModel(const std::vector<std::string>& labels) {
  auto m = testing::TrainTinyKeywordModel(labels);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::make_shared<const Model>(std::move(m).value());
}

const std::shared_ptr<const Model>& ModelA() {
  static const auto m = TinyModel({"weather", "music", "alarm"});
  return m;
}
const std::shared_ptr<const Model>& ModelB() {
  static const auto m = TinyModel({"w2", "m2", "a2"});
  return m;
}

// Options with `workers` workers taking micro-batches of at most `max_batch`, the rest default.
EngineOptions Workers(int workers, size_t max_batch) {
  EngineOptions eo;
  eo.workers = workers;
  eo.max_batch = max_batch;
  return eo;
}

std::string LabelOf(const InferenceResult& r) {
  return r.labels.empty() || !r.model ? "" : r.model->labels()[r.labels[0].label];
}

TEST(EngineTest, AnswersLikeTheModel) {
  InferenceEngine engine(ModelA());
  RequestOptions o;
  o.want_probabilities = true;
  o.k = 2;
  InferenceResult r = engine.Submit("rain forecast umbrella", o).get();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(LabelOf(r), "weather");
  ASSERT_EQ(r.labels.size(), 2u);
  ASSERT_EQ(r.probabilities.size(), 3u);
  Session s = ModelA()->NewSession();
  ASSERT_TRUE(ModelA()->Probabilities("rain forecast umbrella", &s).ok());
  for (size_t i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(r.probabilities[i], s.probs()[i]);
  EXPECT_EQ(r.model_version, 1u);

  InferenceResult empty = engine.Submit("").get();
  EXPECT_EQ(empty.status.code(), StatusCode::kInvalidArgument);
  EngineStats st = engine.Stats();
  EXPECT_EQ(st.submitted, 2u);
  EXPECT_EQ(st.completed, 1u);
  EXPECT_EQ(st.failed, 1u);
  EXPECT_EQ(st.end_to_end.count, 2u);
}

TEST(EngineTest, CallbackVariantAnswersOnce) {
  InferenceEngine engine(ModelA());
  std::atomic<int> calls{0};
  std::promise<std::string> label;
  engine.Submit("song playlist band", {}, [&](InferenceResult&& r) {
    calls.fetch_add(1);
    label.set_value(LabelOf(r));
  });
  EXPECT_EQ(label.get_future().get(), "music");
  engine.Shutdown();
  EXPECT_EQ(calls.load(), 1);
}

TEST(EngineTest, MicroBatchesConcurrentRequests) {
  EngineOptions eo = Workers(1, 8);
  eo.max_wait_us = 200000;  // a worker waits up to 200 ms for a full batch
  InferenceEngine engine(ModelA(), eo);
  std::vector<std::future<InferenceResult>> fs;
  fs.reserve(8);
  for (int i = 0; i < 8; ++i) fs.push_back(engine.Submit("wake me alarm"));
  for (auto& f : fs) EXPECT_EQ(LabelOf(f.get()), "alarm");
  EngineStats st = engine.Stats();
  EXPECT_EQ(st.completed, 8u);
  // Submitting 8 requests takes far less than 200 ms, so they form at most a couple of batches.
  EXPECT_LE(st.batches, 2u);
  EXPECT_EQ(st.batch_size.count, st.batches);
  EXPECT_GE(st.batch_size.max_ns, 4u);
}

TEST(EngineTest, PartialBatchLeavesAfterMaxWait) {
  EngineOptions eo = Workers(1, 1000);
  eo.max_wait_us = 2000;
  InferenceEngine engine(ModelA(), eo);
  auto f = engine.Submit("snow rain");
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);  // generous: 2 ms expected
  EXPECT_EQ(LabelOf(f.get()), "weather");
}

// A callback that blocks until released keeps the only worker busy, so the queue fills.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  bool entered = false;
  void Wait() {
    std::unique_lock<std::mutex> l(mu);
    entered = true;
    cv.notify_all();
    cv.wait(l, [&] { return open; });
  }
  void AwaitEntered() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return entered; });
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu);
    open = true;
    cv.notify_all();
  }
  // Submits a request whose callback waits on this gate and returns once a worker is stuck in
  // it: with one worker, everything submitted next stays queued until Open().
  void Block(InferenceEngine& engine) {
    engine.Submit("rain", {}, [this](InferenceResult&&) { Wait(); });
    AwaitEntered();
  }
  // Shuts `engine` down while its worker is held here, opening the gate 10 ms later from
  // another thread (Shutdown itself waits for the worker).
  void ShutdownThenOpen(InferenceEngine& engine, InferenceEngine::ShutdownMode mode) {
    std::thread opener([this] {
      std::this_thread::sleep_for(10ms);
      Open();
    });
    engine.Shutdown(mode);
    opener.join();
  }
};

TEST(EngineTest, RejectsAtOnceWhenTheQueueIsFull) {
  EngineOptions eo = Workers(1, 1);
  eo.queue_capacity = 4;
  InferenceEngine engine(ModelA(), eo);
  Gate gate;
  gate.Block(engine);  // the worker is stuck in the callback; the queue is empty
  std::vector<std::future<InferenceResult>> queued;
  queued.reserve(4);
  for (int i = 0; i < 4; ++i) queued.push_back(engine.Submit("song"));
  auto rejected = engine.Submit("song");
  ASSERT_EQ(rejected.wait_for(0s), std::future_status::ready);  // answered inside Submit
  EXPECT_EQ(rejected.get().status.code(), StatusCode::kOverloaded);
  gate.Open();
  for (auto& f : queued) EXPECT_TRUE(f.get().status.ok());
  EngineStats st = engine.Stats();
  EXPECT_EQ(st.rejected, 1u);
  EXPECT_EQ(st.completed, 5u);
}

TEST(EngineTest, InlineComputationOnlyWhenNothingIsQueued) {
  EngineOptions eo = Workers(1, 1);
  InferenceEngine engine(ModelA(), eo);
  RequestOptions o;
  o.want_probabilities = true;
  // Idle engine: computed on this thread, exactly as the model answers.
  std::optional<InferenceResult> r = engine.TryComputeInline("rain forecast umbrella", o);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->status.ok()) << r->status.ToString();
  EXPECT_EQ(LabelOf(*r), "weather");
  EXPECT_EQ(r->model_version, 1u);
  Session s = ModelA()->NewSession();
  ASSERT_TRUE(ModelA()->Probabilities("rain forecast umbrella", &s).ok());
  EXPECT_EQ(r->probabilities, s.probs());
  EXPECT_EQ(engine.TryComputeInline("", o)->status.code(), StatusCode::kInvalidArgument);
  // Deadline and cancellation are honoured without computing.
  RequestOptions late;
  late.deadline = RequestOptions::Clock::now() - 1ms;
  EXPECT_EQ(engine.TryComputeInline("rain", late)->status.code(), StatusCode::kDeadlineExceeded);
  RequestOptions cancelled;
  cancelled.cancel = CancelToken::Make();
  cancelled.cancel->Cancel();
  EXPECT_EQ(engine.TryComputeInline("rain", cancelled)->status.code(), StatusCode::kCancelled);
  // Something queued behind a busy worker: no overtaking, the caller must Submit.
  Gate gate;
  gate.Block(engine);
  auto queued = engine.Submit("song");
  EXPECT_FALSE(engine.TryComputeInline("song playlist", o).has_value());
  gate.Open();
  EXPECT_TRUE(queued.get().status.ok());
  // After a swap the calling thread's session follows the new model.
  engine.Swap(ModelB());
  r = engine.TryComputeInline("song playlist band", o);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(LabelOf(*r), "m2");
  EXPECT_EQ(r->model_version, 2u);
  // Shut down: nothing is computed any more.
  engine.Shutdown();
  EXPECT_FALSE(engine.TryComputeInline("rain", o).has_value());
  const EngineStats st = engine.Stats();
  EXPECT_EQ(st.submitted, 7u);  // 5 inline calls that answered + 2 submitted
  EXPECT_EQ(st.completed, 4u);  // 2 inline + 2 by the worker
  EXPECT_EQ(st.failed, 1u);
  EXPECT_EQ(st.expired, 1u);
  EXPECT_EQ(st.cancelled, 1u);
}

TEST(EngineTest, InlineSessionsDoNotKeepSwappedOutModelsAlive) {
  std::shared_ptr<const Model> first = TinyModel({"weather", "music", "alarm"});
  const std::weak_ptr<const Model> watch = first;
  InferenceEngine engine(std::move(first));
  EXPECT_EQ(LabelOf(*engine.TryComputeInline("rain forecast umbrella", {})), "weather");
  engine.Swap(ModelB());
  EXPECT_TRUE(watch.expired()) << "this thread's inline session still holds the old model";
  EXPECT_EQ(LabelOf(*engine.TryComputeInline("song playlist band", {})), "m2");
}

TEST(EngineTest, ExpiredRequestsAreNotComputed) {
  EngineOptions eo = Workers(1, 1);
  InferenceEngine engine(ModelA(), eo);
  RequestOptions past;
  past.deadline = std::chrono::steady_clock::now() - 1ms;
  InferenceResult r = engine.Submit("rain", past).get();
  EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.model, nullptr);

  // A deadline that passes while the request waits behind a blocked worker.
  Gate gate;
  gate.Block(engine);
  RequestOptions soon;
  soon.deadline = std::chrono::steady_clock::now() + 20ms;
  auto f = engine.Submit("rain", soon);
  RequestOptions late;
  late.deadline = std::chrono::steady_clock::now() + 1h;
  auto g = engine.Submit("rain", late);
  std::this_thread::sleep_for(40ms);
  gate.Open();
  InferenceResult expired = f.get();
  EXPECT_EQ(expired.status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(expired.compute_ns, 0u);
  EXPECT_TRUE(g.get().status.ok());
  EngineStats st = engine.Stats();
  EXPECT_EQ(st.expired, 2u);
  EXPECT_EQ(st.completed, 2u);
}

TEST(EngineTest, CancelledRequestsAreNotComputed) {
  EngineOptions eo = Workers(1, 1);
  InferenceEngine engine(ModelA(), eo);
  Gate gate;
  gate.Block(engine);
  RequestOptions o;
  o.cancel = CancelToken::Make();
  auto a = engine.Submit("rain", o);
  auto b = engine.Submit("song", o);
  auto c = engine.Submit("alarm");
  o.cancel->Cancel();
  gate.Open();
  EXPECT_EQ(a.get().status.code(), StatusCode::kCancelled);
  EXPECT_EQ(b.get().status.code(), StatusCode::kCancelled);
  EXPECT_EQ(LabelOf(c.get()), "alarm");
  EXPECT_EQ(engine.Stats().cancelled, 2u);
}

TEST(EngineTest, ShutdownDrainsEveryQueuedRequest) {
  EngineOptions eo = Workers(1, 3);
  InferenceEngine engine(ModelA(), eo);
  Gate gate;
  gate.Block(engine);
  std::vector<std::future<InferenceResult>> fs;
  fs.reserve(20);
  for (int i = 0; i < 20; ++i) fs.push_back(engine.Submit("playlist album"));
  // Shutdown returns only after every queued request was answered.
  gate.ShutdownThenOpen(engine, InferenceEngine::ShutdownMode::kDrain);
  for (auto& f : fs) {
    ASSERT_EQ(f.wait_for(0s), std::future_status::ready);
    EXPECT_EQ(LabelOf(f.get()), "music");
  }
  InferenceResult after = engine.Submit("rain").get();
  EXPECT_EQ(after.status.code(), StatusCode::kOverloaded);
  EXPECT_FALSE(engine.accepting());
  engine.Shutdown();  // idempotent
}

TEST(EngineTest, ShutdownCanCancelQueuedRequests) {
  EngineOptions eo = Workers(1, 1);
  InferenceEngine engine(ModelA(), eo);
  Gate gate;
  gate.Block(engine);
  std::vector<std::future<InferenceResult>> fs;
  fs.reserve(5);
  for (int i = 0; i < 5; ++i) fs.push_back(engine.Submit("rain"));
  gate.ShutdownThenOpen(engine, InferenceEngine::ShutdownMode::kCancelQueued);
  for (auto& f : fs) EXPECT_EQ(f.get().status.code(), StatusCode::kCancelled);
}

// Swaps while submitters run: every answer is computed wholly on one model (the one it names),
// versions count the swaps, and the model swapped in last serves once the swaps are over.
TEST(EngineTest, HotSwapKeepsServing) {
  EngineOptions eo = Workers(2, 4);
  InferenceEngine engine(ModelA(), eo);
  std::atomic<bool> stop{false};
  std::atomic<int> bad_answers{0}, answers{0};
  std::vector<std::thread> submitters;
  submitters.reserve(2);
  for (int t = 0; t < 2; ++t) {
    submitters.emplace_back([&] {
      while (!stop.load()) {
        InferenceResult r = engine.Submit("rain forecast sunny").get();
        if (!r.status.ok() || r.labels.empty()) {
          bad_answers.fetch_add(1);
          continue;
        }
        const std::string want = r.model == ModelB() ? "w2" : r.model == ModelA() ? "weather" : "?";
        if (LabelOf(r) != want) bad_answers.fetch_add(1);
        answers.fetch_add(1);
      }
    });
  }
  // Let some answers come from the first model before each swap.
  auto await_answers = [&](int n) {
    for (int i = 0; i < 10000 && answers.load() < n; ++i) std::this_thread::sleep_for(1ms);
  };
  await_answers(10);
  engine.Swap(ModelB());
  EXPECT_EQ(engine.model_version(), 2u);
  EXPECT_EQ(engine.model(), ModelB());
  await_answers(20);
  engine.Swap(ModelA());
  EXPECT_EQ(engine.model_version(), 3u);
  await_answers(30);
  engine.Swap(ModelB());
  std::this_thread::sleep_for(20ms);
  stop.store(true);
  for (auto& t : submitters) t.join();
  EXPECT_EQ(bad_answers.load(), 0);
  EXPECT_GE(answers.load(), 30);
  InferenceResult r = engine.Submit("umbrella snow").get();
  EXPECT_EQ(LabelOf(r), "w2");
  EXPECT_EQ(r.model, ModelB());
  EXPECT_EQ(r.model_version, 4u);
  EXPECT_EQ(engine.Stats().model_version, 4u);
}

TEST(EngineTest, ConcurrentSubmittersGetEveryAnswer) {
  EngineOptions eo = Workers(2, 16);
  eo.max_wait_us = 50;
  eo.queue_capacity = 64;  // small, so some submissions are rejected under the burst
  InferenceEngine engine(ModelA(), eo);
  constexpr int kThreads = 4, kPerThread = 500;
  std::atomic<int> ok{0}, overloaded{0}, other{0}, callbacks{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::future<InferenceResult>> fs;
      for (int i = 0; i < kPerThread; ++i) {
        const std::string text = testing::Keywords()[(t + i) % 3][i % 6];
        if (i % 2) {
          engine.Submit(text, {}, [&](InferenceResult&& r) {
            callbacks.fetch_add(1);
            (r.status.ok()                                ? ok
             : r.status.code() == StatusCode::kOverloaded ? overloaded
                                                          : other)
                .fetch_add(1);
          });
        } else {
          fs.push_back(engine.Submit(text));
        }
      }
      for (auto& f : fs) {
        InferenceResult r = f.get();
        (r.status.ok()                                ? ok
         : r.status.code() == StatusCode::kOverloaded ? overloaded
                                                      : other)
            .fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  engine.Shutdown();
  EXPECT_EQ(ok.load() + overloaded.load(), kThreads * kPerThread);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(callbacks.load(), kThreads * kPerThread / 2);
  EngineStats st = engine.Stats();
  EXPECT_EQ(st.submitted, uint64_t(kThreads * kPerThread));
  EXPECT_EQ(st.completed + st.rejected, st.submitted);
  EXPECT_EQ(st.rejected, uint64_t(overloaded.load()));
  EXPECT_EQ(st.queue_depth, 0u);
}

TEST(EngineHistogramTest, PercentilesAreWithinABucket) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 10000; ++v) h.Record(v * 1000);  // 1 us .. 10 ms
  LatencyHistogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 10000u);
  EXPECT_EQ(s.max_ns, 10000000u);
  const double p50 = double(s.Percentile(0.5)), p99 = double(s.Percentile(0.99));
  EXPECT_GE(p50, 5.0e6);
  EXPECT_LE(p50, 5.0e6 * 1.13);
  EXPECT_GE(p99, 9.9e6);
  EXPECT_LE(p99, 10.0e6);
  EXPECT_EQ(s.Percentile(1.0), 10000000u);
  for (uint64_t v : {0ull, 1ull, 7ull, 8ull, 9ull, 1000ull, 123456789ull}) {
    const int b = LatencyHistogram::BucketOf(v);
    EXPECT_LT(v, LatencyHistogram::BucketUpper(b)) << v;
    if (b > 0) {
      EXPECT_GE(v, LatencyHistogram::BucketUpper(b - 1)) << v;
    }
  }
  EXPECT_EQ(LatencyHistogram::BucketOf(~0ull), LatencyHistogram::kBuckets - 1);
}

}  // namespace
}  // namespace fastintent
