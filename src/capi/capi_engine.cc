// The C API's asynchronous engine, results and cancel tokens: a shim over
// fastintent::InferenceEngine's callback Submit.
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>
#include <utility>

#include "capi/capi_internal.h"
#include "fastintent/engine.h"
#include "text/featurizer.h"

using fastintent::CancelToken;
using fastintent::EngineOptions;
using fastintent::InferenceEngine;
using fastintent::InferenceResult;
using fastintent::Model;
using fastintent::RequestOptions;
using fastintent::Status;
using fastintent::StatusCode;
using fastintent::capi::FromStatus;
using fastintent::capi::InvalidArg;
using fastintent::capi::ModelBox;
using fastintent::capi::NewError;
using fastintent::capi::TextArg;
using fastintent::capi::ValidThreshold;

namespace {

// The deleter of the shared_ptr<const Model> handed to the engine: it owns the model's box, so
// that a result's model (InferenceResult::model, a copy of that shared_ptr) leads back to the
// box, and so to the component registry of the model that computed it (std::get_deleter).
struct BoxRef {
  std::shared_ptr<const ModelBox> box;
  void operator()(const Model*) const {}  // the box owns the model
};

std::shared_ptr<const Model> EngineModel(const std::shared_ptr<const ModelBox>& box) {
  return std::shared_ptr<const Model>(box->model.get(), BoxRef{box});
}

// Set on the submitting thread while InferenceEngine::Submit runs: a callback that runs on
// that thread in that window is the engine refusing the request at once, which the C API
// returns from fi_engine_submit instead of calling the user's callback.
struct Refusal {
  bool refused = false;
  Status status;
};
thread_local Refusal* t_refusal = nullptr;

// The engine whose user callback the current thread is running (null outside callbacks).
thread_local const fi_engine* t_in_callback = nullptr;

}  // namespace

struct fi_engine {
  std::unique_ptr<InferenceEngine> engine;
  std::mutex mu;                        // guards `box` and orders swaps
  std::shared_ptr<const ModelBox> box;  // the current model's
  std::atomic<bool> shut_down{false};
};

struct fi_result {
  std::shared_ptr<const ModelBox> box;  // of the model that computed it
  std::vector<fi_label_score> labels;
  std::vector<float> probabilities;
  std::vector<fi_routed_component> components;
  int32_t total_memory_mb = 0;
  uint64_t model_version = 0;
  uint64_t queue_ns = 0;
  uint64_t compute_ns = 0;
};

struct fi_cancel_token {
  std::shared_ptr<CancelToken> token;
};

namespace {

// What the engine's callback needs to build the C result and call the user back.
struct Completion {
  fi_completion_fn done;
  void* user_data;
  const fi_engine* engine;
  uint32_t outputs;
  float threshold;
};

// Builds the result (or error) of a computed request; never throws.
void Finish(const Completion& c, InferenceResult&& r) {
  fi_result* result = nullptr;
  fi_error* error = nullptr;
  try {
    if (!r.status.ok()) {
      error = FromStatus(r.status);
    } else {
      auto out = std::make_unique<fi_result>();
      const BoxRef* ref = std::get_deleter<BoxRef>(r.model);
      out->box = ref ? ref->box : nullptr;
      out->labels.reserve(r.labels.size());
      for (const fastintent::LabelScore& l : r.labels) out->labels.push_back({l.label, l.prob});
      out->model_version = r.model_version;
      out->queue_ns = r.queue_ns;
      out->compute_ns = r.compute_ns;
      if (c.outputs & FI_OUTPUT_ROUTE) {
        if (out->box == nullptr || !out->box->registry) {
          error = out->box ? FromStatus(out->box->registry_status)
                           : NewError(FI_INTERNAL, "internal error: result without its model");
        } else {
          const fastintent::ComponentRegistry& reg = *out->box->registry;
          const fastintent::RouteResult route =
              fastintent::Route(*r.model, reg, r.probabilities, c.threshold);
          for (const fastintent::RoutedComponent& rc : route.components) {
            const fastintent::Component& comp = *rc.component;
            out->components.push_back({comp.name.c_str(), comp.name.size(),
                                       uint32_t(rc.component - reg.components().data()),
                                       int32_t(comp.priority), rc.confidence,
                                       int32_t(comp.memory_mb), int32_t(comp.load_ms),
                                       rc.dependency ? 1 : 0});
          }
          out->total_memory_mb = route.total_memory_mb;
        }
      }
      if (c.outputs & FI_OUTPUT_PROBABILITIES) out->probabilities = std::move(r.probabilities);
      if (error == nullptr) result = out.release();
    }
  } catch (const std::bad_alloc&) {
    error = fastintent::capi::OutOfMemory();
  } catch (...) {
    error = NewError(FI_INTERNAL, "internal error: building the result failed");
  }
  const fi_engine* outer = t_in_callback;
  t_in_callback = c.engine;
  c.done(c.user_data, result, error);
  t_in_callback = outer;
}

fi_error* CheckRequestOptions(const fi_request_options& o) {
  if (o.k < 1) return InvalidArg("k must be at least 1");
  if (!ValidThreshold(o.threshold))
    return InvalidArg("threshold must be negative (calibrated) or in [0, 1]");
  if (o.reserved != 0) return InvalidArg("reserved must be 0");
  if (o.outputs & ~uint32_t(FI_OUTPUT_LABELS | FI_OUTPUT_PROBABILITIES | FI_OUTPUT_ROUTE)) {
    return InvalidArg("unknown output flags");
  }
  return nullptr;
}

}  // namespace

extern "C" {

void fi_engine_options_init(fi_engine_options* options) {
  if (options == nullptr) return;
  const EngineOptions d;
  options->workers = d.workers;
  options->max_batch = uint32_t(d.max_batch);
  options->max_wait_us = d.max_wait_us;
  options->queue_capacity = uint32_t(d.queue_capacity);
}

void fi_request_options_init(fi_request_options* options) {
  if (options == nullptr) return;
  options->k = 1;
  options->threshold = -1.0f;
  options->outputs = FI_OUTPUT_LABELS;
  options->reserved = 0;
  options->timeout_us = 0;
  options->cancel = nullptr;
}

fi_error* fi_engine_create(const fi_model* model, const fi_engine_options* options,
                           fi_engine** out) {
  FI_CAPI_BEGIN
  if (model == nullptr || out == nullptr) return InvalidArg("model or out is NULL");
  fi_engine_options o;
  fi_engine_options_init(&o);
  if (options) o = *options;
  EngineOptions eo;
  eo.workers = o.workers;
  eo.max_batch = o.max_batch;
  eo.max_wait_us = o.max_wait_us;
  eo.queue_capacity = o.queue_capacity;
  auto engine = std::make_unique<fi_engine>();
  engine->box = model->box;
  engine->engine = std::make_unique<InferenceEngine>(EngineModel(model->box), eo);
  *out = engine.release();
  return nullptr;
  FI_CAPI_END
}

fi_error* fi_engine_submit(fi_engine* engine, const char* text, size_t text_len,
                           const fi_request_options* options, fi_completion_fn done,
                           void* user_data) {
  FI_CAPI_BEGIN
  if (engine == nullptr || done == nullptr) return InvalidArg("engine or done is NULL");
  std::string_view t;
  if (!TextArg(text, text_len, &t)) return InvalidArg("text is NULL with a non-zero length");
  if (t.size() > fastintent::kMaxTextBytes) return FromStatus(fastintent::TextTooLong(t.size()));
  fi_request_options o;
  fi_request_options_init(&o);
  if (options) o = *options;
  if (fi_error* e = CheckRequestOptions(o)) return e;
  if (engine->shut_down.load(std::memory_order_acquire)) {
    return NewError(FI_SHUT_DOWN, "engine is shut down");
  }
  if (o.outputs & FI_OUTPUT_ROUTE) {
    std::lock_guard<std::mutex> g(engine->mu);
    if (!engine->box->registry) return FromStatus(engine->box->registry_status);
  }
  RequestOptions ro;
  ro.k = o.k;
  ro.threshold = o.threshold;
  ro.want_probabilities = (o.outputs & (FI_OUTPUT_PROBABILITIES | FI_OUTPUT_ROUTE)) != 0;
  if (o.timeout_us != 0) {
    // Saturates: a timeout beyond ~290 years is no timeout.
    const auto now = RequestOptions::Clock::now();
    const auto left = RequestOptions::Clock::time_point::max() - now;
    const auto us = std::chrono::microseconds(o.timeout_us);
    if (us < std::chrono::duration_cast<std::chrono::microseconds>(left)) ro.deadline = now + us;
  }
  if (o.cancel) ro.cancel = o.cancel->token;
  Completion c{done, user_data, engine, o.outputs, o.threshold};
  Refusal refusal;
  Refusal* outer = t_refusal;
  t_refusal = &refusal;
  try {
    engine->engine->Submit(std::string(t), ro, [c](InferenceResult&& r) {
      if (t_refusal != nullptr) {  // answered at once on the submitting thread: a refusal
        t_refusal->refused = true;
        t_refusal->status = std::move(r.status);
        return;
      }
      Finish(c, std::move(r));
    });
  } catch (...) {
    t_refusal = outer;
    throw;
  }
  t_refusal = outer;
  if (!refusal.refused) return nullptr;
  if (refusal.status.code() == StatusCode::kOverloaded && !engine->engine->accepting()) {
    return NewError(FI_SHUT_DOWN, "engine is shut down");
  }
  return FromStatus(refusal.status);
  FI_CAPI_END
}

fi_error* fi_engine_swap(fi_engine* engine, const fi_model* model, uint64_t* new_version) {
  FI_CAPI_BEGIN
  if (engine == nullptr || model == nullptr) return InvalidArg("engine or model is NULL");
  std::shared_ptr<const ModelBox> old;
  uint64_t version;
  {
    std::lock_guard<std::mutex> g(engine->mu);
    engine->engine->Swap(EngineModel(model->box));
    old = std::move(engine->box);
    engine->box = model->box;
    version = engine->engine->model_version();
  }
  if (new_version) *new_version = version;
  return nullptr;
  FI_CAPI_END
}

uint64_t fi_engine_model_version(const fi_engine* engine) {
  return engine ? engine->engine->model_version() : 0;
}

fi_error* fi_engine_stats_get(const fi_engine* engine, fi_engine_stats* out) {
  FI_CAPI_BEGIN
  if (engine == nullptr || out == nullptr) return InvalidArg("engine or out is NULL");
  const fastintent::EngineStats s = engine->engine->Stats();
  fi_engine_stats r;
  r.submitted = s.submitted;
  r.completed = s.completed;
  r.failed = s.failed;
  r.rejected = s.rejected;
  r.expired = s.expired;
  r.cancelled = s.cancelled;
  r.batches = s.batches;
  r.queue_depth = s.queue_depth;
  r.model_version = s.model_version;
  r.queue_wait_p50_ns = s.queue_wait.Percentile(0.5);
  r.queue_wait_p99_ns = s.queue_wait.Percentile(0.99);
  r.compute_p50_ns = s.compute.Percentile(0.5);
  r.compute_p99_ns = s.compute.Percentile(0.99);
  r.latency_p50_ns = s.end_to_end.Percentile(0.5);
  r.latency_p99_ns = s.end_to_end.Percentile(0.99);
  r.latency_max_ns = s.end_to_end.max_ns;
  r.mean_batch_size = s.batch_size.MeanNs();  // the histogram holds sizes, not ns
  *out = r;
  return nullptr;
  FI_CAPI_END
}

fi_error* fi_engine_shutdown(fi_engine* engine, int32_t mode) {
  FI_CAPI_BEGIN
  if (engine == nullptr) return InvalidArg("engine is NULL");
  if (mode != FI_SHUTDOWN_DRAIN && mode != FI_SHUTDOWN_CANCEL_QUEUED) {
    return InvalidArg("unknown shutdown mode");
  }
  if (t_in_callback == engine) {
    return InvalidArg("fi_engine_shutdown called from one of the engine's own callbacks");
  }
  engine->shut_down.store(true, std::memory_order_release);
  engine->engine->Shutdown(mode == FI_SHUTDOWN_DRAIN
                               ? InferenceEngine::ShutdownMode::kDrain
                               : InferenceEngine::ShutdownMode::kCancelQueued);
  return nullptr;
  FI_CAPI_END
}

void fi_engine_free(fi_engine* engine) {
  if (engine == nullptr) return;
  if (t_in_callback != engine) {
    delete engine;  // ~InferenceEngine drains and joins the workers
    return;
  }
  // From one of its own callbacks a worker cannot join itself: free it from another thread,
  // which waits for this callback to return.
  engine->shut_down.store(true, std::memory_order_release);
  try {
    std::thread([engine] { delete engine; }).detach();
  } catch (...) {
    // No thread to be had: the engine cannot be joined from here, so it is leaked (stopped
    // from taking requests) rather than freed under its own worker.
  }
}

void fi_result_free(fi_result* result) { delete result; }

size_t fi_result_labels(const fi_result* result, const fi_label_score** labels) {
  if (result == nullptr || result->labels.empty()) {
    if (labels) *labels = nullptr;
    return 0;
  }
  if (labels) *labels = result->labels.data();
  return result->labels.size();
}

const char* fi_result_label_name(const fi_result* result, uint32_t label, size_t* len) {
  if (result == nullptr || result->box == nullptr) return nullptr;
  const std::vector<std::string>& names = result->box->model->labels();
  if (label >= names.size()) return nullptr;
  if (len) *len = names[label].size();
  return names[label].c_str();
}

size_t fi_result_probabilities(const fi_result* result, const float** probs) {
  if (result == nullptr || result->probabilities.empty()) {
    if (probs) *probs = nullptr;
    return 0;
  }
  if (probs) *probs = result->probabilities.data();
  return result->probabilities.size();
}

size_t fi_result_components(const fi_result* result, const fi_routed_component** components,
                            int32_t* total_memory_mb) {
  if (total_memory_mb) *total_memory_mb = result ? result->total_memory_mb : 0;
  if (result == nullptr || result->components.empty()) {
    if (components) *components = nullptr;
    return 0;
  }
  if (components) *components = result->components.data();
  return result->components.size();
}

uint64_t fi_result_model_version(const fi_result* result) {
  return result ? result->model_version : 0;
}

void fi_result_timings(const fi_result* result, uint64_t* queue_ns, uint64_t* compute_ns) {
  if (queue_ns) *queue_ns = result ? result->queue_ns : 0;
  if (compute_ns) *compute_ns = result ? result->compute_ns : 0;
}

fi_error* fi_cancel_token_create(fi_cancel_token** out) {
  FI_CAPI_BEGIN
  if (out == nullptr) return InvalidArg("out is NULL");
  *out = new fi_cancel_token{CancelToken::Make()};
  return nullptr;
  FI_CAPI_END
}

void fi_cancel_token_cancel(fi_cancel_token* token) {
  if (token) token->token->Cancel();
}

int32_t fi_cancel_token_is_cancelled(const fi_cancel_token* token) {
  return token && token->token->cancelled() ? 1 : 0;
}

void fi_cancel_token_free(fi_cancel_token* token) { delete token; }

}  // extern "C"
