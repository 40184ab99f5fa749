#include "train/metrics.h"

#include <algorithm>

namespace fastintent {

MetricsBuilder::MetricsBuilder(std::vector<std::string> labels, bool multi_label, int oos_label)
    : labels_(std::move(labels)),
      multi_(multi_label),
      oos_(oos_label),
      tp_(labels_.size()),
      fp_(labels_.size()),
      fn_(labels_.size()) {}

void MetricsBuilder::Add(const std::vector<uint32_t>& gold, const std::vector<uint32_t>& pred) {
  ++n_;
  auto has = [](const std::vector<uint32_t>& v, uint32_t x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  for (uint32_t g : gold) (has(pred, g) ? tp_ : fn_)[g]++;
  for (uint32_t p : pred)
    if (!has(gold, p)) fp_[p]++;
  bool same = gold.size() == pred.size();
  for (uint32_t g : gold) same = same && has(pred, g);
  exact_ += same;
  const bool gold_oos = gold.empty() || (oos_ >= 0 && gold.size() == 1 && int(gold[0]) == oos_);
  if (gold_oos) {
    ++oos_n_;
    const bool right = pred.empty() || (oos_ >= 0 && pred.size() == 1 && int(pred[0]) == oos_);
    oos_right_ += right;
    exact_ += right && !same;  // a rejection is the right answer for out-of-scope input
  } else {
    ++in_scope_;
    in_scope_right_ += same;
  }
}

Metrics MetricsBuilder::Compute() const {
  Metrics m;
  m.examples = n_;
  m.multi_label = multi_;
  m.accuracy = n_ ? double(exact_) / double(n_) : 0;
  m.has_oos = oos_n_ > 0;
  m.in_scope_examples = in_scope_;
  m.oos_examples = oos_n_;
  m.in_scope_accuracy = in_scope_ ? double(in_scope_right_) / double(in_scope_) : 0;
  m.oos_recall = oos_n_ ? double(oos_right_) / double(oos_n_) : 0;
  size_t tp = 0, fp = 0, fn = 0;
  double f1_sum = 0;
  size_t counted = 0;
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (tp_[i] + fp_[i] + fn_[i] == 0) continue;
    LabelMetrics l;
    l.label = labels_[i];
    l.support = tp_[i] + fn_[i];
    l.precision = tp_[i] + fp_[i] ? double(tp_[i]) / double(tp_[i] + fp_[i]) : 0;
    l.recall = l.support ? double(tp_[i]) / double(l.support) : 0;
    l.f1 = l.precision + l.recall > 0 ? 2 * l.precision * l.recall / (l.precision + l.recall) : 0;
    tp += tp_[i];
    fp += fp_[i];
    fn += fn_[i];
    f1_sum += l.f1;
    ++counted;
    m.per_label.push_back(l);
  }
  m.macro_f1 = counted ? f1_sum / double(counted) : 0;
  m.micro_f1 = 2 * tp + fp + fn ? 2.0 * double(tp) / double(2 * tp + fp + fn) : 0;
  return m;
}

}  // namespace fastintent
