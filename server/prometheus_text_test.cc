// Tests of the /metrics rendering (server/prometheus_text.h) on fixed numbers, without a server:
// the exact bytes of each kind of family and of the server's whole metric set.
#include "server/prometheus_text.h"

#include <gtest/gtest.h>

#include <string>

namespace fastintent::server {
namespace {

TEST(PrometheusTextTest, CountersGaugesAndLabeledCounters) {
  PrometheusText out;
  out.Counter("a_total", "As counted.", 18446744073709551615ull);
  out.Gauge("b", "Bs now.", 0);
  out.LabeledCounter("c_total", "Cs, by kind.", "kind", {{"x", 1}, {"y", 22}});
  EXPECT_EQ(out.text(),
            "# HELP a_total As counted.\n# TYPE a_total counter\na_total 18446744073709551615\n"
            "# HELP b Bs now.\n# TYPE b gauge\nb 0\n"
            "# HELP c_total Cs, by kind.\n# TYPE c_total counter\nc_total{kind=\"x\"} "
            "1\nc_total{kind=\"y\"} 22\n");
}

// Buckets are cumulative, in seconds, and count a sample only when its whole histogram bucket
// lies at or below the bound.
TEST(PrometheusTextTest, HistogramsInSeconds) {
  LatencyHistogram h;
  h.Record(1000);        // 1 us: in every bucket
  h.Record(3000000);     // 3 ms: from le="0.005"
  h.Record(4000000000);  // 4 s: only in +Inf
  PrometheusText out;
  out.Histogram("lat_seconds", "Latency.", h.Read());
  EXPECT_EQ(out.text(),
            "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"2.5e-05\"} 1\n"
            "lat_seconds_bucket{le=\"5e-05\"} 1\n"
            "lat_seconds_bucket{le=\"0.0001\"} 1\n"
            "lat_seconds_bucket{le=\"0.00025\"} 1\n"
            "lat_seconds_bucket{le=\"0.0005\"} 1\n"
            "lat_seconds_bucket{le=\"0.001\"} 1\n"
            "lat_seconds_bucket{le=\"0.0025\"} 1\n"
            "lat_seconds_bucket{le=\"0.005\"} 2\n"
            "lat_seconds_bucket{le=\"0.01\"} 2\n"
            "lat_seconds_bucket{le=\"0.025\"} 2\n"
            "lat_seconds_bucket{le=\"0.05\"} 2\n"
            "lat_seconds_bucket{le=\"0.1\"} 2\n"
            "lat_seconds_bucket{le=\"0.25\"} 2\n"
            "lat_seconds_bucket{le=\"0.5\"} 2\n"
            "lat_seconds_bucket{le=\"1\"} 2\n"
            "lat_seconds_bucket{le=\"2.5\"} 2\n"
            "lat_seconds_bucket{le=\"+Inf\"} 3\n"
            "lat_seconds_sum 4.003001000\n"
            "lat_seconds_count 3\n");
}

// The histogram families of `m`, in the order the server writes them (their format is checked
// above).
std::string Histograms(const ServiceMetrics& m) {
  PrometheusText h;
  h.Histogram("fastintent_engine_queue_wait_seconds",
              "Time from submission until a worker takes the text.", m.engine.queue_wait);
  h.Histogram("fastintent_engine_compute_seconds", "Time to featurise and classify one text.",
              m.engine.compute);
  h.Histogram("fastintent_engine_latency_seconds",
              "Time from submission to answer, computed texts.", m.engine.end_to_end);
  h.Histogram("fastintent_http_request_duration_seconds",
              "Time from a parsed request to its response being issued.", m.request_latency);
  return h.text();
}

ServiceMetrics Sample() {
  ServiceMetrics m;
  m.engine.submitted = 100;
  m.engine.completed = 90;
  m.engine.failed = 4;
  m.engine.rejected = 3;
  m.engine.expired = 2;
  m.engine.cancelled = 1;
  m.engine.batches = 40;
  m.engine.queue_depth = 5;
  m.engine.model_version = 3;
  LatencyHistogram h;
  h.Record(20000);
  m.engine.compute = h.Read();
  m.reloads_ok = 2;
  m.reloads_failed = 7;
  m.responses_2xx = 50;
  m.responses_4xx = 6;
  m.responses_5xx = 8;
  return m;
}

const char kEngineAndReloads[] =
    "# HELP fastintent_engine_submitted_total Texts submitted to the inference engine.\n"
    "# TYPE fastintent_engine_submitted_total counter\n"
    "fastintent_engine_submitted_total 100\n"
    "# HELP fastintent_engine_answers_total Texts answered by the engine, by outcome.\n"
    "# TYPE fastintent_engine_answers_total counter\n"
    "fastintent_engine_answers_total{outcome=\"ok\"} 90\n"
    "fastintent_engine_answers_total{outcome=\"unclassifiable\"} 4\n"
    "fastintent_engine_answers_total{outcome=\"overloaded\"} 3\n"
    "fastintent_engine_answers_total{outcome=\"deadline_exceeded\"} 2\n"
    "fastintent_engine_answers_total{outcome=\"cancelled\"} 1\n"
    "# HELP fastintent_engine_batches_total Micro-batches taken by engine workers.\n"
    "# TYPE fastintent_engine_batches_total counter\n"
    "fastintent_engine_batches_total 40\n"
    "# HELP fastintent_engine_queue_depth Texts waiting in the engine queue.\n"
    "# TYPE fastintent_engine_queue_depth gauge\n"
    "fastintent_engine_queue_depth 5\n"
    "# HELP fastintent_model_version 1 for the model loaded at start, +1 per successful reload.\n"
    "# TYPE fastintent_model_version gauge\n"
    "fastintent_model_version 3\n"
    "# HELP fastintent_model_reloads_total Model reloads, by result.\n"
    "# TYPE fastintent_model_reloads_total counter\n"
    "fastintent_model_reloads_total{result=\"ok\"} 2\n"
    "fastintent_model_reloads_total{result=\"error\"} 7\n";

TEST(PrometheusTextTest, ServiceMetricsWithoutTransportCounters) {
  const ServiceMetrics m = Sample();
  EXPECT_EQ(ServiceMetricsText(m),
            std::string(kEngineAndReloads) + Histograms(m) +
                "# HELP fastintent_http_responses_total HTTP responses, by status class.\n"
                "# TYPE fastintent_http_responses_total counter\n"
                "fastintent_http_responses_total{class=\"2xx\"} 50\n"
                "fastintent_http_responses_total{class=\"4xx\"} 6\n"
                "fastintent_http_responses_total{class=\"5xx\"} 8\n");
}

// The transport's own answers (400/413/431 for malformed requests, 503 to refused connections)
// count in the status classes, and its counters follow.
TEST(PrometheusTextTest, ServiceMetricsWithTransportCounters) {
  ServiceMetrics m = Sample();
  m.http = HttpServerStats{};
  m.http->connections_accepted = 11;
  m.http->connections_refused = 2;
  m.http->connections_open = 3;
  m.http->requests = 70;
  m.http->bad_requests = 9;
  EXPECT_EQ(ServiceMetricsText(m),
            std::string(kEngineAndReloads) + Histograms(m) +
                "# HELP fastintent_http_responses_total HTTP responses, by status class.\n"
                "# TYPE fastintent_http_responses_total counter\n"
                "fastintent_http_responses_total{class=\"2xx\"} 50\n"
                "fastintent_http_responses_total{class=\"4xx\"} 15\n"
                "fastintent_http_responses_total{class=\"5xx\"} 10\n"
                "# HELP fastintent_http_connections_accepted_total TCP connections accepted.\n"
                "# TYPE fastintent_http_connections_accepted_total counter\n"
                "fastintent_http_connections_accepted_total 11\n"
                "# HELP fastintent_http_connections_refused_total Connections refused over the "
                "connection limit.\n"
                "# TYPE fastintent_http_connections_refused_total counter\n"
                "fastintent_http_connections_refused_total 2\n"
                "# HELP fastintent_http_connections_open Open connections.\n"
                "# TYPE fastintent_http_connections_open gauge\n"
                "fastintent_http_connections_open 3\n"
                "# HELP fastintent_http_requests_total HTTP requests parsed.\n"
                "# TYPE fastintent_http_requests_total counter\n"
                "fastintent_http_requests_total 70\n"
                "# HELP fastintent_http_bad_requests_total Malformed or over-limit HTTP requests.\n"
                "# TYPE fastintent_http_bad_requests_total counter\n"
                "fastintent_http_bad_requests_total 9\n");
}

}  // namespace
}  // namespace fastintent::server
