#include "server/http_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "common/json.h"

namespace fastintent::server {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

HttpResponse JsonResponse(http::status status, std::string body) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

HttpResponse ErrorResponse(http::status status, const std::string& message) {
  return JsonResponse(status, DumpJson({{"error", message}}));
}

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  // Declared before the io_context: connections still queued in it when it is destroyed
  // decrement `open` on their way out.
  std::atomic<uint64_t> accepted{0}, refused{0}, open{0}, requests{0}, bad{0};
  // Requests handed to the handler whose answer is not written yet (Stop's grace waits for 0).
  std::atomic<int64_t> in_flight{0};
  net::io_context ioc;
  // On a strand of its own, so Stop can close it while an accept completes on an I/O thread.
  tcp::acceptor acceptor{net::make_strand(ioc)};
  std::vector<std::thread> threads;
  std::mutex mu;
  std::condition_variable stopped_cv;
  bool stopped = false;

  Impl(HttpServerOptions o, Handler h) : options(std::move(o)), handler(std::move(h)) {}
  void Accept();
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket&& socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {}
  ~Connection() {
    if (handling_) server_->in_flight.fetch_sub(1, std::memory_order_relaxed);
    server_->open.fetch_sub(1, std::memory_order_relaxed);
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(uint32_t(server_->options.max_header_bytes));
    stream_.expires_after(server_->options.idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  // A client that sent "Expect: 100-continue" waits for an interim 100 before it sends the body
  // (RFC 9110 10.1.1); without one, curl and libcurl clients stall a second per request. A body
  // announced over the limit gets its 413 at once instead.
  void OnHeader(beast::error_code ec) {
    if (ec || parser_->is_done()) return OnRead(ec);
    const http::request_parser<http::string_body>::value_type& h = parser_->get();
    const auto expect = h.find(http::field::expect);
    if (expect == h.end() || h.version() < 11 || !beast::iequals(expect->value(), "100-continue"))
      return ReadBody();
    if (parser_->content_length() && *parser_->content_length() > server_->options.max_body_bytes)
      return OnRead(http::error::body_limit);
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(stream_, net::buffer(kContinue, sizeof kContinue - 1),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       self->ReadBody();
                     });
  }

  void ReadBody() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof) {
      return Close();
    }
    head_ = false;
    // Beast reads a body only when it is chunked or has a Content-Length; any other
    // Transfer-Encoding would leave the body to be parsed as the next request (RFC 9112 6.3:
    // answer 400 and close).
    if (!ec && parser_->get().find(http::field::transfer_encoding) != parser_->get().end() &&
        !parser_->chunked()) {
      ec = http::error::bad_transfer_encoding;
    }
    if (ec) {
      server_->bad.fetch_add(1, std::memory_order_relaxed);
      http::status status = http::status::bad_request;
      std::string message = "malformed HTTP request: " + ec.message();
      if (ec == http::error::body_limit) {
        status = http::status::payload_too_large;
        message = "request body larger than " + std::to_string(server_->options.max_body_bytes) +
                  " bytes";
      } else if (ec == http::error::header_limit) {
        status = http::status::request_header_fields_too_large;
        message = "request headers larger than " +
                  std::to_string(server_->options.max_header_bytes) + " bytes";
      } else if (ec == http::error::bad_transfer_encoding) {
        message = "unsupported Transfer-Encoding (only chunked)";
      }
      keep_alive_ = false;
      return Write(ErrorResponse(status, message));
    }
    server_->requests.fetch_add(1, std::memory_order_relaxed);
    HttpRequest req = parser_->release();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    head_ = req.method() == http::verb::head;
    handling_ = true;
    server_->in_flight.fetch_add(1, std::memory_order_relaxed);
    stream_.expires_never();  // the handler answers within its own deadline
    auto self = shared_from_this();
    server_->handler(std::move(req), [self](HttpResponse&& res) {
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
    });
  }

  void Write(HttpResponse&& res) {
    res.version(version_);
    res.keep_alive(keep_alive_);
    res.set(http::field::server, "fastintent");
    res.prepare_payload();
    response_ = std::make_unique<HttpResponse>(std::move(res));
    serializer_ = std::make_unique<http::response_serializer<http::string_body>>(*response_);
    stream_.expires_after(server_->options.idle_timeout);
    auto done = [self = shared_from_this()](beast::error_code ec, size_t) {
      self->serializer_.reset();
      self->response_.reset();
      if (self->handling_) {
        self->handling_ = false;
        self->server_->in_flight.fetch_sub(1, std::memory_order_relaxed);
      }
      if (ec || !self->keep_alive_) return self->Close();
      self->Read();
    };
    // A HEAD answer has the headers of the full answer (its Content-Length included) and no body.
    if (head_) {
      http::async_write_header(stream_, *serializer_, std::move(done));
    } else {
      http::async_write(stream_, *serializer_, std::move(done));
    }
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl* server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<HttpResponse> response_;
  std::unique_ptr<http::response_serializer<http::string_body>> serializer_;
  bool keep_alive_ = true;
  bool head_ = false;      // the request being answered is a HEAD
  bool handling_ = false;  // counted in in_flight until its answer is written
  unsigned version_ = 11;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      return Accept();  // e.g. EMFILE: keep serving the connections we have
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (open.load(std::memory_order_relaxed) >= options.max_connections) {
      refused.fetch_add(1, std::memory_order_relaxed);
      // The socket buffer takes this small answer at once, so the synchronous write cannot stall.
      HttpResponse res = ErrorResponse(http::status::service_unavailable, "too many connections");
      res.keep_alive(false);
      res.set(http::field::retry_after, "1");
      res.prepare_payload();
      beast::error_code ignored;
      http::write(socket, res, ignored);
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      return Accept();
    }
    accepted.fetch_add(1, std::memory_order_relaxed);
    open.fetch_add(1, std::memory_order_relaxed);
    std::make_shared<Connection>(std::move(socket), this)->Start();
    Accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  beast::error_code ec;
  const auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec)
    return InvalidArgument("--host " + impl_->options.host + ": not an IP address (" +
                           ec.message() + ")");
  const tcp::endpoint endpoint(address, impl_->options.port);
  const std::string where = impl_->options.host + ":" + std::to_string(impl_->options.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return IoError(where + ": cannot listen: " + ec.message());
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->options.io_threads); ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->ioc.run(); });
  }
  return Status::Ok();
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  if (grace.count() > 0 && !impl_->threads.empty()) {
    net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
      beast::error_code ignored;
      impl->acceptor.close(ignored);
    });
    const auto until = std::chrono::steady_clock::now() + grace;
    while (impl_->in_flight.load(std::memory_order_relaxed) > 0 &&
           std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);  // no I/O thread runs any more
  impl_->stopped_cv.notify_all();
}

void HttpServer::Wait() {
  std::unique_lock<std::mutex> l(impl_->mu);
  impl_->stopped_cv.wait(l, [&] { return impl_->stopped; });
}

HttpServerStats HttpServer::Stats() const {
  HttpServerStats s;
  s.connections_accepted = impl_->accepted.load(std::memory_order_relaxed);
  s.connections_refused = impl_->refused.load(std::memory_order_relaxed);
  s.connections_open = impl_->open.load(std::memory_order_relaxed);
  s.requests = impl_->requests.load(std::memory_order_relaxed);
  s.bad_requests = impl_->bad.load(std::memory_order_relaxed);
  return s;
}

}  // namespace fastintent::server
