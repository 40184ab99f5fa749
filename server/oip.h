// The Open Inference Protocol v2 codec of `fastintent serve` (KServe "v2", also spoken by
// Triton; docs/server.md): the infer request, whose one BYTES input holds the texts, its response,
// and the model metadata. Pure functions of their input (no sockets, no engine), so each is tested
// on bytes (oip_test.cc); server/inference_service.cc routes requests to them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fastintent/engine.h"
#include "fastintent/model.h"
#include "fastintent/status.h"
#include "server/texts_request.h"

namespace fastintent::server {

// The outputs an infer request names (default: label and probability).
struct OipOutputs {
  bool label = true;           // BYTES: the best label, "" when none
  bool probability = true;     // FP32: its probability, 0 when none
  bool probabilities = false;  // FP32 [texts, labels]: every label's probability
};

struct OipInferRequest {
  TextsRequest texts;             // the input's data, flattened; "k", "threshold" of "parameters"
  std::optional<std::string> id;  // "id", echoed in the response
  OipOutputs outputs;
};

// How deep an input's data may nest arrays (deeper is refused: it also bounds the recursion).
inline constexpr int kOipMaxDataDepth = 32;

// Parses the body of POST /v2/models/{name}/infer: exactly one input, "datatype": "BYTES", whose
// "data" (a flat or nested array of strings, at most kOipMaxDataDepth deep) holds as many strings
// as the product of its "shape" (checked for overflow); an optional string "id", "parameters"
// object ("k", "threshold") and "outputs" array naming label, probability or probabilities.
// Anything else is InvalidArgument with a message naming the field at fault, checked in that
// order (ParseJsonObject's errors first, FinishTextsRequest's last).
StatusOr<OipInferRequest> ParseOipInfer(std::string_view body);

// The infer response body: {"id" (when the request had one), "model_name", "outputs"} with, in the
// order label, probability, probabilities, each output the request asked for over every result.
// A result without labels (rejected by the threshold, or not computed) has label "" and
// probability 0; "probabilities" has `num_labels` values per result, 0 where the result has none.
std::string WriteOipInferResponse(const std::string& model_name, const OipInferRequest& request,
                                  const std::vector<InferenceResult>& results, size_t num_labels);

// The model metadata body (GET /v2/models/{name}): name, inputs and outputs with their datatypes
// and shapes, and as "parameters" the model's labels, output kind and threshold and
// `model_version` (the engine's count of models served).
std::string WriteOipModelMetadata(const std::string& model_name, const Model& model,
                                  uint64_t model_version);

}  // namespace fastintent::server
