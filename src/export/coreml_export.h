// Core ML export of a fastintent model's network: a NeuralNetwork-form .mlmodel (not ML
// Program), specification version 4 (iOS 13 / macOS 10.15: the lowest with softmaxND and exact
// array shape mapping). Field numbers from coremltools' mlmodel/format/*.proto as
// ../shared/specs/formats.md, section 1, lists them.
//
// Input "features": FLOAT32 multi-array [num_rows], the dense input of export/dense_input.h.
// Layers: innerProduct (weights [out][in], bias) + ReLU per hidden layer, innerProduct to the
// logits, then softmaxND(axis -1) (single-label) or a sigmoid activation (multi-label).
// Single-label models are classifiers (neuralNetworkClassifier, string class labels): outputs
// "classLabel" (String) and "probabilities" (dictionary String -> Double). Multi-label models are
// plain neuralNetworks with the output "probabilities" FLOAT32 [num_labels] and the labels in
// metadata. Metadata: author, version, description; userDefined holds "labels" (JSON),
// "featurizer" (settings as JSON), "input", "precision" and "model_metadata". int8 models are
// exported dequantised to float32, as for ONNX.
#pragma once

#include <string>

#include "fastintent/model.h"

namespace fastintent {

// The serialised CoreML.Specification.Model of `model`; `metadata_json` (the model file's
// metadata, may be empty) goes to userDefined "model_metadata".
std::string CoreMlModelBytes(const Model& model, const std::string& metadata_json);

}  // namespace fastintent
