// `fastintent serve [-m MODEL] [--host 127.0.0.1] [--port 8000] [--threads N] ...`: the HTTP
// server (docs/server.md). Runs until SIGINT/SIGTERM, then answers every queued request (new ones
// get 503), stops accepting, lets the answers be written and exits 0.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>

#include "server/http_server.h"
#include "server/inference_service.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace fastintent::cli {
namespace {

struct ServeArgs {
  std::string model;
  std::string name;
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  int threads = 2;
  int io_threads = 1;
  size_t max_batch = 64;
  uint32_t max_wait_us = 0;
  size_t queue = 4096;
  int timeout_ms = 1000;
  size_t max_body = 1 << 20;
  size_t max_connections = 1024;
  int idle_s = 30;
  size_t inline_texts = 4;
};

int Run(const ServeArgs& a) {
  server::ServiceOptions so;
  so.model_path = a.model.empty() ? DefaultModelPath() : a.model;
  so.model_name = a.name;
  so.engine.workers = a.threads;
  so.engine.max_batch = a.max_batch;
  so.engine.max_wait_us = a.max_wait_us;
  so.engine.queue_capacity = a.queue;
  so.request_timeout = std::chrono::milliseconds(a.timeout_ms);
  so.inline_max_texts = a.inline_texts;
  auto service = server::InferenceService::Create(so);
  if (!service.ok()) {
    if (a.model.empty() && service.status().code() == StatusCode::kNotFound)
      return Fail(service.status().message() +
                  " (train the built-in model with the README's first command, or pass -m)");
    return Fail(service.status().message());
  }
  server::HttpServerOptions ho;
  ho.host = a.host;
  ho.port = a.port;
  ho.io_threads = a.io_threads;
  ho.max_body_bytes = a.max_body;
  ho.max_connections = a.max_connections;
  ho.idle_timeout = std::chrono::seconds(a.idle_s);
  server::InferenceService* svc = service->get();
  server::HttpServer http(ho, [svc](server::HttpRequest&& req, server::HttpServer::Reply reply) {
    svc->Handle(std::move(req), std::move(reply));
  });
  svc->SetHttpStatsSource([&http] { return http.Stats(); });

  // Signals are taken synchronously by a waiting thread: no work in a signal handler.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by the server's threads
  Status s = http.Start();
  if (!s.ok()) return Fail(s.message());
  std::fprintf(stderr,
               "fastintent: serving model '%s' (%s) on http://%s:%u with %d engine threads\n",
               svc->model_name().c_str(), so.model_path.c_str(), a.host.c_str(),
               unsigned(http.port()), a.threads);
  int sig = 0;
  sigwait(&set, &sig);
  std::fprintf(stderr, "fastintent: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  // Answer what is queued first, while the I/O threads still run to write those answers (new
  // requests meanwhile get 503); then stop accepting and give the writes up to 5 s to finish.
  svc->Shutdown();
  http.Stop(std::chrono::seconds(std::min(a.idle_s, 5)));
  return 0;
}

}  // namespace

void AddServe(CLI::App& root, int* exit_code) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* c = root.add_subcommand("serve",
                                    "HTTP server: Open Inference Protocol v2, /v1/classify, "
                                    "/v1/route, /metrics (docs/server.md)");
  c->add_option("-m,--model", a->model, "Model file (default: the built-in assistant model)")
      ->check(NotEmpty());
  c->add_option("--name", a->name, "Model name in the URLs (default: the file's stem)");
  c->add_option("--host", a->host, "Address to listen on")->capture_default_str();
  c->add_option("--port", a->port, "Port (0: any free port, printed at start)")
      ->capture_default_str();
  c->add_option("--threads", a->threads, "Engine worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  c->add_option("--io-threads", a->io_threads, "HTTP I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  c->add_option("--max-batch", a->max_batch, "Most texts an engine worker takes at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  c->add_option("--max-wait-us", a->max_wait_us,
                "How long a worker waits to fill a batch (microseconds)")
      ->capture_default_str();
  c->add_option("--queue", a->queue,
                "Engine queue capacity in texts; beyond it requests get 503 at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24));
  c->add_option("--timeout-ms", a->timeout_ms,
                "Per-text deadline; texts still queued after it get 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600000));
  c->add_option("--max-body", a->max_body, "Largest request body in bytes (413 beyond)")
      ->capture_default_str();
  c->add_option("--max-connections", a->max_connections,
                "Most open connections (503 and close beyond)")
      ->capture_default_str();
  c->add_option("--inline-texts", a->inline_texts,
                "Requests with at most this many texts are computed on the I/O thread while the "
                "engine queue is empty (0: always queue)")
      ->capture_default_str();
  c->add_option("--idle-timeout", a->idle_s, "Seconds before a silent connection is closed")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  c->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace fastintent::cli
