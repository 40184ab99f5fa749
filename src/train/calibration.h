// Choosing the rejection threshold on a validation split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/network.h"

namespace fastintent {

struct CalibrationInput {
  OutputKind kind = OutputKind::kSoftmax;
  uint32_t num_labels = 0;
  int oos_label = -1;                       // label id meaning "out of scope", or -1
  std::vector<float> probs;                 // gold.size() x num_labels probabilities
  std::vector<std::vector<uint32_t>> gold;  // gold label ids per example (may be empty)
};

struct CalibrationResult {
  float threshold = 0;
  double score = 0;         // the validation score the threshold achieves
  std::string explanation;  // human-readable: what was maximised, on how many examples
};

// Softmax: the top-probability threshold maximising validation accuracy over all examples,
// where an out-of-scope example (gold = oos label, or no label) counts as correct when it is
// rejected or predicted as the oos label (the CLINC150 paper's oos-threshold protocol). Ties go
// to the lowest threshold. Without out-of-scope examples there is nothing to calibrate against:
// the threshold is 0 (rejection off).
// Sigmoid: the per-label probability threshold in {0.05, 0.10, ..., 0.95} maximising exact-set
// match (an empty gold set is matched by predicting nothing); 0.5 without validation data.
CalibrationResult CalibrateThreshold(const CalibrationInput& in);

}  // namespace fastintent
