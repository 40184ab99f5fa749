// TextsRequest: what a request to classify texts asks for, whichever dialect it came in (the Open
// Inference Protocol's infer, server/oip.h; /v1/classify and /v1/route, server/v1_api.h), and the
// parsing steps those dialects share. Pure functions of their input: no sockets, no engine.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fastintent/status.h"

namespace fastintent::server {

struct TextsRequest {
  std::vector<std::string> texts;  // at least one once parsed
  int k = 1;                       // "k": labels to report, in [1, 100000]
  float threshold = -1;            // "threshold", in [0, 1]; < 0: the model's calibrated one
};

// Parses a request body that must be one JSON object into *out. InvalidArgument "request body:
// malformed JSON at byte 3: ..." (ParseJson's reason) or "request body must be a JSON object".
Status ParseJsonObject(std::string_view body, nlohmann::json* out);

// The last steps of every dialect, in this order: reads the optional "k" and "threshold" of
// `params` (a JSON object; null: neither given) into *request, then requires at least one text.
// InvalidArgument "\"k\" must be a positive integer", "\"threshold\" must be a number in [0, 1]"
// or "no texts to classify".
Status FinishTextsRequest(const nlohmann::json* params, TextsRequest* request);

}  // namespace fastintent::server
