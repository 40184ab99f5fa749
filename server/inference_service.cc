#include "server/inference_service.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/json.h"
#include "fastintent/version.h"
#include "fastintent/model_io.h"

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

// printf onto the end of `out` (the compiler checks each format against its arguments).
__attribute__((format(printf, 2, 3))) void AppendF(std::string* out, const char* fmt, ...) {
  va_list args, again;
  va_start(args, fmt);
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  if (n > 0) {
    const size_t at = out->size();
    out->resize(at + size_t(n) + 1);
    std::vsnprintf(&(*out)[at], size_t(n) + 1, fmt, again);
    out->resize(at + size_t(n));
  }
  va_end(again);
}

// Appends the strings of a (possibly nested) JSON array to `out`; false when it holds anything
// else or nests deeper than any tensor shape here (kMaxDataDepth), which also bounds the
// recursion against a body of 100,000 '['.
constexpr int kMaxDataDepth = 32;
bool FlattenStrings(const json& j, std::vector<std::string>* out, int depth = 1) {
  if (depth > kMaxDataDepth) return false;
  for (const json& e : j) {
    if (e.is_array()) {
      if (!FlattenStrings(e, out, depth + 1)) return false;
    } else if (e.is_string()) {
      out->push_back(e.get<std::string>());
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

struct InferenceService::Call {
  Kind kind = Kind::kClassify;
  bool single = false;  // {"text": ...} rather than {"texts": [...]}
  json id;              // OIP request id, echoed when present
  bool want_label = true, want_probability = true, want_probabilities = false;
  float threshold = -1;  // the request's "threshold" (< 0: the model's), for /v1/route
  std::vector<InferenceResult> results;
  std::atomic<size_t> remaining{0};
  std::atomic<bool> overloaded{false};  // some text was rejected at submission
  std::shared_ptr<const Served> served;
  HttpServer::Reply reply;
};

StatusOr<std::shared_ptr<const InferenceService::Served>> InferenceService::LoadServed(const std::string& path) {
  std::string meta;
  auto model = LoadModel(path, &meta);
  if (!model.ok()) return model.status();
  auto served = std::make_shared<Served>();
  served->model = std::move(model).value();
  auto registry = ComponentRegistry::FromModelMetadata(meta, path);
  if (registry.ok()) served->registry = std::move(registry).value();
  else served->registry_error = registry.status().message();
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
    (code < 400 ? responses_2xx_ : code < 500 ? responses_4xx_ : responses_5xx_).fetch_add(1, std::memory_order_relaxed);
    request_latency_.Record(uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count()));
    reply(std::move(res));
  };
  try {
    Dispatch(std::move(req), counted);
  } catch (const std::exception& e) {  // a bug; never let it take the server down
    counted(ErrorResponse(http::status::internal_server_error, std::string("internal error: ") + e.what()));
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
    return reply(Ok({{"name", "fastintent"}, {"version", FASTINTENT_VERSION_STRING}, {"extensions", json::array()}}));
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
      return reply(ErrorResponse(http::status::not_found, "unknown model '" + rest + "' (this server serves '" +
                                                               options_.model_name + "')"));
    }
    if (action.empty()) return get ? reply(ModelMetadata()) : wrong_method("GET");
    if (action == "ready") {
      if (!get) return wrong_method("GET");
      const bool ready = engine_->accepting();
      return reply(JsonResponse(ready ? http::status::ok : http::status::service_unavailable,
                                DumpJson({{"name", options_.model_name}, {"ready", ready}})));
    }
    if (action == "infer") return post ? HandleTexts(Kind::kInfer, req, reply) : wrong_method("POST");
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
      return reply(ErrorResponse(http::status::bad_request, "unload is not supported: this server serves one model"));
    }
    return reply(ErrorResponse(http::status::not_found, path + ": no such endpoint"));
  }
  reply(ErrorResponse(http::status::not_found, path + ": no such endpoint"));
}

HttpResponse InferenceService::ModelMetadata() const {
  auto s = served();
  return Ok({{"name", options_.model_name},
             {"versions", json::array()},
             {"platform", "fastintent"},
             {"inputs", json::array({{{"name", "text"}, {"datatype", "BYTES"}, {"shape", {-1}}}})},
             {"outputs", json::array({{{"name", "label"}, {"datatype", "BYTES"}, {"shape", {-1}}},
                                      {{"name", "probability"}, {"datatype", "FP32"}, {"shape", {-1}}},
                                      {{"name", "probabilities"}, {"datatype", "FP32"},
                                       {"shape", {-1, int64_t(s->model->labels().size())}}}})},
             {"parameters", {{"labels", s->model->labels()},
                             {"output_kind", s->model->kind() == OutputKind::kSoftmax ? "softmax" : "sigmoid"},
                             {"threshold", s->model->threshold()},
                             {"model_version", engine_->model_version()}}}});
}

void InferenceService::HandleLoad(const HttpServer::Reply& reply) {
  std::lock_guard<std::mutex> l(reload_mu_);
  if (shut_down_) return reply(ErrorResponse(http::status::service_unavailable, "shutting down"));
  if (reloading_) return reply(ErrorResponse(http::status::conflict, "a reload is already running"));
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
      reply(ErrorResponse(http::status::bad_request, "reload failed, the previous model keeps serving: " + s.message()));
    }
  });
}

void InferenceService::HandleTexts(Kind kind, const HttpRequest& req, const HttpServer::Reply& reply) {
  auto bad = [&](const std::string& m) { reply(ErrorResponse(http::status::bad_request, m)); };
  if (req.find("Inference-Header-Content-Length") != req.end()) {
    return bad("binary tensor data is not supported: send JSON (tritonclient: binary_data=False)");
  }
  json body;
  if (Status s = ParseJson(req.body(), &body); !s.ok()) return bad("request body: " + s.message());
  if (!body.is_object()) return bad("request body must be a JSON object");

  auto call = std::make_shared<Call>();
  call->kind = kind;
  call->served = served();
  std::vector<std::string> texts;
  RequestOptions ro;
  ro.deadline = Clock::now() + options_.request_timeout;
  const json* params = &body;
  if (kind == Kind::kInfer) {
    if (body.contains("id")) {
      if (!body["id"].is_string()) return bad("\"id\" must be a string");
      call->id = body["id"];
    }
    if (!body.contains("inputs") || !body["inputs"].is_array() || body["inputs"].size() != 1)
      return bad("\"inputs\" must be an array holding one input (the texts)");
    const json& in = body["inputs"][0];
    if (!in.is_object()) return bad("inputs[0] must be an object");
    if (!in.contains("datatype") || in["datatype"] != "BYTES")
      return bad("inputs[0].datatype must be \"BYTES\" (one UTF-8 string per text)");
    if (!in.contains("shape") || !in["shape"].is_array() || in["shape"].empty())
      return bad("inputs[0].shape must be a non-empty array of sizes");
    // The product of the sizes, checked for overflow: a product wrapped around 2^64 could match
    // the data by accident.
    uint64_t elements = 1;
    bool overflow = false, zero = false;  // a zero size makes the product 0 whatever the rest
    for (const json& d : in["shape"]) {
      if (!d.is_number_unsigned()) return bad("inputs[0].shape must hold non-negative integers");
      zero |= d.get<uint64_t>() == 0;
      overflow |= __builtin_mul_overflow(elements, d.get<uint64_t>(), &elements);
    }
    if (zero) elements = 0;
    else if (overflow) return bad("inputs[0].shape: the product of its sizes overflows 64 bits");
    if (!in.contains("data") || !in["data"].is_array()) return bad("inputs[0].data must be an array of strings");
    if (!FlattenStrings(in["data"], &texts))
      return bad("inputs[0].data must hold strings only (BYTES as JSON strings), nested at most " +
                 std::to_string(kMaxDataDepth) + " deep");
    if (texts.size() != elements) {
      return bad("inputs[0].data holds " + std::to_string(texts.size()) + " strings but its shape says " +
                 std::to_string(elements));
    }
    if (body.contains("parameters")) {
      if (!body["parameters"].is_object()) return bad("\"parameters\" must be an object");
      params = &body["parameters"];
    } else {
      params = nullptr;
    }
    if (body.contains("outputs")) {
      if (!body["outputs"].is_array()) return bad("\"outputs\" must be an array");
      call->want_label = call->want_probability = false;
      for (const json& o : body["outputs"]) {
        if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) return bad("each output needs a \"name\"");
        const std::string n = o["name"];
        if (n == "label") call->want_label = true;
        else if (n == "probability") call->want_probability = true;
        else if (n == "probabilities") call->want_probabilities = true;
        else return bad("unknown output '" + n + "' (outputs: label, probability, probabilities)");
      }
    }
  } else {
    const bool has_text = body.contains("text"), has_texts = body.contains("texts");
    if (has_text == has_texts) return bad("give either \"text\" (a string) or \"texts\" (an array of strings)");
    if (has_text) {
      if (!body["text"].is_string()) return bad("\"text\" must be a string");
      texts.push_back(body["text"]);
      call->single = true;
    } else {
      if (!body["texts"].is_array()) return bad("\"texts\" must be an array of strings");
      for (const json& t : body["texts"]) {
        if (!t.is_string()) return bad("\"texts\" must hold strings only");
        texts.push_back(t);
      }
    }
  }
  if (params) {
    if (params->contains("k")) {
      const json& k = (*params)["k"];
      if (!k.is_number_integer() || k.get<int64_t>() < 1 || k.get<int64_t>() > 100000) return bad("\"k\" must be a positive integer");
      ro.k = int(k.get<int64_t>());
    }
    if (params->contains("threshold")) {
      const json& t = (*params)["threshold"];
      if (!t.is_number() || t.get<double>() < 0 || t.get<double>() > 1) return bad("\"threshold\" must be a number in [0, 1]");
      ro.threshold = t.get<float>();
    }
  }
  call->threshold = ro.threshold;
  if (texts.empty()) return bad("no texts to classify");
  // A request larger than the whole queue could never be accepted: 413, not a 503 to retry.
  const size_t most = std::min(options_.max_texts_per_request, options_.engine.queue_capacity);
  if (texts.size() > most) {
    return reply(ErrorResponse(http::status::payload_too_large,
                               std::to_string(texts.size()) + " texts in one request; at most " + std::to_string(most)));
  }
  if (kind == Kind::kRoute) {
    if (!call->served->registry) return reply(ErrorResponse(http::status::bad_request, call->served->registry_error));
    ro.want_probabilities = true;
  }
  if (kind == Kind::kInfer && call->want_probabilities) ro.want_probabilities = true;

  call->results.resize(texts.size());
  call->remaining.store(texts.size(), std::memory_order_relaxed);
  call->reply = reply;
  const bool try_inline = texts.size() <= options_.inline_max_texts;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto done = [this, call, i](InferenceResult&& r) {
      if (r.status.code() == StatusCode::kOverloaded) call->overloaded.store(true, std::memory_order_relaxed);
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
      if (call->remaining.fetch_sub(skipped, std::memory_order_acq_rel) == skipped) call->reply(Finish(*call));
      return;
    }
  }
}

HttpResponse InferenceService::Finish(Call& call) {
  for (const InferenceResult& r : call.results) {
    const StatusCode c = r.status.code();
    if (c == StatusCode::kOverloaded || c == StatusCode::kDeadlineExceeded || c == StatusCode::kCancelled) {
      HttpResponse res = ErrorResponse(http::status::service_unavailable, std::string(StatusCodeName(c)) + ": " + r.status.message());
      res.set(http::field::retry_after, "1");
      return res;
    }
  }
  auto label_name = [](const InferenceResult& r, const LabelScore& l) -> const std::string& {
    return r.model->labels()[l.label];
  };
  if (call.kind == Kind::kInfer) {
    const size_t n = call.results.size();
    json outputs = json::array();
    if (call.want_label) {
      json data = json::array();
      for (const InferenceResult& r : call.results) data.push_back(r.labels.empty() ? std::string() : label_name(r, r.labels[0]));
      outputs.push_back({{"name", "label"}, {"datatype", "BYTES"}, {"shape", {n}}, {"data", std::move(data)}});
    }
    if (call.want_probability) {
      json data = json::array();
      for (const InferenceResult& r : call.results) data.push_back(r.labels.empty() ? 0.0f : r.labels[0].prob);
      outputs.push_back({{"name", "probability"}, {"datatype", "FP32"}, {"shape", {n}}, {"data", std::move(data)}});
    }
    if (call.want_probabilities) {
      const size_t labels = call.served->model->labels().size();
      json data = json::array();
      for (const InferenceResult& r : call.results) {
        for (size_t j = 0; j < labels; ++j) data.push_back(j < r.probabilities.size() ? r.probabilities[j] : 0.0f);
      }
      outputs.push_back({{"name", "probabilities"}, {"datatype", "FP32"}, {"shape", {n, labels}}, {"data", std::move(data)}});
    }
    json res = {{"model_name", options_.model_name}, {"outputs", std::move(outputs)}};
    if (!call.id.is_null()) res["id"] = call.id;
    return Ok(res);
  }
  json items = json::array();
  for (const InferenceResult& r : call.results) {
    json item = json::object();
    if (!r.status.ok()) {
      item[call.kind == Kind::kRoute ? "components" : "labels"] = json::array();
      if (call.kind == Kind::kRoute) item["total_memory_mb"] = 0;  // the fields of a routed item
      item["error"] = r.status.message();
    } else if (call.kind == Kind::kClassify) {
      json labels = json::array();
      for (const LabelScore& l : r.labels) labels.push_back({{"label", label_name(r, l)}, {"prob", l.prob}});
      item["labels"] = std::move(labels);
    } else {
      // The registry of the model that computed this (a reload in between swaps both together,
      // but a result computed just before a swap may meet the next registry: Route ignores
      // labels that are not components).
      const ComponentRegistry& registry = *call.served->registry;
      RouteResult routed = Route(*r.model, registry, r.probabilities, call.threshold);
      json comps = json::array();
      for (const RoutedComponent& c : routed.components) {
        comps.push_back({{"name", c.component->name}, {"priority", PriorityName(c.component->priority)},
                         {"confidence", c.confidence}, {"memory_mb", c.component->memory_mb},
                         {"load_ms", c.component->load_ms}, {"dependency", c.dependency}});
      }
      item["components"] = std::move(comps);
      item["total_memory_mb"] = routed.total_memory_mb;
    }
    items.push_back(std::move(item));
  }
  if (call.single) return Ok(items[0]);
  return Ok({{"results", std::move(items)}});
}

std::string InferenceService::MetricsText() const {
  const EngineStats st = engine_->Stats();
  // Responses the transport wrote itself (malformed or over-limit requests, refused
  // connections) count in the status classes too.
  const HttpServerStats h = http_stats_ ? http_stats_() : HttpServerStats{};
  std::string out;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    AppendF(&out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, (unsigned long long)v);
  };
  auto gauge = [&](const char* name, const char* help, uint64_t v) {
    AppendF(&out, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name, (unsigned long long)v);
  };
  auto histogram = [&](const char* name, const char* help, const LatencyHistogram::Snapshot& h) {
    static const double kBounds[] = {25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3,
                                     10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1.0, 2.5};
    AppendF(&out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (double b : kBounds) AppendF(&out, "%s_bucket{le=\"%g\"} %llu\n", name, b, (unsigned long long)h.CountAtMost(uint64_t(b * 1e9)));
    AppendF(&out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9f\n%s_count %llu\n", name, (unsigned long long)h.count, name,
         double(h.sum_ns) / 1e9, name, (unsigned long long)h.count);
  };
  counter("fastintent_engine_submitted_total", "Texts submitted to the inference engine.", st.submitted);
  AppendF(&out, "# HELP fastintent_engine_answers_total Texts answered by the engine, by outcome.\n"
       "# TYPE fastintent_engine_answers_total counter\n");
  AppendF(&out, "fastintent_engine_answers_total{outcome=\"ok\"} %llu\n", (unsigned long long)st.completed);
  AppendF(&out, "fastintent_engine_answers_total{outcome=\"unclassifiable\"} %llu\n", (unsigned long long)st.failed);
  AppendF(&out, "fastintent_engine_answers_total{outcome=\"overloaded\"} %llu\n", (unsigned long long)st.rejected);
  AppendF(&out, "fastintent_engine_answers_total{outcome=\"deadline_exceeded\"} %llu\n", (unsigned long long)st.expired);
  AppendF(&out, "fastintent_engine_answers_total{outcome=\"cancelled\"} %llu\n", (unsigned long long)st.cancelled);
  counter("fastintent_engine_batches_total", "Micro-batches taken by engine workers.", st.batches);
  gauge("fastintent_engine_queue_depth", "Texts waiting in the engine queue.", st.queue_depth);
  gauge("fastintent_model_version", "1 for the model loaded at start, +1 per successful reload.", st.model_version);
  AppendF(&out, "# HELP fastintent_model_reloads_total Model reloads, by result.\n# TYPE fastintent_model_reloads_total counter\n"
       "fastintent_model_reloads_total{result=\"ok\"} %llu\nfastintent_model_reloads_total{result=\"error\"} %llu\n",
       (unsigned long long)reloads_ok_.load(), (unsigned long long)reloads_failed_.load());
  histogram("fastintent_engine_queue_wait_seconds", "Time from submission until a worker takes the text.", st.queue_wait);
  histogram("fastintent_engine_compute_seconds", "Time to featurise and classify one text.", st.compute);
  histogram("fastintent_engine_latency_seconds", "Time from submission to answer, computed texts.", st.end_to_end);
  histogram("fastintent_http_request_duration_seconds", "Time from a parsed request to its response being issued.",
            request_latency_.Read());
  AppendF(&out, "# HELP fastintent_http_responses_total HTTP responses, by status class.\n"
       "# TYPE fastintent_http_responses_total counter\n"
       "fastintent_http_responses_total{class=\"2xx\"} %llu\nfastintent_http_responses_total{class=\"4xx\"} %llu\n"
       "fastintent_http_responses_total{class=\"5xx\"} %llu\n",
       (unsigned long long)responses_2xx_.load(), (unsigned long long)(responses_4xx_.load() + h.bad_requests),
       (unsigned long long)(responses_5xx_.load() + h.connections_refused));
  if (http_stats_) {
    counter("fastintent_http_connections_accepted_total", "TCP connections accepted.", h.connections_accepted);
    counter("fastintent_http_connections_refused_total", "Connections refused over the connection limit.", h.connections_refused);
    gauge("fastintent_http_connections_open", "Open connections.", h.connections_open);
    counter("fastintent_http_requests_total", "HTTP requests parsed.", h.requests);
    counter("fastintent_http_bad_requests_total", "Malformed or over-limit HTTP requests.", h.bad_requests);
  }
  return out;
}

}  // namespace fastintent::server
