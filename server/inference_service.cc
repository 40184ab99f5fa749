#include "server/inference_service.h"

#include <nlohmann/json.hpp>

#include "common/json.h"
#include "fastintent/model_io.h"
#include "fastintent/version.h"
#include "server/oip.h"
#include "server/prometheus_text.h"
#include "server/v1_api.h"

namespace fastintent::server {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string StemOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = base.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

HttpResponse Ok(const json& j) { return JsonResponse(http::status::ok, DumpJson(j)); }
// 200 with a body already rendered by a codec (server/oip.h, server/v1_api.h).
HttpResponse OkBody(std::string body) { return JsonResponse(http::status::ok, std::move(body)); }

}  // namespace

// One request of texts in flight: what its answer needs, filled in by the engine's callbacks.
struct InferenceService::Call {
  Kind kind = Kind::kClassify;
  OipInferRequest oip;  // kInfer (its texts moved out to the engine)
  V1TextsRequest v1;    // kClassify, kRoute (likewise)
  std::vector<InferenceResult> results;
  std::atomic<size_t> remaining{0};
  std::atomic<bool> overloaded{false};  // some text was rejected at submission
  std::shared_ptr<const Served> served;
  HttpServer::Reply reply;
};

StatusOr<std::shared_ptr<const InferenceService::Served>> InferenceService::LoadServed(
    const std::string& path) {
  std::string meta;
  auto model = LoadModel(path, &meta);
  if (!model.ok()) return model.status();
  auto served = std::make_shared<Served>();
  served->model = std::move(model).value();
  auto registry = ComponentRegistry::FromModelMetadata(meta, path);
  if (registry.ok())
    served->registry = std::move(registry).value();
  else
    served->registry_error = registry.status().message();
  return std::shared_ptr<const Served>(std::move(served));
}

StatusOr<std::unique_ptr<InferenceService>> InferenceService::Create(ServiceOptions options) {
  if (options.model_name.empty()) options.model_name = StemOf(options.model_path);
  auto served = LoadServed(options.model_path);
  if (!served.ok()) return served.status();
  std::unique_ptr<InferenceService> s(new InferenceService(std::move(options)));
  s->served_ = *served;
  s->engine_ = std::make_unique<InferenceEngine>((*served)->model, s->options_.engine);
  return s;
}

InferenceService::~InferenceService() { Shutdown(); }

void InferenceService::Shutdown() {
  std::thread reload;
  {
    std::lock_guard<std::mutex> l(reload_mu_);
    shut_down_ = true;
    reload = std::move(reload_thread_);
  }
  if (reload.joinable()) reload.join();
  if (engine_) engine_->Shutdown();
}

std::shared_ptr<const InferenceService::Served> InferenceService::served() const {
  std::lock_guard<std::mutex> l(served_mu_);
  return served_;
}

Status InferenceService::Reload() {
  auto loaded = LoadServed(options_.model_path);
  if (!loaded.ok()) {
    reloads_failed_.fetch_add(1, std::memory_order_relaxed);
    return loaded.status();
  }
  {
    std::lock_guard<std::mutex> l(served_mu_);
    served_ = *loaded;
    engine_->Swap((*loaded)->model);
  }
  reloads_ok_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

void InferenceService::Handle(HttpRequest&& req, HttpServer::Reply reply) {
  const Clock::time_point start = Clock::now();
  // Count and time every response on its way out.
  HttpServer::Reply counted = [this, start, reply = std::move(reply)](HttpResponse&& res) {
    const unsigned code = res.result_int();
    (code < 400   ? responses_2xx_
     : code < 500 ? responses_4xx_
                  : responses_5xx_)
        .fetch_add(1, std::memory_order_relaxed);
    request_latency_.Record(uint64_t(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count()));
    reply(std::move(res));
  };
  try {
    Dispatch(std::move(req), counted);
  } catch (const std::exception& e) {  // a bug; never let it take the server down
    counted(ErrorResponse(http::status::internal_server_error,
                          std::string("internal error: ") + e.what()));
  }
}

void InferenceService::Dispatch(HttpRequest&& req, const HttpServer::Reply& reply) {
  std::string path(req.target());
  if (size_t q = path.find('?'); q != std::string::npos) path.resize(q);
  const http::verb method = req.method();
  const bool get = method == http::verb::get;
  const bool post = method == http::verb::post;
  auto wrong_method = [&](const char* allowed) {
    HttpResponse r = ErrorResponse(http::status::method_not_allowed, path + ": use " + allowed);
    r.set(http::field::allow, allowed);
    reply(std::move(r));
  };

  if (path == "/v2/health/live") return get ? reply(Ok({{"live", true}})) : wrong_method("GET");
  if (path == "/v2/health/ready") {
    if (!get) return wrong_method("GET");
    if (engine_->accepting()) return reply(Ok({{"ready", true}}));
    return reply(JsonResponse(http::status::service_unavailable, DumpJson({{"ready", false}})));
  }
  if (path == "/v2") {
    if (!get) return wrong_method("GET");
    return reply(Ok({{"name", "fastintent"},
                     {"version", FASTINTENT_VERSION_STRING},
                     {"extensions", json::array()}}));
  }
  if (path == "/metrics") {
    if (!get) return wrong_method("GET");
    HttpResponse r{http::status::ok, 11};
    r.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    r.body() = MetricsText();
    return reply(std::move(r));
  }
  if (path == "/v1/classify" || path == "/v1/route") {
    if (!post) return wrong_method("POST");
    return HandleTexts(path == "/v1/classify" ? Kind::kClassify : Kind::kRoute, req, reply);
  }
  static const std::string kModels = "/v2/models/", kRepo = "/v2/repository/models/";
  if (path.compare(0, kModels.size(), kModels) == 0) {
    std::string rest = path.substr(kModels.size());
    std::string action;
    if (size_t slash = rest.find('/'); slash != std::string::npos) {
      action = rest.substr(slash + 1);
      rest.resize(slash);
    }
    if (rest != options_.model_name) {
      return reply(ErrorResponse(
          http::status::not_found,
          "unknown model '" + rest + "' (this server serves '" + options_.model_name + "')"));
    }
    if (action.empty()) return get ? reply(ModelMetadata()) : wrong_method("GET");
    if (action == "ready") {
      if (!get) return wrong_method("GET");
      const bool ready = engine_->accepting();
      return reply(JsonResponse(ready ? http::status::ok : http::status::service_unavailable,
                                DumpJson({{"name", options_.model_name}, {"ready", ready}})));
    }
    if (action == "infer")
      return post ? HandleTexts(Kind::kInfer, req, reply) : wrong_method("POST");
    return reply(ErrorResponse(http::status::not_found, path + ": no such endpoint"));
  }
  if (path.compare(0, kRepo.size(), kRepo) == 0) {
    std::string rest = path.substr(kRepo.size());
    const size_t slash = rest.find('/');
    const std::string name = rest.substr(0, slash);
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (name != options_.model_name) {
      return reply(ErrorResponse(http::status::not_found, "unknown model '" + name + "'"));
    }
    if (action == "load") return post ? HandleLoad(reply) : wrong_method("POST");
    if (action == "unload") {
      return reply(ErrorResponse(http::status::bad_request,
                                 "unload is not supported: this server serves one model"));
    }
    return reply(ErrorResponse(http::status::not_found, path + ": no such endpoint"));
  }
  reply(ErrorResponse(http::status::not_found, path + ": no such endpoint"));
}

HttpResponse InferenceService::ModelMetadata() const {
  return OkBody(
      WriteOipModelMetadata(options_.model_name, *served()->model, engine_->model_version()));
}

void InferenceService::HandleLoad(const HttpServer::Reply& reply) {
  std::lock_guard<std::mutex> l(reload_mu_);
  if (shut_down_) return reply(ErrorResponse(http::status::service_unavailable, "shutting down"));
  if (reloading_)
    return reply(ErrorResponse(http::status::conflict, "a reload is already running"));
  if (reload_thread_.joinable()) reload_thread_.join();  // finished: reloading_ is false
  reloading_ = true;
  // Loading reads and verifies the whole file: off the I/O thread, which keeps serving.
  reload_thread_ = std::thread([this, reply] {
    Status s = Reload();
    {
      std::lock_guard<std::mutex> g(reload_mu_);
      reloading_ = false;
    }
    if (s.ok()) {
      reply(Ok({{"name", options_.model_name}, {"model_version", engine_->model_version()}}));
    } else {
      reply(ErrorResponse(http::status::bad_request,
                          "reload failed, the previous model keeps serving: " + s.message()));
    }
  });
}

void InferenceService::HandleTexts(Kind kind, const HttpRequest& req,
                                   const HttpServer::Reply& reply) {
  const Clock::time_point deadline = Clock::now() + options_.request_timeout;
  auto bad = [&](const std::string& m) { reply(ErrorResponse(http::status::bad_request, m)); };
  if (req.find("Inference-Header-Content-Length") != req.end()) {
    return bad("binary tensor data is not supported: send JSON (tritonclient: binary_data=False)");
  }
  auto call = std::make_shared<Call>();
  call->kind = kind;
  call->served = served();
  TextsRequest* request;
  if (kind == Kind::kInfer) {
    StatusOr<OipInferRequest> parsed = ParseOipInfer(req.body());
    if (!parsed.ok()) return bad(parsed.status().message());
    call->oip = std::move(parsed).value();
    request = &call->oip.texts;
  } else {
    StatusOr<V1TextsRequest> parsed = ParseV1Texts(req.body());
    if (!parsed.ok()) return bad(parsed.status().message());
    call->v1 = std::move(parsed).value();
    request = &call->v1.texts;
  }
  std::vector<std::string> texts = std::move(request->texts);  // the answer needs only results
  RequestOptions ro;
  ro.deadline = deadline;
  ro.k = request->k;
  ro.threshold = request->threshold;
  // A request larger than the whole queue could never be accepted: 413, not a 503 to retry.
  const size_t most = std::min(options_.max_texts_per_request, options_.engine.queue_capacity);
  if (texts.size() > most) {
    return reply(ErrorResponse(
        http::status::payload_too_large,
        std::to_string(texts.size()) + " texts in one request; at most " + std::to_string(most)));
  }
  if (kind == Kind::kRoute) {
    if (!call->served->registry)
      return reply(ErrorResponse(http::status::bad_request, call->served->registry_error));
    ro.want_probabilities = true;
  }
  if (kind == Kind::kInfer && call->oip.outputs.probabilities) ro.want_probabilities = true;

  call->results.resize(texts.size());
  call->remaining.store(texts.size(), std::memory_order_relaxed);
  call->reply = reply;
  const bool try_inline = texts.size() <= options_.inline_max_texts;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto done = [this, call, i](InferenceResult&& r) {
      if (r.status.code() == StatusCode::kOverloaded)
        call->overloaded.store(true, std::memory_order_relaxed);
      call->results[i] = std::move(r);
      if (call->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) call->reply(Finish(*call));
    };
    if (try_inline) {
      if (std::optional<InferenceResult> r = engine_->TryComputeInline(texts[i], ro)) {
        done(std::move(*r));
        continue;
      }
    }
    engine_->Submit(std::move(texts[i]), ro, std::move(done));
    // A rejection is answered inside Submit: the request will get 503 anyway, so the rest of its
    // texts are not queued (they would only take room from other requests).
    if (call->overloaded.load(std::memory_order_relaxed) && i + 1 < texts.size()) {
      const size_t skipped = texts.size() - (i + 1);
      for (size_t j = i + 1; j < texts.size(); ++j) {
        call->results[j].status = Status(StatusCode::kOverloaded, "request queue is full");
      }
      if (call->remaining.fetch_sub(skipped, std::memory_order_acq_rel) == skipped)
        call->reply(Finish(*call));
      return;
    }
  }
}

HttpResponse InferenceService::Finish(const Call& call) {
  // A request of several texts succeeds or fails as a whole.
  for (const InferenceResult& r : call.results) {
    const StatusCode c = r.status.code();
    if (c == StatusCode::kOverloaded || c == StatusCode::kDeadlineExceeded ||
        c == StatusCode::kCancelled) {
      HttpResponse res = ErrorResponse(http::status::service_unavailable,
                                       std::string(StatusCodeName(c)) + ": " + r.status.message());
      res.set(http::field::retry_after, "1");
      return res;
    }
  }
  if (call.kind == Kind::kInfer) {
    return OkBody(WriteOipInferResponse(options_.model_name, call.oip, call.results,
                                        call.served->model->labels().size()));
  }
  if (call.kind == Kind::kClassify) return OkBody(WriteV1Classify(call.v1, call.results));
  // The registry served with the model current when the request arrived (see WriteV1Route).
  return OkBody(WriteV1Route(call.v1, call.results, *call.served->registry));
}

std::string InferenceService::MetricsText() const {
  ServiceMetrics m;
  m.engine = engine_->Stats();
  // Responses the transport wrote itself (malformed or over-limit requests, refused
  // connections) count in the status classes too.
  if (http_stats_) m.http = http_stats_();
  m.reloads_ok = reloads_ok_.load(std::memory_order_relaxed);
  m.reloads_failed = reloads_failed_.load(std::memory_order_relaxed);
  m.request_latency = request_latency_.Read();
  m.responses_2xx = responses_2xx_.load(std::memory_order_relaxed);
  m.responses_4xx = responses_4xx_.load(std::memory_order_relaxed);
  m.responses_5xx = responses_5xx_.load(std::memory_order_relaxed);
  return ServiceMetricsText(m);
}

}  // namespace fastintent::server
