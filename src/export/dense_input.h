// The split between fastintent and an exported network (ONNX, Core ML): fastintent turns text
// into the network's input, a dense vector over the model's vocabulary rows; the exported
// network does the rest. This is that input, as its non-zero entries.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "fastintent/model.h"
#include "fastintent/status.h"

namespace fastintent {

// The dense input x of the exported network (size Network::num_rows) as its non-zero entries,
// indices ascending. x[r] is the sum of the FeatureVector's weights of row r (a row may occur in
// both the word and the character group), so x^T E is the first layer's pre-bias sum
// (Model::Probabilities computes the same up to float rounding).
struct DenseInput {
  std::vector<uint32_t> indices;
  std::vector<float> values;
  uint32_t size = 0;
};

// Featurises `text` for `model`. Fails like Model::Probabilities: a text over kMaxTextBytes, or
// one with no known feature (empty input to the network).
StatusOr<DenseInput> FeaturizeDense(const Model& model, std::string_view text);

}  // namespace fastintent
