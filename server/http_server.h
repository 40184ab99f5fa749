// HttpServer: a small HTTP/1.1 server on Boost.Beast/Asio with keep-alive and hard limits
// (body size, header size, concurrent connections, idle time). It knows nothing about models:
// every complete request goes to a Handler, which answers asynchronously by calling `reply`
// exactly once, from any thread.
//
// Thread-safety: Start/Stop/port may be called from one controlling thread; the handler runs on
// the I/O threads and must not block (hand slow work elsewhere and reply later). Replies issued
// after Stop() are dropped; every reply must have been issued before the HttpServer is
// destroyed (stop the server, then drain whatever produces replies, then destroy it).
#pragma once

#include <atomic>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fastintent/status.h"

namespace fastintent::server {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;  // 0: an ephemeral port (see port())
  int io_threads = 1;
  size_t max_body_bytes = 1 << 20;                // larger bodies: 413
  size_t max_header_bytes = 16 << 10;             // larger request line + headers: 431
  size_t max_connections = 1024;                  // beyond: 503 and close
  std::chrono::milliseconds idle_timeout{30000};  // a connection silent this long is closed
};

// Counters for /metrics. Monotonic except `connections_open`.
struct HttpServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t connections_open = 0;
  uint64_t requests = 0;
  uint64_t bad_requests = 0;  // unparseable HTTP, too large bodies or headers
};

class HttpServer {
 public:
  using Reply = std::function<void(HttpResponse&&)>;
  using Handler = std::function<void(HttpRequest&&, Reply)>;

  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (errors name the address), then runs the I/O threads.
  Status Start();
  // The bound port (useful with port 0).
  uint16_t port() const;
  // Closes the listener, then waits up to `grace` for the answers of requests already handed to
  // the handler to be written (0: no wait), then closes every connection and joins the I/O
  // threads. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));
  // Blocks until Stop() is called from another thread or a signal handler thread.
  void Wait();

  // Connection counters so far (relaxed atomic reads; any thread).
  HttpServerStats Stats() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// A response with a JSON body (and keep-alive copied from the request by the server).
HttpResponse JsonResponse(http::status status, std::string body);
// {"error": message} with `status`. Always valid JSON: bytes of `message` that are not UTF-8
// (a request path may hold any) are replaced.
HttpResponse ErrorResponse(http::status status, const std::string& message);

}  // namespace fastintent::server
