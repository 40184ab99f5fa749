#include <algorithm>
#include <utility>

#include "fastintent/engine.h"

namespace fastintent {
namespace {

uint64_t NanosBetween(std::chrono::steady_clock::time_point a,
                      std::chrono::steady_clock::time_point b) {
  return b > a ? uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count()) : 0;
}

}  // namespace

InferenceEngine::InferenceEngine(std::shared_ptr<const Model> model, EngineOptions options)
    : options_([&] {
        EngineOptions o = options;
        o.workers = std::max(1, o.workers);
        o.max_batch = std::max<size_t>(1, o.max_batch);
        o.queue_capacity = std::max<size_t>(1, o.queue_capacity);
        return o;
      }()),
      model_(std::move(model)) {
  for (int i = 0; i < options_.workers; ++i)
    worker_stats_.push_back(std::make_unique<WorkerStats>());
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

InferenceEngine::~InferenceEngine() { Shutdown(ShutdownMode::kDrain); }

std::future<InferenceResult> InferenceEngine::Submit(std::string text,
                                                     const RequestOptions& options) {
  Request r;
  r.text = std::move(text);
  r.options = options;
  std::future<InferenceResult> f = r.promise.get_future();
  Enqueue(std::move(r));
  return f;
}

void InferenceEngine::Submit(std::string text, const RequestOptions& options, Callback done) {
  Request r;
  r.text = std::move(text);
  r.options = options;
  r.callback = std::move(done);
  Enqueue(std::move(r));
}

std::optional<InferenceResult> InferenceEngine::TryComputeInline(const std::string& text,
                                                                 const RequestOptions& options) {
  if (stopping_.load(std::memory_order_acquire) ||
      queue_depth_.load(std::memory_order_relaxed) != 0)
    return std::nullopt;
  // The calling thread's session, shaped for one model (Model::id()) at a time, whichever engine
  // serves it. It holds no reference to the model, so a swapped-out model is freed once its last
  // request is answered.
  struct Local {
    uint64_t model_id = 0;
    std::optional<Session> session;  // set with model_id
  };
  thread_local Local local;
  submitted_.fetch_add(1, std::memory_order_relaxed);
  WorkerStats& stats = inline_stats_;
  stats.batches.fetch_add(1, std::memory_order_relaxed);
  stats.batch_size.Record(1);
  stats.queue_wait.Record(0);
  std::shared_ptr<const Model> current;
  uint64_t version;
  {
    std::lock_guard<std::mutex> g(model_mu_);
    current = model_;
    version = version_.load(std::memory_order_relaxed);
  }
  if (local.model_id != current->id()) {
    local.model_id = current->id();
    local.session = current->NewSession();
  }
  Clock::time_point now = Clock::now();
  InferenceResult result = Compute(text, options, std::move(current), version, &*local.session,
                                   "deadline passed before submission", &now, &stats);
  if (result.model) stats.end_to_end.Record(result.compute_ns);
  return result;
}

InferenceResult InferenceEngine::Compute(const std::string& text, const RequestOptions& o,
                                         std::shared_ptr<const Model> model, uint64_t version,
                                         Session* session, const char* late, Clock::time_point* now,
                                         WorkerStats* stats) {
  InferenceResult result;
  if (o.cancel && o.cancel->cancelled()) {
    result.status = Status(StatusCode::kCancelled, "request cancelled");
    stats->cancelled.fetch_add(1, std::memory_order_relaxed);
    return result;
  }
  if (o.deadline <= *now) {
    result.status = Status(StatusCode::kDeadlineExceeded, late);
    stats->expired.fetch_add(1, std::memory_order_relaxed);
    return result;
  }
  const Clock::time_point start = *now;
  result.status = model->Probabilities(text, session);
  if (result.status.ok()) {
    model->Decide(session->probs(), o.k, o.threshold, &result.labels);
    if (o.want_probabilities) result.probabilities = session->probs();
    stats->completed.fetch_add(1, std::memory_order_relaxed);
  } else {
    stats->failed.fetch_add(1, std::memory_order_relaxed);
  }
  result.model = std::move(model);
  result.model_version = version;
  *now = Clock::now();
  result.compute_ns = NanosBetween(start, *now);
  stats->compute.Record(result.compute_ns);
  return result;
}

void InferenceEngine::Answer(Request& r, InferenceResult&& result) {
  if (r.callback) {
    r.callback(std::move(result));
  } else {
    r.promise.set_value(std::move(result));
  }
}

void InferenceEngine::Enqueue(Request&& r) {
  submitted_.fetch_add(1, std::memory_order_relaxed);
  r.submitted = Clock::now();
  if (r.options.deadline <= r.submitted) {
    expired_at_submit_.fetch_add(1, std::memory_order_relaxed);
    Answer(r, InferenceResult{
                  Status(StatusCode::kDeadlineExceeded, "deadline passed before submission"),
                  {},
                  {},
                  nullptr,
                  0,
                  0,
                  0});
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_.load(std::memory_order_relaxed) || queue_.size() >= options_.queue_capacity) {
    const bool stopping = stopping_.load(std::memory_order_relaxed);
    lock.unlock();
    rejected_.fetch_add(1, std::memory_order_relaxed);
    Answer(r, InferenceResult{Status(StatusCode::kOverloaded, stopping ? "engine is shutting down"
                                                                       : "request queue is full"),
                              {},
                              {},
                              nullptr,
                              0,
                              0,
                              0});
    return;
  }
  queue_.push_back(std::move(r));
  const size_t size = queue_.size();
  queue_depth_.store(size, std::memory_order_relaxed);
  const bool wake_idle = idle_workers_ > 0;
  const bool wake_filler = filling_workers_ > 0 && size >= options_.max_batch;
  lock.unlock();
  if (wake_idle) work_cv_.notify_one();
  if (wake_filler) batch_cv_.notify_all();
}

void InferenceEngine::WorkerLoop(int index) {
  WorkerStats& stats = *worker_stats_[index];
  std::shared_ptr<const Model> model;
  uint64_t version = 0;
  std::optional<Session> session;  // set with model
  std::vector<Request> batch;
  batch.reserve(options_.max_batch);
  std::vector<LabelScore> labels;

  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    while (queue_.empty() && !stopping_.load(std::memory_order_relaxed)) {
      ++idle_workers_;
      work_cv_.wait(lock);
      --idle_workers_;
    }
    if (queue_.empty()) break;  // stopping and drained
    if (queue_.size() < options_.max_batch && options_.max_wait_us > 0 &&
        !stopping_.load(std::memory_order_relaxed)) {
      const Clock::time_point until =
          queue_.front().submitted + std::chrono::microseconds(options_.max_wait_us);
      ++filling_workers_;
      batch_cv_.wait_until(lock, until, [&] {
        return queue_.empty() || queue_.size() >= options_.max_batch ||
               stopping_.load(std::memory_order_relaxed);
      });
      --filling_workers_;
      if (queue_.empty()) continue;  // another worker took them
    }
    const size_t n = std::min(queue_.size(), options_.max_batch);
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queue_depth_.store(queue_.size(), std::memory_order_relaxed);
    const bool more = !queue_.empty() && idle_workers_ > 0;
    const bool drain = drain_.load(std::memory_order_relaxed);
    lock.unlock();
    if (more) work_cv_.notify_one();

    stats.batches.fetch_add(1, std::memory_order_relaxed);
    stats.batch_size.Record(n);
    {
      std::lock_guard<std::mutex> g(model_mu_);
      // Compared by version, not by pointer: after swaps B -> A -> B a worker that never saw A
      // holds the same model but must report the new version.
      const uint64_t current = version_.load(std::memory_order_relaxed);
      if (current != version) {
        if (model != model_) session = model_->NewSession();
        model = model_;
        version = current;
      }
    }
    const Clock::time_point taken = Clock::now();
    Clock::time_point now = taken;
    for (Request& r : batch) {
      InferenceResult result;
      if (!drain) {
        result.status =
            Status(StatusCode::kCancelled, "engine shut down before the request was computed");
        stats.cancelled.fetch_add(1, std::memory_order_relaxed);
      } else {
        result = Compute(r.text, r.options, model, version, &*session,
                         "deadline passed while queued", &now, &stats);
        if (result.model) stats.end_to_end.Record(NanosBetween(r.submitted, now));
      }
      result.queue_ns = NanosBetween(r.submitted, taken);
      stats.queue_wait.Record(result.queue_ns);
      Answer(r, std::move(result));
    }
    batch.clear();
    lock.lock();
  }
}

void InferenceEngine::Swap(std::shared_ptr<const Model> model) {
  std::shared_ptr<const Model> old;
  {
    std::lock_guard<std::mutex> g(model_mu_);
    old = std::move(model_);
    model_ = std::move(model);
    version_.fetch_add(1, std::memory_order_acq_rel);
  }
  // `old` is released here, outside the lock; workers mid-batch still hold their own reference.
}

std::shared_ptr<const Model> InferenceEngine::model() const {
  std::lock_guard<std::mutex> g(model_mu_);
  return model_;
}

void InferenceEngine::Shutdown(ShutdownMode mode) {
  std::lock_guard<std::mutex> once(shutdown_mu_);
  {
    std::lock_guard<std::mutex> g(mu_);
    if (mode == ShutdownMode::kCancelQueued) drain_.store(false, std::memory_order_relaxed);
    stopping_.store(true, std::memory_order_release);
  }
  work_cv_.notify_all();
  batch_cv_.notify_all();
  if (joined_) return;
  for (std::thread& t : workers_) t.join();
  joined_ = true;
}

EngineStats InferenceEngine::Stats() const {
  EngineStats s;
  s.submitted = submitted_.load(std::memory_order_relaxed);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  s.expired = expired_at_submit_.load(std::memory_order_relaxed);
  std::vector<const WorkerStats*> all;
  for (const auto& w : worker_stats_) all.push_back(w.get());
  all.push_back(&inline_stats_);
  for (const WorkerStats* w : all) {
    s.completed += w->completed.load(std::memory_order_relaxed);
    s.failed += w->failed.load(std::memory_order_relaxed);
    s.expired += w->expired.load(std::memory_order_relaxed);
    s.cancelled += w->cancelled.load(std::memory_order_relaxed);
    s.batches += w->batches.load(std::memory_order_relaxed);
    s.queue_wait.Merge(w->queue_wait.Read());
    s.compute.Merge(w->compute.Read());
    s.end_to_end.Merge(w->end_to_end.Read());
    s.batch_size.Merge(w->batch_size.Read());
  }
  s.queue_depth = queue_depth_.load(std::memory_order_relaxed);
  s.model_version = version_.load(std::memory_order_acquire);
  return s;
}

}  // namespace fastintent
