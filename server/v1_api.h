// The codec of the convenience endpoints of `fastintent serve` (docs/server.md): POST
// /v1/classify and POST /v1/route take {"text": "..."} or {"texts": [...]} with optional "k" and
// "threshold", and answer one item per text (the item itself for "text", {"results": [...]} for
// "texts"). Pure functions of their input (no sockets, no engine), tested on bytes
// (v1_api_test.cc); server/inference_service.cc routes requests to them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fastintent/engine.h"
#include "fastintent/status.h"
#include "router/router.h"
#include "server/texts_request.h"

namespace fastintent::server {

struct V1TextsRequest {
  TextsRequest texts;
  bool single = false;  // {"text": ...}: answered with the one item itself, not {"results": [...]}
};

// Parses the body of /v1/classify or /v1/route: exactly one of "text" (a string) and "texts" (an
// array of strings), and the optional "k" and "threshold" at the top level. Anything else is
// InvalidArgument with a message naming the field at fault (ParseJsonObject's errors first,
// FinishTextsRequest's last).
StatusOr<V1TextsRequest> ParseV1Texts(std::string_view body);

// The /v1/classify body: per result {"labels": [{"label", "prob"}, ...]} (best first, empty when
// rejected), or {"labels": [], "error": message} for a text that was not classified (the request
// itself is answered 200; the caller answers a result that was never computed otherwise).
std::string WriteV1Classify(const V1TextsRequest& request,
                            const std::vector<InferenceResult>& results);

// The /v1/route body, like `fastintent route --json`: per result {"components": [{"name",
// "priority", "confidence", "memory_mb", "load_ms", "dependency"}, ...], "total_memory_mb"},
// routed with Route() at the request's threshold over `registry`, or {"components": [],
// "total_memory_mb": 0, "error": message} for a text that was not classified. A classified result
// must carry its probabilities (RequestOptions::want_probabilities).
std::string WriteV1Route(const V1TextsRequest& request, const std::vector<InferenceResult>& results,
                         const ComponentRegistry& registry);

}  // namespace fastintent::server
