// ONNX export of a fastintent model's network (onnx.proto field numbers as
// ../shared/specs/formats.md lists them, from onnx/onnx @ f7546912001b; IR version 8, opset 13).
//
// Graph: input "features" FLOAT [N, num_rows] (the dense input of export/dense_input.h)
//   -> Gemm(E [num_rows, width0], b0) -> Relu -> [Gemm(W [out, in], b, transB=1) -> Relu]...
//   -> Gemm(output layer) -> Softmax(axis=-1) (single-label) or Sigmoid (multi-label)
//   -> output "probabilities" FLOAT [N, num_labels].
// A network with no hidden layers is Gemm(E, b0) -> Softmax/Sigmoid. int8 models are exported
// dequantised to float32 (w = scale * q); their ONNX outputs then differ from fastintent's int8
// inference, which also quantises activations, by that quantisation's error.
// metadata_props: "labels" (JSON array), "output" ("softmax"/"sigmoid"), "precision",
// "featurizer" (the featuriser's settings as JSON), "input" (how the input is built) and
// "model_metadata" (the model file's metadata section, when not empty).
#pragma once

#include <string>

#include "fastintent/model.h"
#include "fastintent/status.h"

namespace fastintent {

// The serialised ModelProto of `model`. `metadata_json` (the model file's metadata, may be
// empty) goes to metadata_props "model_metadata" as it is.
std::string OnnxModelBytes(const Model& model, const std::string& metadata_json);

}  // namespace fastintent
