// The intent model and its per-thread session: the public C++ API of fastintent's inference.
//
// A Model is a featuriser + an MLP + labels + a calibrated rejection threshold. It is immutable
// after construction or load (fastintent/model_io.h) and safe to share between any number of
// threads; each thread brings its own Session, so predictions take no lock.
//
// Network: x (sparse, from the featuriser) -> h0 = ReLU(E^T x + b0) -> [h_i = ReLU(W_i h_{i-1}
// + b_i)]... -> logits = W_out h_last + b_out -> softmax (single-label) or sigmoid
// (multi-label). E has one row per vocabulary entry, so the first layer costs
// O(features in the text x width), not O(buckets). With no hidden layers the model is linear:
// E maps straight to the logits.
//
//   auto model = fastintent::LoadModel("assistant.fim");      // StatusOr<shared_ptr<const Model>>
//   fastintent::Session session = (*model)->NewSession();     // one per thread
//   if ((*model)->Probabilities("play some jazz", &session).ok())
//     (*model)->Decide(session.probs(), /*k=*/1, /*threshold=*/-1, &labels);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fastintent/status.h"

namespace fastintent {

// The library's internals that a Model and a Session own; their definitions are not public.
class Featurizer;
struct Network;
struct TokenSumTable;
struct SessionState;

enum class OutputKind : uint32_t {
  kSoftmax = 0,  // single-label: probabilities sum to 1
  kSigmoid = 1,  // multi-label: an independent probability per label
};

// How a model stores its weight matrices (biases are float32 either way).
enum class Precision : uint32_t {
  kFloat32 = 0,  // float32 everywhere
  kInt8 = 1,     // int8 matrices with a float32 scale per row (w ~ scale * q, symmetric),
                 // int16 activations into the dense layers
};

// "float32" or "int8".
const char* PrecisionName(Precision p);

// One scored label: an index into Model::labels() and its probability.
struct LabelScore {
  uint32_t label;
  float prob;
};

// Per-thread inference scratch. Create one per thread with Model::NewSession(); reusing it
// makes a prediction allocation-free once warm (for texts up to 64 KiB). Not thread-safe: one
// thread at a time. A session serves only the model that made it.
class Session {
 public:
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  // The probabilities of the last successful Model::Probabilities call on this session, one
  // per label of that model.
  const std::vector<float>& probs() const { return probs_; }

 private:
  friend class Model;
  friend SessionState& StateOf(Session& session);
  explicit Session(std::unique_ptr<SessionState> state);
  std::unique_ptr<SessionState> state_;
  std::vector<float> probs_;
};

class Model {
 public:
  // For the library's model reader and trainer (the parameter types are internal).
  // `frequent_tokens`: tokens whose first-layer sums are precomputed for every session
  // (models counting character n-grams per token; others ignore them), most frequent first.
  Model(Featurizer featurizer, Network network, std::vector<std::string> labels, OutputKind kind,
        float threshold, std::string oos_label, std::vector<std::string> frequent_tokens = {});
  // Copies share the immutable parts (and the id).
  Model(const Model&);
  Model(Model&&) noexcept;
  Model& operator=(const Model&);
  Model& operator=(Model&&) noexcept;
  ~Model();

  // A session sized for this model.
  Session NewSession() const;

  // Computes the probability of every label for `text` (UTF-8; invalid bytes are replaced)
  // into session->probs() (num_labels floats). Fails with InvalidArgument when the text is
  // longer than 1 MiB or has no known feature: nothing to classify (empty or all-unknown
  // input). Thread-safe for distinct sessions.
  Status Probabilities(std::string_view text, Session* session) const;

  // Labels to report for probabilities `probs`: softmax: the top-k labels, or none when the
  // top probability is below `threshold` (rejection); sigmoid: up to k labels whose probability
  // is >= threshold. Best first. `threshold` < 0 means "use the calibrated one".
  void Decide(const std::vector<float>& probs, int k, float threshold,
              std::vector<LabelScore>* out) const;

  const std::vector<std::string>& labels() const { return labels_; }
  OutputKind kind() const { return kind_; }
  // The calibrated rejection threshold (see Decide).
  float threshold() const { return threshold_; }
  // Name of the label that means "out of scope" in the training data ("" when none).
  const std::string& oos_label() const { return oos_label_; }
  // Index of `name` in labels(), or -1.
  int LabelIndex(std::string_view name) const;
  // Weight precision of the network.
  Precision precision() const;
  // Different for every constructed Model (never 0); what a Session's caches are keyed on.
  uint64_t id() const { return id_; }
  // The file's `tokens` section: frequent training tokens, most frequent first (may be empty).
  const std::vector<std::string>& frequent_tokens() const { return frequent_tokens_; }
  // Entries of the shared first-layer table (frequent tokens that are cacheable, each once).
  size_t token_table_size() const;

  // Internal parts, for the library's own layers (their types are not public).
  const Featurizer& featurizer() const { return *featurizer_; }
  const Network& network() const { return *network_; }

 private:
  uint64_t id_;
  std::shared_ptr<const Featurizer> featurizer_;
  std::shared_ptr<const Network> network_;
  std::vector<std::string> labels_;
  OutputKind kind_;
  float threshold_;
  std::string oos_label_;
  std::vector<std::string> frequent_tokens_;
  std::shared_ptr<const TokenSumTable> token_table_;
};

// A copy of `model` with int8 weights (every matrix row quantised symmetrically; an int8 model
// is copied as it is). Featuriser, labels and calibrated threshold are kept. On CLINC150 it
// keeps accuracy to 0.1 point in a file ~4x smaller.
std::shared_ptr<const Model> QuantizeModel(const Model& model);

}  // namespace fastintent
