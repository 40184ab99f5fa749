// Tests of the HTTP server: a real server listening on 127.0.0.1 (ephemeral port) and a real
// HTTP client (Beast, synchronous) over TCP. Models are tiny and trained in-test.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "fastintent/model_io.h"
#include "server/http_server.h"
#include "server/inference_service.h"
#include "testing/tiny_model.h"

namespace fastintent::server {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;

Model TinyModel(const std::vector<std::string>& labels) {
  auto m = fastintent::testing::TrainTinyKeywordModel(labels);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

struct Reply {
  unsigned status = 0;
  json body;
  std::string raw;
  bool keep_alive = false;
};

// A keep-alive HTTP/1.1 client over one TCP connection.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }
  Reply Send(http::verb method, const std::string& target, const std::string& body = "",
             const std::string& extra_header = "") {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!extra_header.empty()) req.set(extra_header, std::string(20000, 'x'));
    if (method == http::verb::post) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
    }
    http::write(socket_, req);
    return Read();
  }
  Reply Read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(socket_, buffer_, parser);
    Reply r;
    r.status = parser.get().result_int();
    r.raw = parser.get().body();
    r.keep_alive = parser.get().keep_alive();
    r.body = json::parse(r.raw, nullptr, false);
    return r;
  }
  Reply Get(const std::string& target) { return Send(http::verb::get, target); }
  Reply Post(const std::string& target, const json& body) {
    return Send(http::verb::post, target, body.dump());
  }
  tcp::socket& socket() { return socket_; }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "_" + std::to_string(::getpid()) + ".fim";
}

// A service + HTTP server on an ephemeral loopback port, torn down in the right order.
class ServerTest : public ::testing::Test {
 protected:
  void Start(ServiceOptions so = {}, HttpServerOptions ho = {}) {
    path_ = TempPath("tiny");
    ASSERT_TRUE(SaveModel(TinyModel({"weather", "music", "alarm"}), path_,
                          fastintent::testing::kTinyComponents)
                    .ok());
    so.model_path = path_;
    auto s = InferenceService::Create(so);
    ASSERT_TRUE(s.ok()) << s.status().message();
    service_ = std::move(s).value();
    ho.host = "127.0.0.1";
    ho.port = 0;
    InferenceService* svc = service_.get();
    http_ = std::make_unique<HttpServer>(ho, [svc](HttpRequest&& r, HttpServer::Reply reply) {
      svc->Handle(std::move(r), std::move(reply));
    });
    service_->SetHttpStatsSource([h = http_.get()] { return h->Stats(); });
    ASSERT_TRUE(http_->Start().ok());
    port_ = http_->port();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    if (service_) service_->Shutdown();  // the documented order: drain, then stop the transport
    if (http_) http_->Stop();
    http_.reset();
    service_.reset();
    std::remove(path_.c_str());
  }
  json InferBody(const std::vector<std::string>& texts) {
    return {
        {"id", "r1"},
        {"inputs",
         {{{"name", "text"}, {"shape", {texts.size()}}, {"datatype", "BYTES"}, {"data", texts}}}}};
  }

  std::string path_;
  std::unique_ptr<InferenceService> service_;
  std::unique_ptr<HttpServer> http_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, HealthMetadataAndReadiness) {
  Start();
  Client c(port_);
  Reply r = c.Get("/v2/health/live");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, json({{"live", true}}));
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(c.Get("/v2/health/ready").body, json({{"ready", true}}));
  const std::string name = service_->model_name();
  EXPECT_EQ(name, "tiny_" + std::to_string(::getpid()));
  r = c.Get("/v2/models/" + name);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.body["name"], name);
  EXPECT_EQ(r.body["inputs"][0]["datatype"], "BYTES");
  EXPECT_EQ(r.body["parameters"]["labels"], json({"alarm", "music", "weather"}));
  r = c.Get("/v2/models/" + name + "/ready");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body["ready"], true);
  r = c.Get("/v2/models/nope/ready");
  EXPECT_EQ(r.status, 404u);
  EXPECT_TRUE(r.body["error"].is_string());
  EXPECT_EQ(c.Get("/nowhere").status, 404u);
  EXPECT_EQ(c.Post("/v2/health/live", json::object()).status, 405u);
  EXPECT_EQ(c.Get("/v1/classify").status, 405u);
}

TEST_F(ServerTest, InferOpenInferenceProtocol) {
  Start();
  Client c(port_);
  const std::string url = "/v2/models/" + service_->model_name() + "/infer";
  Reply r = c.Post(url, InferBody({"rain forecast", "play song album", "wake alarm"}));
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(r.body["id"], "r1");
  EXPECT_EQ(r.body["model_name"], service_->model_name());
  ASSERT_EQ(r.body["outputs"].size(), 2u);
  EXPECT_EQ(r.body["outputs"][0]["name"], "label");
  EXPECT_EQ(r.body["outputs"][0]["shape"], json({3}));
  EXPECT_EQ(r.body["outputs"][0]["data"], json({"weather", "music", "alarm"}));
  EXPECT_EQ(r.body["outputs"][1]["datatype"], "FP32");
  for (const json& p : r.body["outputs"][1]["data"]) EXPECT_GT(p.get<double>(), 0.34);

  // Named outputs, nested 2-D data, the full probability matrix.
  json body = {{"inputs",
                {{{"name", "text"},
                  {"shape", {2, 1}},
                  {"datatype", "BYTES"},
                  {"data", {{"snow"}, {"band"}}}}}},
               {"outputs", {{{"name", "probabilities"}}}}};
  r = c.Post(url, body);
  ASSERT_EQ(r.status, 200u) << r.raw;
  ASSERT_EQ(r.body["outputs"].size(), 1u);
  EXPECT_EQ(r.body["outputs"][0]["shape"], json({2, 3}));
  EXPECT_EQ(r.body["outputs"][0]["data"].size(), 6u);
  EXPECT_FALSE(r.body.contains("id"));
}

TEST_F(ServerTest, BadRequestsGet400WithAMessage) {
  Start();
  Client c(port_);
  const std::string url = "/v2/models/" + service_->model_name() + "/infer";
  auto expect_400 = [&](const std::string& target, const std::string& body,
                        const std::string& needle) {
    Reply r = c.Send(http::verb::post, target, body);
    EXPECT_EQ(r.status, 400u) << body << " -> " << r.raw;
    ASSERT_TRUE(r.body.is_object()) << r.raw;
    EXPECT_NE(r.body["error"].get<std::string>().find(needle), std::string::npos) << r.raw;
  };
  expect_400(url, "{not json", "request body: malformed JSON at byte 3: invalid literal");
  // A number out of double's range is a parse failure too (nlohmann throws out_of_range, not
  // parse_error, for it).
  expect_400(url, R"({"id": 1e999})",
             "request body: malformed JSON: number overflow parsing '1e999'");
  expect_400(url, "[1,2]", "JSON object");
  expect_400(url, "{}", "inputs");
  expect_400(url, R"({"inputs":[{"name":"t","shape":[1],"datatype":"FP32","data":[1.0]}]})",
             "BYTES");
  expect_400(url, R"({"inputs":[{"name":"t","shape":[2],"datatype":"BYTES","data":["a"]}]})",
             "shape");
  expect_400(url, R"({"inputs":[{"name":"t","shape":[1],"datatype":"BYTES","data":[3]}]})",
             "strings");
  expect_400(
      url,
      R"({"inputs":[{"name":"t","shape":[1],"datatype":"BYTES","data":["a"]}],"outputs":[{"name":"x"}]})",
      "unknown output");
  expect_400("/v1/classify", R"({"text": 5})", "\"text\"");
  expect_400("/v1/classify", R"({"text": "a", "texts": ["b"]})", "either");
  expect_400("/v1/classify", R"({"texts": []})", "no texts");
  expect_400("/v1/classify", R"({"text": "rain", "k": 0})", "\"k\"");
  // 60,000 nested arrays (a 120 KB body) once overflowed the stack of the flattening.
  const std::string deep = std::string(60000, '[') + "\"hi\"" + std::string(60000, ']');
  expect_400(url, R"({"inputs":[{"name":"t","shape":[1],"datatype":"BYTES","data":)" + deep + "}]}",
             "nested at most 32");
  // A shape whose product wraps around 2^64 (to 1, or to 0) must not match the data.
  expect_400(
      url,
      R"({"inputs":[{"name":"t","shape":[3,12297829382473034411],"datatype":"BYTES","data":["a"]}]})",
      "inputs[0].shape: the product of its sizes overflows 64 bits");
  expect_400(
      url,
      R"({"inputs":[{"name":"t","shape":[4294967296,4294967296],"datatype":"BYTES","data":[]}]})",
      "inputs[0].shape: the product of its sizes overflows 64 bits");
  // A zero in the shape means no texts, whatever the other sizes.
  expect_400(url, R"({"inputs":[{"name":"t","shape":[2000,0],"datatype":"BYTES","data":[]}]})",
             "no texts");
  // The connection survives all of that.
  EXPECT_EQ(c.Get("/v2/health/live").status, 200u);
}

TEST_F(ServerTest, ClassifyAndRoute) {
  Start();
  Client c(port_);
  Reply r = c.Post("/v1/classify", {{"text", "rain umbrella"}, {"k", 2}});
  ASSERT_EQ(r.status, 200u) << r.raw;
  ASSERT_EQ(r.body["labels"].size(), 2u);
  EXPECT_EQ(r.body["labels"][0]["label"], "weather");
  r = c.Post("/v1/classify", {{"texts", {"rain", "", "album"}}});
  ASSERT_EQ(r.status, 200u) << r.raw;
  ASSERT_EQ(r.body["results"].size(), 3u);
  EXPECT_EQ(r.body["results"][0]["labels"][0]["label"], "weather");
  EXPECT_TRUE(r.body["results"][1]["error"].is_string());  // empty text: answered, not failed
  EXPECT_EQ(r.body["results"][2]["labels"][0]["label"], "music");
  r = c.Post("/v1/route", {{"text", "rain forecast snow"}});
  ASSERT_EQ(r.status, 200u) << r.raw;
  std::vector<std::string> names;
  for (const json& comp : r.body["components"]) names.push_back(comp["name"]);
  // weather pulls in its dependency alarm (CORE, so first).
  EXPECT_EQ(names, (std::vector<std::string>{"alarm", "weather"})) << r.raw;
  // The request's threshold is honoured (this softmax model routes its best label when that
  // reaches the threshold): 0 keeps it, 1 rejects it.
  r = c.Post("/v1/route", {{"text", "rain forecast snow"}, {"threshold", 0}});
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(r.body["components"].size(), 2u) << r.raw;
  r = c.Post("/v1/route", {{"text", "rain forecast snow"}, {"threshold", 1}});
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(r.body["components"].size(), 0u) << r.raw;
  // A text that cannot be routed keeps the fields of a routed item, as `fastintent route --json`.
  r = c.Post("/v1/route", {{"texts", {"rain", ""}}});
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(r.body["results"][1]["components"], json::array()) << r.raw;
  EXPECT_EQ(r.body["results"][1]["total_memory_mb"], 0) << r.raw;
  EXPECT_TRUE(r.body["results"][1]["error"].is_string()) << r.raw;
}

// Sends raw bytes on a fresh connection and returns everything the server writes until it
// closes the connection (or `wait` passes).
std::string RawExchange(uint16_t port, const std::string& bytes,
                        std::chrono::milliseconds wait = std::chrono::seconds(5)) {
  net::io_context ioc;
  tcp::socket sock(ioc);
  sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  net::write(sock, net::buffer(bytes));
  const timeval tv{long(wait.count() / 1000), long(wait.count() % 1000) * 1000};
  ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[4096];
  for (;;) {
    beast::error_code ec;
    const size_t n = sock.read_some(net::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

TEST_F(ServerTest, TransportCornerCases) {
  Start();
  const std::string model = "/v2/models/" + service_->model_name();
  // A Transfer-Encoding other than chunked: 400 and close, so the body is never run as a second
  // request (request smuggling).
  std::string out =
      RawExchange(port_,
                  "POST /v1/classify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
                  "GET " +
                      model + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_NE(out.find("unsupported Transfer-Encoding"), std::string::npos) << out;
  EXPECT_EQ(out.find("HTTP/1.1 200"), std::string::npos) << out;
  // A path that is not UTF-8 still gets a JSON error body.
  out = RawExchange(port_, "GET /v2/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 404", 0), 0u) << out;
  const json body = json::parse(out.substr(out.find("\r\n\r\n") + 4), nullptr, false);
  ASSERT_TRUE(body.is_object()) << out;
  EXPECT_EQ(body["error"], "/v2/\xEF\xBF\xBD\xEF\xBF\xBD: no such endpoint");
  // HEAD: the headers of the answer and no body, so a pipelined request after it parses.
  out = RawExchange(port_,
                    "HEAD /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const size_t second = out.find("HTTP/1.1", 1);
  ASSERT_NE(second, std::string::npos) << out;
  EXPECT_EQ(out.substr(out.find("\r\n\r\n") + 4, 8), "HTTP/1.1") << out;  // nothing between the two
  EXPECT_EQ(out.substr(second, 12), "HTTP/1.1 200") << out;
  // Answers the transport writes itself count in the status classes.
  Client c(port_);
  const std::string metrics = c.Get("/metrics").raw;
  EXPECT_NE(metrics.find("fastintent_http_responses_total{class=\"4xx\"} 3"), std::string::npos)
      << metrics;
}

// "Expect: 100-continue" gets the interim 100 before the body is sent, then the answer; a body
// announced over the limit gets 413 without being sent.
TEST_F(ServerTest, ExpectContinueIsAnswered) {
  HttpServerOptions ho;
  ho.max_body_bytes = 4096;
  Start({}, ho);
  net::io_context ioc;
  tcp::socket sock(ioc);
  sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  const timeval tv{10, 0};
  ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string body = R"({"text": "rain"})";
  net::write(
      sock,
      net::buffer(
          "POST /v1/classify HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n"));
  char buf[4096];
  beast::error_code ec;
  size_t n = sock.read_some(net::buffer(buf), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(std::string(buf, n), "HTTP/1.1 100 Continue\r\n\r\n");
  net::write(sock, net::buffer(body));
  beast::flat_buffer b;
  http::response<http::string_body> res;
  http::read(sock, b, res, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(json::parse(res.body())["labels"][0]["label"], "weather");

  const std::string out =
      RawExchange(port_,
                  "POST /v1/classify HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  "Content-Length: 5000\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
}

// Shutting down answers what is in flight: the service drains its queue while the I/O threads
// still write, then the server stops. A request caught mid-way gets 200 or 503, never a
// dropped connection.
TEST_F(ServerTest, ShutdownAnswersRequestsInFlight) {
  ServiceOptions so;
  so.engine.workers = 1;
  so.inline_max_texts = 0;
  Start(so);
  std::atomic<int> answered{0}, dropped{0};
  std::vector<std::thread> clients;
  clients.reserve(3);
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&] {
      try {
        Client c(port_);
        const timeval tv{20, 0};  // a dropped answer fails the test instead of hanging it
        ::setsockopt(c.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        Reply r = c.Post("/v1/classify",
                         {{"texts", std::vector<std::string>(1024, "rain forecast snow storm")}});
        (r.status == 200 || r.status == 503 ? answered : dropped)++;
      } catch (const std::exception&) {
        dropped++;
      }
    });
  }
  for (int i = 0; i < 2000 && http_->Stats().requests < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  service_->Shutdown();
  http_->Stop(std::chrono::seconds(10));
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(dropped.load(), 0);
  EXPECT_EQ(answered.load(), 3);
}

TEST_F(ServerTest, LimitsOnBodyHeadersAndConnections) {
  ServiceOptions so;
  so.max_texts_per_request = 8;
  HttpServerOptions ho;
  ho.max_body_bytes = 4096;
  ho.max_header_bytes = 4096;
  ho.max_connections = 2;
  Start(so, ho);
  {
    Client c(port_);
    Reply r = c.Send(http::verb::post, "/v1/classify", std::string(5000, ' '));
    EXPECT_EQ(r.status, 413u);
    EXPECT_FALSE(r.keep_alive);
  }
  {
    Client c(port_);
    Reply r = c.Send(http::verb::get, "/v2/health/live", "", "X-Big");
    EXPECT_EQ(r.status, 431u);
  }
  {
    Client c(port_);
    Reply r = c.Post("/v1/classify", {{"texts", std::vector<std::string>(9, "rain")}});
    EXPECT_EQ(r.status, 413u);
  }
  // Connection limit: two open keep-alive connections, the third is refused with 503. First let
  // the server notice that the connections above were closed.
  for (int i = 0; i < 1000 && http_->Stats().connections_open > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(http_->Stats().connections_open, 0u);
  Client a(port_), b(port_);
  EXPECT_EQ(a.Get("/v2/health/live").status, 200u);
  EXPECT_EQ(b.Get("/v2/health/live").status, 200u);
  Client third(port_);
  http::request<http::string_body> req{http::verb::get, "/v2/health/live", 11};
  beast::error_code ec;
  http::write(third.socket(), req, ec);
  Reply refused = third.Read();
  EXPECT_EQ(refused.status, 503u);
  EXPECT_EQ(http_->Stats().connections_refused, 1u);
}

// A request larger than the whole queue could never be accepted: 413 at once, not a 503 that
// invites a retry.
TEST_F(ServerTest, RequestLargerThanTheQueueIs413) {
  ServiceOptions so;
  so.engine.workers = 1;
  so.engine.queue_capacity = 2;
  Start(so);
  Client c(port_);
  Reply r = c.Post("/v1/classify", {{"texts", std::vector<std::string>(3, "rain snow")}});
  EXPECT_EQ(r.status, 413u) << r.raw;
  EXPECT_EQ(r.body["error"], "3 texts in one request; at most 2");
  EXPECT_EQ(c.Post("/v1/classify", {{"texts", std::vector<std::string>(2, "rain")}}).status, 200u);
}

// Concurrent requests that each fill the whole queue of one worker: whatever does not fit is
// answered 503 "overloaded" at once (never a hang), the rest 200, and the server serves on.
TEST_F(ServerTest, OverloadGets503Quickly) {
  ServiceOptions so;
  so.engine.workers = 1;
  so.engine.queue_capacity = 64;
  so.inline_max_texts = 0;
  Start(so);
  std::atomic<int> ok{0}, overloaded{0}, other{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  clients.reserve(6);
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&] {
      Client c(port_);
      for (int i = 0; i < 40; ++i) {
        Reply r = c.Post("/v1/classify", {{"texts", std::vector<std::string>(64, "rain snow")}});
        if (r.status == 200)
          ok++;
        else if (r.status == 503 &&
                 r.body["error"].get<std::string>().find("overloaded") != std::string::npos)
          overloaded++;
        else
          other++;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(overloaded.load(), 0) << ok.load() << " answered";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  Client c(port_);
  EXPECT_EQ(c.Post("/v1/classify", {{"text", "rain"}}).status, 200u);  // and then it serves again
}

TEST_F(ServerTest, ReloadWithoutDowntimeAndBadFilesKeepTheOldModel) {
  Start();
  const std::string name = service_->model_name();
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, requests{0};
  std::thread load([&] {
    Client c(port_);
    while (!stop.load()) {
      Reply r = c.Post("/v1/classify", {{"text", "rain forecast"}});
      if (r.status != 200) failures.fetch_add(1);
      requests.fetch_add(1);
    }
  });
  Client c(port_);
  ASSERT_TRUE(SaveModel(TinyModel({"w2", "m2", "a2"}), path_).ok());
  Reply r = c.Post("/v2/repository/models/" + name + "/load", json::object());
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(r.body["model_version"], 2);
  EXPECT_EQ(c.Post("/v1/classify", {{"text", "rain forecast"}}).body["labels"][0]["label"], "w2");
  // A corrupt file: 400, and the previous model keeps serving.
  {
    FILE* f = std::fopen(path_.c_str(), "wb");
    std::fputs("not a model", f);
    std::fclose(f);
  }
  r = c.Post("/v2/repository/models/" + name + "/load", json::object());
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.body["error"].get<std::string>().find(path_), std::string::npos) << r.raw;
  EXPECT_EQ(c.Post("/v1/classify", {{"text", "rain forecast"}}).body["labels"][0]["label"], "w2");
  stop.store(true);
  load.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(requests.load(), 0);
  // /v1/route now fails cleanly: the new file has no component registry.
  EXPECT_EQ(c.Post("/v1/route", {{"text", "rain"}}).status, 400u);
  const std::string metrics = c.Get("/metrics").raw;
  EXPECT_NE(metrics.find("fastintent_model_reloads_total{result=\"ok\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("fastintent_model_reloads_total{result=\"error\"} 1"), std::string::npos);
}

// The service owns reloading (the engine only swaps models in): a missing or corrupt file leaves
// the model and its version as they were, and every outcome is counted once, in /metrics.
TEST(ServerReloadTest, BadFilesKeepTheOldModelAndEveryOutcomeIsCounted) {
  const std::string path = TempPath("service_reload");
  ASSERT_TRUE(SaveModel(TinyModel({"weather", "music", "alarm"}), path,
                        fastintent::testing::kTinyComponents)
                  .ok());
  ServiceOptions so;
  so.model_path = path;
  auto created = InferenceService::Create(so);
  ASSERT_TRUE(created.ok()) << created.status().message();
  InferenceService& service = **created;
  auto label_of = [&](const std::string& text) {
    InferenceResult r = service.engine().Submit(text).get();
    return r.labels.empty() ? std::string() : r.model->labels()[r.labels[0].label];
  };
  {
    std::string bytes = SerializeModel(TinyModel({"w2", "m2", "a2"}));
    bytes[bytes.size() / 2] ^= 0x5a;
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  Status s = service.Reload();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  std::remove(path.c_str());
  s = service.Reload();
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_EQ(service.engine().model_version(), 1u);
  EXPECT_EQ(label_of("rain forecast"), "weather");

  ASSERT_TRUE(SaveModel(TinyModel({"w2", "m2", "a2"}), path).ok());
  ASSERT_TRUE(service.Reload().ok());
  EXPECT_EQ(service.engine().model_version(), 2u);
  EXPECT_EQ(label_of("rain forecast"), "w2");
  const std::string metrics = service.MetricsText();
  EXPECT_NE(metrics.find("fastintent_model_reloads_total{result=\"ok\"} 1\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("fastintent_model_reloads_total{result=\"error\"} 2\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("fastintent_model_version 2\n"), std::string::npos) << metrics;
  service.Shutdown();
  std::remove(path.c_str());
}

TEST_F(ServerTest, ConcurrentKeepAliveClientsAndMetrics) {
  Start();
  constexpr int kClients = 4, kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(kClients);
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      Client c(port_);
      for (int i = 0; i < kRequests; ++i) {
        Reply r = c.Post("/v1/classify", {{"texts", {"rain", "song"}}});
        if (r.status == 200 && r.body["results"][1]["labels"][0]["label"] == "music")
          ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  Client c(port_);
  Reply m = c.Get("/metrics");
  ASSERT_EQ(m.status, 200u);
  EXPECT_NE(m.raw.find("fastintent_engine_answers_total{outcome=\"ok\"} 400"), std::string::npos)
      << m.raw;
  EXPECT_NE(m.raw.find("# TYPE fastintent_engine_latency_seconds histogram"), std::string::npos);
  EXPECT_NE(m.raw.find("fastintent_engine_latency_seconds_bucket{le=\"+Inf\"} 400"),
            std::string::npos);
  EXPECT_NE(m.raw.find("fastintent_http_connections_accepted_total 5"), std::string::npos);
}

}  // namespace
}  // namespace fastintent::server
