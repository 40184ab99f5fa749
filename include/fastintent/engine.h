// InferenceEngine: an asynchronous, micro-batching front end over an immutable Model.
//
// Callers Submit() texts from any number of threads and get a std::future (or a callback) with
// the result; a fixed pool of worker threads, each with its own Session, drains a bounded queue
// in micro-batches (up to max_batch requests; a worker that finds fewer waits at most
// max_wait_us for more). Submit never blocks on computation: when the queue is full it answers
// at once with kOverloaded, so memory stays bounded however hard the engine is pushed.
//
// Every submitted request is answered exactly once, with one of:
//   kOk                 labels (and probabilities when asked for) from the model;
//   kInvalidArgument    the model could not classify the text (empty / no known feature);
//   kOverloaded         the queue was full, or the engine is shut down (never computed);
//   kDeadlineExceeded   the deadline had passed when a worker reached it (never computed);
//   kCancelled          its CancelToken was cancelled before a worker reached it, or
//                       Shutdown(kCancelQueued) dropped it (never computed).
//
// Hot swap: Swap() replaces the model atomically. A batch is computed entirely on the model that
// was current when the worker took it, and each Result holds a reference to the model that
// computed it (so label indices stay meaningful after a swap). The engine accepts models only and
// does no file I/O: reading and verifying a model file, and counting failed reloads, belong to
// whoever owns the file (for `serve`, server::InferenceService).
//
// Thread-safety: every public member may be called concurrently from any thread. Callbacks
// run on a worker thread (or, for requests answered at submission, on the submitting thread)
// and must not block for long or throw; they may call Submit() but not Shutdown().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fastintent/histogram.h"
#include "fastintent/model.h"
#include "fastintent/status.h"

namespace fastintent {

// Values below 1 for workers, max_batch and queue_capacity are taken as 1.
struct EngineOptions {
  int workers = 2;                // worker threads, each with its own Session
  size_t max_batch = 64;          // most requests a worker takes at once
  uint32_t max_wait_us = 0;       // how long a worker holding < max_batch waits for more
  size_t queue_capacity = 65536;  // queued requests beyond this are rejected (kOverloaded)
};

// A cancellation flag shared between a caller and the requests it tags. Cancelling is
// idempotent and thread-safe; requests not yet computed are answered kCancelled when a worker
// reaches them.
class CancelToken {
 public:
  static std::shared_ptr<CancelToken> Make() { return std::make_shared<CancelToken>(); }
  void Cancel() { cancelled_.store(true, std::memory_order_release); }
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> cancelled_{false};
};

struct RequestOptions {
  using Clock = std::chrono::steady_clock;
  Clock::time_point deadline = Clock::time_point::max();  // answered kDeadlineExceeded after
  int k = 1;                                              // labels to report (see Model::Decide)
  float threshold = -1;                                   // < 0: the model's calibrated threshold
  bool want_probabilities = false;                        // also return one probability per label
  std::shared_ptr<CancelToken> cancel;                    // optional
};

struct InferenceResult {
  Status status;
  std::vector<LabelScore> labels;      // best first; empty when rejected or on error
  std::vector<float> probabilities;    // per label of `model`, when asked for and status ok
  std::shared_ptr<const Model> model;  // the model that computed this (null if not computed)
  uint64_t model_version = 0;          // 1 for the first model, +1 per swap
  uint64_t queue_ns = 0;               // submit -> taken by a worker
  uint64_t compute_ns = 0;             // featurise + forward + decide
};

// Monotonic counters and latency histograms (nanoseconds) since construction.
struct EngineStats {
  uint64_t submitted = 0;      // every Submit call
  uint64_t completed = 0;      // answered kOk
  uint64_t failed = 0;         // answered kInvalidArgument by the model
  uint64_t rejected = 0;       // answered kOverloaded (queue full or shut down)
  uint64_t expired = 0;        // answered kDeadlineExceeded
  uint64_t cancelled = 0;      // answered kCancelled
  uint64_t batches = 0;        // micro-batches taken by workers (TryComputeInline counts as one)
  uint64_t queue_depth = 0;    // requests waiting right now
  uint64_t model_version = 0;  // 1 for the first model, +1 per Swap
  LatencyHistogram::Snapshot queue_wait;  // submit -> taken by a worker
  LatencyHistogram::Snapshot compute;     // per request
  LatencyHistogram::Snapshot end_to_end;  // submit -> answer handed over (computed requests)
  LatencyHistogram::Snapshot batch_size;  // requests per batch (values, not ns)
};

class InferenceEngine {
 public:
  using Callback = std::function<void(InferenceResult&&)>;
  enum class ShutdownMode { kDrain, kCancelQueued };

  // Starts the workers. `model` must not be null.
  InferenceEngine(std::shared_ptr<const Model> model, EngineOptions options = {});
  // Shutdown(kDrain) if not already shut down.
  ~InferenceEngine();
  InferenceEngine(const InferenceEngine&) = delete;
  InferenceEngine& operator=(const InferenceEngine&) = delete;

  // Queues `text` for a worker and returns a future of its result. Never blocks: when the queue
  // is full or the engine is shutting down, the future is already ready with kOverloaded, and
  // with kDeadlineExceeded when the deadline has already passed. Thread-safe.
  std::future<InferenceResult> Submit(std::string text, const RequestOptions& options = {});
  // The same, but `done` is called exactly once with the result (on a worker thread, or on the
  // calling thread when the request is refused at once).
  void Submit(std::string text, const RequestOptions& options, Callback done);

  // Computes `text` at once on the calling thread when the engine is accepting and nothing is
  // queued (so it overtakes no one and the workers have capacity to spare); returns nullopt
  // otherwise, and the caller should Submit() instead. Deadline and cancellation are honoured
  // and the result is counted like a worker's (a batch of one, zero queue wait). Meant for
  // threads that would otherwise only wait for a small answer, like an HTTP I/O thread: it
  // saves the two thread hand-offs of Submit. Each calling thread keeps its own Session
  // (allocated on its first call and after a model swap; it keeps no model alive).
  std::optional<InferenceResult> TryComputeInline(const std::string& text,
                                                  const RequestOptions& options);

  // Swaps in an already loaded (and verified) model, which must not be null; requests taken by a
  // worker from now on are computed on it.
  void Swap(std::shared_ptr<const Model> model);
  std::shared_ptr<const Model> model() const;
  uint64_t model_version() const { return version_.load(std::memory_order_acquire); }

  // Stops accepting (later Submits are answered kOverloaded with "shutting down"), answers every
  // queued request (computing them with kDrain, kCancelled with kCancelQueued) and joins the
  // workers. Idempotent; safe to call concurrently with Submit.
  void Shutdown(ShutdownMode mode = ShutdownMode::kDrain);
  bool accepting() const { return !stopping_.load(std::memory_order_acquire); }

  EngineStats Stats() const;
  const EngineOptions& options() const { return options_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Request {
    std::string text;
    RequestOptions options;
    Clock::time_point submitted;
    std::promise<InferenceResult> promise;
    Callback callback;  // used when set, else promise
  };
  // Per-worker statistics: single writer (its worker), read by Stats().
  struct WorkerStats {
    LatencyHistogram queue_wait, compute, end_to_end, batch_size;
    std::atomic<uint64_t> completed{0}, failed{0}, expired{0}, cancelled{0}, batches{0};
  };

  void Enqueue(Request&& r);
  void WorkerLoop(int index);
  // The per-text step of the workers and of TryComputeInline, checked at *now: kCancelled, or
  // kDeadlineExceeded with message `late`, without computing; else `model`'s answer (with
  // result.model set) and *now moved to the end of the computation. Counts the outcome and the
  // compute time in *stats.
  static InferenceResult Compute(const std::string& text, const RequestOptions& o,
                                 std::shared_ptr<const Model> model, uint64_t version,
                                 Session* session, const char* late, Clock::time_point* now,
                                 WorkerStats* stats);
  void Answer(Request& r, InferenceResult&& result);
  void CancelAll(std::deque<Request>* queue);

  const EngineOptions options_;
  mutable std::mutex model_mu_;
  std::shared_ptr<const Model> model_;  // guarded by model_mu_
  std::atomic<uint64_t> version_{1};

  std::mutex mu_;
  std::condition_variable work_cv_;   // idle workers wait for a request
  std::condition_variable batch_cv_;  // a worker filling a batch waits for max_batch requests
  std::deque<Request> queue_;         // guarded by mu_
  int idle_workers_ = 0;              // guarded by mu_
  int filling_workers_ = 0;           // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::atomic<bool> drain_{true};
  std::atomic<size_t> queue_depth_{0};
  std::mutex shutdown_mu_;
  bool joined_ = false;  // guarded by shutdown_mu_

  std::atomic<uint64_t> submitted_{0}, rejected_{0}, expired_at_submit_{0};
  std::vector<std::unique_ptr<WorkerStats>> worker_stats_;
  WorkerStats inline_stats_;  // TryComputeInline, from any thread
  std::vector<std::thread> workers_;
};

}  // namespace fastintent
