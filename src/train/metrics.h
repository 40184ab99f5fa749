// Classification metrics for `fastintent eval`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fastintent {

struct LabelMetrics {
  std::string label;
  double precision = 0, recall = 0, f1 = 0;
  size_t support = 0;  // gold occurrences
};

struct Metrics {
  size_t examples = 0;
  bool multi_label = false;
  // Single-label: accuracy over all examples; multi-label: exact-set match.
  double accuracy = 0;
  double macro_f1 = 0;
  double micro_f1 = 0;  // multi-label only
  // Out-of-scope protocol (when the data has out-of-scope examples: the oos label or an empty
  // set): accuracy over in-scope examples and recall of out-of-scope ones (rejected, or
  // predicted as the oos label / as an empty set).
  bool has_oos = false;
  size_t in_scope_examples = 0, oos_examples = 0;
  double in_scope_accuracy = 0;
  double oos_recall = 0;
  std::vector<LabelMetrics> per_label;  // every label that occurs in gold or predictions
};

// Accumulates gold/predicted label-id sets, then computes Metrics. Label ids index `labels`.
// An empty prediction means "rejected" (single-label) or "no label" (multi-label).
class MetricsBuilder {
 public:
  // `oos_label` is the index in `labels` of the out-of-scope label, or -1 when there is none
  // (an empty gold set still counts as out of scope).
  MetricsBuilder(std::vector<std::string> labels, bool multi_label, int oos_label);
  // Counts one example: its gold label ids and the predicted ones (empty = rejected/no label).
  void Add(const std::vector<uint32_t>& gold, const std::vector<uint32_t>& predicted);
  // The metrics over every example added so far; zeros (not NaN) where a count is 0.
  Metrics Compute() const;

 private:
  std::vector<std::string> labels_;
  bool multi_;
  int oos_;
  std::vector<size_t> tp_, fp_, fn_;
  size_t n_ = 0, exact_ = 0, in_scope_ = 0, in_scope_right_ = 0, oos_n_ = 0, oos_right_ = 0;
};

}  // namespace fastintent
