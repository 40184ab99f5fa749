// The model layer's internals: the network's weights, the per-session scratch and the
// forward pass. Not part of the public API (include/fastintent/model.h is); the layers above
// the model (train, engine, tools) may read them, embedders may not.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "fastintent/model.h"
#include "text/featurizer.h"

namespace fastintent {

// A dense layer: y = W x + b with W row-major [out][PadFloats(in)], b of PadFloats(out).
// An int8 layer holds wq [out][PadInt8(in)] and w_scale [out] instead of w.
struct DenseLayer {
  uint32_t in = 0;
  uint32_t out = 0;
  AlignedBuffer<float> w;
  AlignedBuffer<float> b;
  AlignedBuffer<int8_t> wq;
  AlignedBuffer<float> w_scale;
  // Shapes the weights of `precision` (the other precision's stay empty) and the bias, zeroed.
  void Allocate(uint32_t in_dim, uint32_t out_dim, Precision precision = Precision::kFloat32) {
    in = in_dim;
    out = out_dim;
    const bool int8 = precision == Precision::kInt8;
    w.Resize(int8 ? 0 : size_t(out) * stride());
    wq.Resize(int8 ? size_t(out) * stride_q() : 0);
    w_scale.Resize(int8 ? out : 0);
    b.Resize(PadFloats(out));
  }
  size_t stride() const { return PadFloats(in); }
  size_t stride_q() const { return PadInt8(in); }
};

// The weights of the network. `embedding` is [vocab rows][PadFloats(width)] where width is
// hidden[0] (or the label count when there are no hidden layers). An int8 network holds
// `embedding_q` (same shape, int8) and `embedding_scale` [rows] instead of `embedding`.
struct Network {
  std::vector<uint32_t> hidden;  // hidden layer widths, e.g. {256, 128, 64}
  uint32_t num_labels = 0;
  uint32_t num_rows = 0;  // vocabulary rows
  Precision precision = Precision::kFloat32;
  AlignedBuffer<float> embedding;
  AlignedBuffer<float> embedding_bias;
  AlignedBuffer<int8_t> embedding_q;
  AlignedBuffer<float> embedding_scale;
  std::vector<DenseLayer> layers;  // hidden.size() layers: hidden[1..], then the output

  uint32_t width0() const { return hidden.empty() ? num_labels : hidden[0]; }
  size_t stride0() const { return PadFloats(width0()); }
  // Shapes every buffer of `precision` for the given sizes (zero-filled) and sets precision.
  void Allocate(const std::vector<uint32_t>& hidden_sizes, uint32_t labels, uint32_t rows,
                Precision p = Precision::kFloat32);
  // Weights and biases of every layer (the first: num_rows x width0 weights + width0 biases).
  size_t ParameterCount() const;
  // Deep copy (used to keep the best weights while training), in either precision.
  Network Clone() const;
};

// The int8 version of a float32 network: every matrix row quantised symmetrically,
// scale = max|row| / 127, q = round(w / scale) (an all-zero row gets scale 0); biases copied.
Network QuantizeNetwork(const Network& net);

// Largest |int16 activation| used before a dense int8 layer with `cols` (padded) inputs: 32767,
// or less when cols * 128 * 32767 could overflow the kernels' int32 sums.
float ActivationRange(size_t cols);

// A session's first-layer sums of recent tokens, for featurizers that count character TF per
// token (CharTf::kPerToken): a token's character entries depend on the token alone, so the
// embedding rows they select are summed once per session instead of once per text. Entry i holds
// sum_k unscaled[k] * E[rows[k]] over the entries of the token keys[i] (len 0: empty);
// direct-mapped on TokenKey::hash. All entries belong to the model whose id() is `owner`.
struct TokenSums {
  static constexpr size_t kSlots = 1024;  // x the first layer's width in floats: 1 MB at 256
  uint64_t owner = 0;
  std::vector<TokenKey> keys;
  AlignedBuffer<float> sums;  // kSlots x stride0
};

// The first-layer sums of a model's frequent tokens (Model::frequent_tokens()), computed once
// when the Model is built and read by every session: most tokens of a text are found here, and
// only the rest go through a session's TokenSums. Immutable.
struct TokenSumTable {
  std::vector<TokenKey> keys;   // entry i's token
  std::vector<uint32_t> slots;  // open addressing on TokenKey::hash: entry + 1, 0 = empty
  AlignedBuffer<float> sums;    // entries x stride, as TokenSums::sums
  size_t stride = 0;
  // The sum of `key`'s token, or null when the token is not in the table.
  const float* Find(const TokenKey& key) const {
    const size_t mask = slots.size() - 1;
    for (size_t i = key.hash & mask; slots[i] != 0; i = (i + 1) & mask)
      if (keys[slots[i] - 1] == key) return sums.data() + size_t(slots[i] - 1) * stride;
    return nullptr;
  }
  // Adds `key` (not in the table yet; slots sized for every entry at half load, sums for
  // `stride` floats each) and returns where its sum goes.
  float* Insert(const TokenKey& key) {
    const size_t entry = keys.size(), mask = slots.size() - 1;
    keys.push_back(key);
    size_t i = key.hash & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = uint32_t(entry + 1);
    return sums.data() + entry * stride;
  }
};

// Texts longer than this make Model::Probabilities free the session's text-sized buffers
// afterwards (64 KiB: far beyond any command, while the scratch of a 1 MiB text is ~100 MB).
constexpr size_t kReleaseScratchAboveBytes = size_t(64) << 10;

// What a Session holds besides its probabilities: the featuriser's scratch, the featurised
// text, the token sums and one activation buffer per layer. Shaped by Model::NewSession().
struct SessionState {
  FeaturizerScratch featurizer;
  FeatureVector features;
  TokenSums token_sums;
  std::vector<AlignedBuffer<float>> activations;  // one per layer output
  AlignedBuffer<int16_t> quantized;               // int8 models: int16 copy of a layer input
};

// The scratch of `session` (never null): for the model layer and its tests.
SessionState& StateOf(Session& session);

// At most this many frequent tokens per model (the `tokens` section's limit).
constexpr size_t kMaxFrequentTokens = 8192;
// The TokenSumTable takes at most this much memory: with a first layer wider than 2,048, only
// the most frequent tokens that fit get precomputed sums.
constexpr size_t kMaxTokenTableBytes = size_t(64) << 20;

// Runs the network on a featurised input; shared by inference and the trainer's evaluation.
// `acts` must have been shaped by Session (one buffer per layer). Writes logits to `logits`.
// Int8 networks also need `quantized` (shaped by Session): each dense layer's input is
// quantised to int16 (QuantizeI16 with ActivationRange) and multiplied exactly in integers.
// With `sums` (kSlots keys and sums, for this network) and x.spans, the character entries of
// keyed tokens are taken as char_scale * their sum from `table` (when given and it has the
// token) or from `sums` (filled on a miss); the result equals the plain sum over x's entries up
// to float rounding, and does not depend on where the sum came from.
void ForwardLogits(const Network& net, const FeatureVector& x,
                   std::vector<AlignedBuffer<float>>* acts, float* logits,
                   AlignedBuffer<int16_t>* quantized = nullptr, TokenSums* sums = nullptr,
                   const TokenSumTable* table = nullptr);

}  // namespace fastintent
