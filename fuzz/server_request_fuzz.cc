// libFuzzer target: the HTTP API (InferenceService::Handle, no sockets) on arbitrary requests.
// The input is "<method byte><target>\n<body>". Every request must be answered exactly once,
// with a documented status (never 500: that is a bug caught at the edge), and every JSON answer
// must be valid JSON (UTF-8 included). Found by it: none yet; by hand before it existed: a
// stack overflow on deeply nested data and error bodies echoing non-UTF-8 paths.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fastintent/model_io.h"
#include "server/inference_service.h"
#include "testing/tiny_model.h"

namespace {

fastintent::server::InferenceService& Service() {
  static std::unique_ptr<fastintent::server::InferenceService> service = [] {
    auto model = fastintent::testing::TrainTinyKeywordModel({"weather", "music", "alarm"});
    if (!model.ok()) std::abort();
    const std::string path = "/tmp/server_request_fuzz_model.fim";
    if (!fastintent::SaveModel(*model, path, fastintent::testing::kTinyComponents).ok())
      std::abort();
    fastintent::server::ServiceOptions o;
    o.model_path = path;
    o.model_name = "m";
    o.engine.workers = 1;
    o.engine.queue_capacity = 64;
    auto s = fastintent::server::InferenceService::Create(o);
    if (!s.ok()) std::abort();
    return std::move(s).value();
  }();
  return *service;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = boost::beast::http;
  if (size == 0) return 0;
  static const http::verb kMethods[] = {http::verb::get, http::verb::post, http::verb::head,
                                        http::verb::put};
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nl = rest.find('\n');
  std::string target = rest.substr(0, nl);
  if (target.empty() || target[0] != '/') target.insert(0, "/");
  fastintent::server::HttpRequest req{kMethods[data[0] % 4], target, 11};
  if (nl != std::string::npos) req.body() = rest.substr(nl + 1);
  req.prepare_payload();
  auto answered = std::make_shared<std::promise<fastintent::server::HttpResponse>>();
  auto count = std::make_shared<std::atomic<int>>(0);
  Service().Handle(std::move(req), [answered, count](fastintent::server::HttpResponse&& res) {
    if (count->fetch_add(1) != 0) std::abort();  // answered twice
    answered->set_value(std::move(res));
  });
  const fastintent::server::HttpResponse res = answered->get_future().get();
  switch (res.result_int()) {
    case 200:
    case 400:
    case 404:
    case 405:
    case 409:
    case 413:
    case 503:
      break;
    default:
      std::fprintf(stderr, "status %u: %s\n", res.result_int(), res.body().c_str());
      std::abort();
  }
  const auto type = res.find(http::field::content_type);
  if (type != res.end() && type->value() == "application/json" &&
      !nlohmann::json::accept(res.body())) {
    std::fprintf(stderr, "not JSON: %s\n", res.body().c_str());
    std::abort();
  }
  return 0;
}
