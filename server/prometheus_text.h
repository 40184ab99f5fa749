// The /metrics answer of `fastintent serve`: a small writer of the Prometheus text exposition
// format (version 0.0.4) and the set of metrics the server exposes (docs/server.md), rendered from
// plain snapshots so both are tested without a server (prometheus_text_test.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fastintent/engine.h"
#include "fastintent/histogram.h"
#include "server/http_server.h"

namespace fastintent::server {

// Appends metric families to a text. Names, help texts and label values are written as given:
// the caller passes valid metric names and text without newlines or quotes (all compile-time
// constants here). Not thread-safe; use one per rendering.
class PrometheusText {
 public:
  // "# HELP name help", "# TYPE name counter" and "name value".
  void Counter(const char* name, const char* help, uint64_t value);
  // The same, typed gauge.
  void Gauge(const char* name, const char* help, uint64_t value);
  // One counter family with a line per value of one label: name{label="value"} count, in order.
  void LabeledCounter(const char* name, const char* help, const char* label,
                      const std::vector<std::pair<const char*, uint64_t>>& values);
  // A histogram in seconds of a snapshot in nanoseconds: cumulative buckets at fixed bounds from
  // 25 us to 2.5 s (plus +Inf), _sum in seconds and _count.
  void Histogram(const char* name, const char* help, const LatencyHistogram::Snapshot& h);

  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// Everything /metrics reports, read at one moment.
struct ServiceMetrics {
  EngineStats engine;
  uint64_t reloads_ok = 0, reloads_failed = 0;  // InferenceService::Reload outcomes
  LatencyHistogram::Snapshot request_latency;   // a parsed request to its response, in ns
  uint64_t responses_2xx = 0, responses_4xx = 0, responses_5xx = 0;  // written by the service
  std::optional<HttpServerStats> http;  // the transport's counters, when known
};

// The body of GET /metrics: engine answers by outcome, batches, queue depth, model version,
// reloads by result, the latency histograms, HTTP responses by status class (those the transport
// wrote itself, malformed or over-limit requests and refused connections, included) and, when
// `m.http` is set, the connection and request counters.
std::string ServiceMetricsText(const ServiceMetrics& m);

}  // namespace fastintent::server
