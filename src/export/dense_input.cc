#include "export/dense_input.h"

#include <algorithm>
#include <map>
#include <utility>

#include "model/network.h"
#include "text/featurizer.h"

namespace fastintent {

StatusOr<DenseInput> FeaturizeDense(const Model& model, std::string_view text) {
  if (text.size() > kMaxTextBytes) return TextTooLong(text.size());
  FeaturizerScratch scratch;
  FeatureVector fv;
  model.featurizer().Featurize(text, &scratch, &fv);
  if (fv.rows.empty()) {
    return InvalidArgument(text.empty() ? "empty text: nothing to classify"
                                        : "no known words or characters in the text");
  }
  // Summed in FeatureVector order, as the first layer adds each entry's contribution.
  std::map<uint32_t, float> dense;
  for (size_t i = 0; i < fv.rows.size(); ++i) dense[fv.rows[i]] += fv.weights[i];
  DenseInput out;
  out.size = model.network().num_rows;
  out.indices.reserve(dense.size());
  out.values.reserve(dense.size());
  for (const auto& [row, value] : dense) {
    out.indices.push_back(row);
    out.values.push_back(value);
  }
  return out;
}

}  // namespace fastintent
