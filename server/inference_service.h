// InferenceService: the HTTP API of `fastintent serve` (docs/server.md) over an InferenceEngine.
// Speaks the Open Inference Protocol v2 REST API (health, model metadata/readiness, infer with a
// BYTES input of texts), convenience /v1/classify and /v1/route, Prometheus /metrics and
// POST /v2/repository/models/{name}/load (reload the model file without downtime). It routes
// requests, calls the engine and owns model loading; request bodies are parsed and responses
// rendered by the socket-free codecs server/oip.h, server/v1_api.h and server/prometheus_text.h.
//
// Thread-safety: Handle() may be called concurrently from any number of I/O threads; it never
// blocks (texts go to the engine, reloads to a background thread) and replies exactly once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "fastintent/engine.h"
#include "fastintent/histogram.h"
#include "fastintent/status.h"
#include "router/router.h"
#include "server/http_server.h"

namespace fastintent::server {

struct ServiceOptions {
  std::string model_path;
  std::string model_name;  // "" = the file's stem ("assistant" for models/assistant.fim)
  EngineOptions engine;
  // Deadline given to every text: past it the engine answers without computing, and the
  // client gets 503. Bounds how long any request can wait in the queue.
  std::chrono::milliseconds request_timeout{1000};
  size_t max_texts_per_request = 1024;  // larger batches: 413
  // Requests of at most this many texts are computed on the I/O thread when the engine's queue
  // is empty (InferenceEngine::TryComputeInline), sparing two thread hand-offs; larger ones, and
  // every request while texts are queued, go through the engine's queue. 0: always queue.
  size_t inline_max_texts = 4;
};

class InferenceService {
 public:
  // Loads the model (and its component registry, when the metadata has one) and starts the
  // engine.
  static StatusOr<std::unique_ptr<InferenceService>> Create(ServiceOptions options);
  // Shutdown().
  ~InferenceService();

  // Answers one HTTP request (any thread); `reply` is called exactly once, possibly on an engine
  // worker thread.
  void Handle(HttpRequest&& request, HttpServer::Reply reply);

  // Reloads the model file synchronously: load + verify (here: the engine does no file I/O), then
  // swap the model and its component registry together. On error the old model keeps serving and
  // the error, naming the file, is returned. Every call counts once in /metrics
  // (fastintent_model_reloads_total, by result), whether it came over HTTP or not.
  Status Reload();

  // Answers every queued request (requests arriving meanwhile get 503) and joins the background
  // threads. Call before HttpServer::Stop(grace), so that the I/O threads still write those
  // answers; a server stopped first drops them. Idempotent.
  void Shutdown();

  // Where /metrics reads the transport's counters (optional).
  void SetHttpStatsSource(std::function<HttpServerStats()> source) {
    http_stats_ = std::move(source);
  }

  const std::string& model_name() const { return options_.model_name; }
  InferenceEngine& engine() { return *engine_; }
  // Every counter and histogram in the Prometheus text format (what GET /metrics answers).
  std::string MetricsText() const;

 private:
  struct Served {
    std::shared_ptr<const Model> model;
    std::optional<ComponentRegistry> registry;
    std::string registry_error;  // why registry is empty
  };
  enum class Kind { kInfer, kClassify, kRoute };
  struct Call;

  explicit InferenceService(ServiceOptions options) : options_(std::move(options)) {}
  static StatusOr<std::shared_ptr<const Served>> LoadServed(const std::string& path);
  std::shared_ptr<const Served> served() const;

  void Dispatch(HttpRequest&& req, const HttpServer::Reply& reply);
  void HandleTexts(Kind kind, const HttpRequest& req, const HttpServer::Reply& reply);
  void HandleLoad(const HttpServer::Reply& reply);
  HttpResponse ModelMetadata() const;
  HttpResponse Finish(const Call& call);

  ServiceOptions options_;
  std::unique_ptr<InferenceEngine> engine_;
  mutable std::mutex served_mu_;
  std::shared_ptr<const Served> served_;  // guarded by served_mu_

  std::mutex reload_mu_;
  std::thread reload_thread_;  // guarded by reload_mu_
  bool reloading_ = false;     // guarded by reload_mu_
  bool shut_down_ = false;     // guarded by reload_mu_
  // The only count of reloads (the engine swaps models and counts none): every Reload() call.
  std::atomic<uint64_t> reloads_ok_{0}, reloads_failed_{0};

  std::function<HttpServerStats()> http_stats_;
  std::atomic<uint64_t> responses_2xx_{0}, responses_4xx_{0}, responses_5xx_{0};
  LatencyHistogram request_latency_;  // Handle() entry -> reply issued
};

}  // namespace fastintent::server
