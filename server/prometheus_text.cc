#include "server/prometheus_text.h"

#include <cstdarg>
#include <cstdio>

namespace fastintent::server {
namespace {

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

void Family(std::string* out, const char* name, const char* help, const char* type) {
  AppendF(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

}  // namespace

void PrometheusText::Counter(const char* name, const char* help, uint64_t value) {
  Family(&text_, name, help, "counter");
  AppendF(&text_, "%s %llu\n", name, (unsigned long long)value);
}

void PrometheusText::Gauge(const char* name, const char* help, uint64_t value) {
  Family(&text_, name, help, "gauge");
  AppendF(&text_, "%s %llu\n", name, (unsigned long long)value);
}

void PrometheusText::LabeledCounter(const char* name, const char* help, const char* label,
                                    const std::vector<std::pair<const char*, uint64_t>>& values) {
  Family(&text_, name, help, "counter");
  for (const auto& [value, count] : values) {
    AppendF(&text_, "%s{%s=\"%s\"} %llu\n", name, label, value, (unsigned long long)count);
  }
}

void PrometheusText::Histogram(const char* name, const char* help,
                               const LatencyHistogram::Snapshot& h) {
  static const double kBounds[] = {25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3,   2.5e-3, 5e-3,
                                   10e-3, 25e-3, 50e-3,  100e-3, 250e-3, 500e-3, 1.0,    2.5};
  Family(&text_, name, help, "histogram");
  for (double b : kBounds) {
    AppendF(&text_, "%s_bucket{le=\"%g\"} %llu\n", name, b,
            (unsigned long long)h.CountAtMost(uint64_t(b * 1e9)));
  }
  AppendF(&text_, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9f\n%s_count %llu\n", name,
          (unsigned long long)h.count, name, double(h.sum_ns) / 1e9, name,
          (unsigned long long)h.count);
}

std::string ServiceMetricsText(const ServiceMetrics& m) {
  const EngineStats& st = m.engine;
  const HttpServerStats h = m.http.value_or(HttpServerStats{});
  PrometheusText out;
  out.Counter("fastintent_engine_submitted_total", "Texts submitted to the inference engine.",
              st.submitted);
  out.LabeledCounter("fastintent_engine_answers_total", "Texts answered by the engine, by outcome.",
                     "outcome",
                     {{"ok", st.completed},
                      {"unclassifiable", st.failed},
                      {"overloaded", st.rejected},
                      {"deadline_exceeded", st.expired},
                      {"cancelled", st.cancelled}});
  out.Counter("fastintent_engine_batches_total", "Micro-batches taken by engine workers.",
              st.batches);
  out.Gauge("fastintent_engine_queue_depth", "Texts waiting in the engine queue.", st.queue_depth);
  out.Gauge("fastintent_model_version",
            "1 for the model loaded at start, +1 per successful reload.", st.model_version);
  out.LabeledCounter("fastintent_model_reloads_total", "Model reloads, by result.", "result",
                     {{"ok", m.reloads_ok}, {"error", m.reloads_failed}});
  out.Histogram("fastintent_engine_queue_wait_seconds",
                "Time from submission until a worker takes the text.", st.queue_wait);
  out.Histogram("fastintent_engine_compute_seconds", "Time to featurise and classify one text.",
                st.compute);
  out.Histogram("fastintent_engine_latency_seconds",
                "Time from submission to answer, computed texts.", st.end_to_end);
  out.Histogram("fastintent_http_request_duration_seconds",
                "Time from a parsed request to its response being issued.", m.request_latency);
  out.LabeledCounter("fastintent_http_responses_total", "HTTP responses, by status class.", "class",
                     {{"2xx", m.responses_2xx},
                      {"4xx", m.responses_4xx + h.bad_requests},
                      {"5xx", m.responses_5xx + h.connections_refused}});
  if (m.http) {
    out.Counter("fastintent_http_connections_accepted_total", "TCP connections accepted.",
                h.connections_accepted);
    out.Counter("fastintent_http_connections_refused_total",
                "Connections refused over the connection limit.", h.connections_refused);
    out.Gauge("fastintent_http_connections_open", "Open connections.", h.connections_open);
    out.Counter("fastintent_http_requests_total", "HTTP requests parsed.", h.requests);
    out.Counter("fastintent_http_bad_requests_total", "Malformed or over-limit HTTP requests.",
                h.bad_requests);
  }
  return out.text();
}

}  // namespace fastintent::server
