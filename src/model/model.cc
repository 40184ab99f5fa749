#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "kernels/kernels.h"
#include "model/network.h"

namespace fastintent {

void Network::Allocate(const std::vector<uint32_t>& hidden_sizes, uint32_t labels, uint32_t rows,
                       Precision p) {
  hidden = hidden_sizes;
  num_labels = labels;
  num_rows = rows;
  precision = p;
  const bool int8 = p == Precision::kInt8;
  embedding.Resize(int8 ? 0 : size_t(rows) * stride0());
  embedding_q.Resize(int8 ? size_t(rows) * stride0() : 0);
  embedding_scale.Resize(int8 ? rows : 0);
  embedding_bias.Resize(stride0());
  layers.clear();
  layers.resize(hidden.size());
  for (size_t i = 0; i < hidden.size(); ++i) {
    const uint32_t in = hidden[i];
    const uint32_t out = i + 1 < hidden.size() ? hidden[i + 1] : labels;
    layers[i].Allocate(in, out, p);
  }
}

const char* PrecisionName(Precision p) { return p == Precision::kInt8 ? "int8" : "float32"; }

namespace {

// Quantises `rows` rows of `cols` floats (`stride` apart) into int8 rows `stride_q` apart.
void QuantizeRows(const float* w, size_t rows, size_t cols, size_t stride, int8_t* q,
                  size_t stride_q, float* scale) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * stride;
    float m = 0;
    for (size_t j = 0; j < cols; ++j) m = std::max(m, std::fabs(row[j]));
    scale[r] = m / 127.0f;
    if (!(m > 0)) continue;  // stays zero
    const float inv = 127.0f / m;
    for (size_t j = 0; j < cols; ++j) {
      const float v = std::nearbyint(row[j] * inv);
      q[r * stride_q + j] = int8_t(std::max(-127.0f, std::min(127.0f, v)));
    }
  }
}

}  // namespace

Network QuantizeNetwork(const Network& net) {
  if (net.precision == Precision::kInt8) return net.Clone();  // already int8
  Network q;
  q.Allocate(net.hidden, net.num_labels, net.num_rows, Precision::kInt8);
  QuantizeRows(net.embedding.data(), net.num_rows, net.width0(), net.stride0(),
               q.embedding_q.data(), q.stride0(), q.embedding_scale.data());
  std::memcpy(q.embedding_bias.data(), net.embedding_bias.data(), net.stride0() * sizeof(float));
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const DenseLayer& from = net.layers[i];
    DenseLayer& to = q.layers[i];
    QuantizeRows(from.w.data(), from.out, from.in, from.stride(), to.wq.data(), to.stride_q(),
                 to.w_scale.data());
    std::memcpy(to.b.data(), from.b.data(), from.b.size() * sizeof(float));
  }
  return q;
}

float ActivationRange(size_t cols) {
  const double bound = double(0x7FFFFFFF) / (128.0 * double(std::max<size_t>(cols, 1)));
  return float(std::min(32767.0, std::floor(bound)));
}

namespace {
template <typename T>
void CopyBuffer(const AlignedBuffer<T>& from, AlignedBuffer<T>* to) {
  to->Resize(from.size());
  if (from.size()) std::memcpy(to->data(), from.data(), from.size() * sizeof(T));
}
}  // namespace

Network Network::Clone() const {
  Network n;
  n.hidden = hidden;
  n.num_labels = num_labels;
  n.num_rows = num_rows;
  n.precision = precision;
  CopyBuffer(embedding, &n.embedding);
  CopyBuffer(embedding_bias, &n.embedding_bias);
  CopyBuffer(embedding_q, &n.embedding_q);
  CopyBuffer(embedding_scale, &n.embedding_scale);
  n.layers.resize(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    n.layers[i].in = layers[i].in;
    n.layers[i].out = layers[i].out;
    CopyBuffer(layers[i].w, &n.layers[i].w);
    CopyBuffer(layers[i].b, &n.layers[i].b);
    CopyBuffer(layers[i].wq, &n.layers[i].wq);
    CopyBuffer(layers[i].w_scale, &n.layers[i].w_scale);
  }
  return n;
}

size_t Network::ParameterCount() const {
  size_t n = size_t(num_rows) * width0() + width0();
  for (const DenseLayer& l : layers) n += size_t(l.in) * l.out + l.out;
  return n;
}

namespace {

uint64_t NextModelId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// out[0, stride0) += sum_k weights[k] * E[x.rows[k]] for k in [begin, end), in the network's
// precision: the first layer's embedding bag.
void EmbeddingBag(const Network& net, const FeatureVector& x, const float* weights, size_t begin,
                  size_t end, float* out) {
  const size_t w0 = net.stride0();
  if (net.precision == Precision::kInt8) {
    kernels::SparseAccumulateI8(net.embedding_q.data(), w0, net.embedding_scale.data(),
                                x.rows.data() + begin, weights + begin, end - begin, out, w0);
  } else {
    kernels::SparseAccumulate(net.embedding.data(), w0, x.rows.data() + begin, weights + begin,
                              end - begin, out, w0);
  }
}

// out = the sum of `span`'s embedding rows with their unscaled weights: what TokenSums and
// TokenSumTable hold for its token.
void TokenSum(const Network& net, const FeatureVector& x, const CharSpan& span, float* out) {
  std::memset(out, 0, net.stride0() * sizeof(float));
  EmbeddingBag(net, x, x.unscaled.data(), span.begin, span.end, out);
}

}  // namespace

Model::Model(Featurizer featurizer, Network network, std::vector<std::string> labels,
             OutputKind kind, float threshold, std::string oos_label,
             std::vector<std::string> frequent_tokens)
    : id_(NextModelId()),
      featurizer_(std::make_shared<const Featurizer>(std::move(featurizer))),
      network_(std::make_shared<const Network>(std::move(network))),
      labels_(std::move(labels)),
      kind_(kind),
      threshold_(threshold),
      oos_label_(std::move(oos_label)),
      frequent_tokens_(std::move(frequent_tokens)) {
  if (featurizer_->config().char_tf != CharTf::kPerToken || frequent_tokens_.empty()) return;
  // Each token featurised alone gives its character entries (one keyed span when the token
  // tokenises to itself and is cacheable), summed exactly as a session would on a miss.
  auto table = std::make_shared<TokenSumTable>();
  table->stride = network_->stride0();
  const size_t count = std::min({frequent_tokens_.size(), kMaxFrequentTokens,
                                 kMaxTokenTableBytes / (table->stride * sizeof(float))});
  size_t slots = 16;
  while (slots < 2 * count) slots *= 2;
  table->slots.assign(slots, 0);
  table->sums.Resize(count * table->stride);
  FeaturizerScratch scratch;
  FeatureVector x;
  for (size_t t = 0; t < count; ++t) {
    const std::string& token = frequent_tokens_[t];
    featurizer_->Featurize(token, &scratch, &x);
    if (x.spans.size() != 1) continue;
    const CharSpan& span = x.spans[0];
    if (span.key.len != token.size() ||
        std::memcmp(span.key.bytes, token.data(), token.size()) != 0)
      continue;
    if (table->Find(span.key)) continue;  // listed twice
    TokenSum(*network_, x, span, table->Insert(span.key));
  }
  token_table_ = std::move(table);
}

Model::Model(const Model&) = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(const Model&) = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Session::Session(std::unique_ptr<SessionState> state) : state_(std::move(state)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

SessionState& StateOf(Session& session) { return *session.state_; }

Precision Model::precision() const { return network_->precision; }

size_t Model::token_table_size() const { return token_table_ ? token_table_->keys.size() : 0; }

Session Model::NewSession() const {
  Session session(std::make_unique<SessionState>());
  SessionState& s = *session.state_;
  // Padded for the int8 path too (PadInt8 >= PadFloats): the padding stays zero.
  s.activations.emplace_back(PadInt8(network_->width0()));
  size_t widest_input = 0;
  for (const DenseLayer& l : network_->layers) {
    s.activations.emplace_back(PadInt8(l.out));
    widest_input = std::max(widest_input, l.stride_q());
  }
  if (network_->precision == Precision::kInt8) s.quantized.Resize(widest_input);
  session.probs_.resize(labels_.size());
  return session;
}

void ForwardLogits(const Network& net, const FeatureVector& x,
                   std::vector<AlignedBuffer<float>>* acts, float* logits,
                   AlignedBuffer<int16_t>* quantized, TokenSums* sums, const TokenSumTable* table) {
  float* h = (*acts)[0].data();
  const size_t w0 = net.stride0();
  std::memset(h, 0, w0 * sizeof(float));
  const bool int8 = net.precision == Precision::kInt8;
  if (sums == nullptr || x.spans.empty()) {
    EmbeddingBag(net, x, x.weights.data(), 0, x.rows.size(), h);
  } else {
    EmbeddingBag(net, x, x.weights.data(), 0, x.spans.front().begin,
                 h);  // the word group comes first
    for (const CharSpan& span : x.spans) {
      if (span.key.len == 0) {
        EmbeddingBag(net, x, x.weights.data(), span.begin, span.end, h);
        continue;
      }
      if (table) {
        if (const float* shared = table->Find(span.key)) {
          kernels::Axpy(x.char_scale, shared, h, w0);
          continue;
        }
      }
      const size_t slot = span.key.hash & (TokenSums::kSlots - 1);
      float* sum = sums->sums.data() + slot * w0;
      if (!(sums->keys[slot] == span.key)) {
        TokenSum(net, x, span, sum);
        sums->keys[slot] = span.key;
      }
      kernels::Axpy(x.char_scale, sum, h, w0);
    }
  }
  if (net.layers.empty()) {
    for (uint32_t j = 0; j < net.num_labels; ++j) logits[j] = h[j] + net.embedding_bias[j];
    return;
  }
  kernels::BiasRelu(net.embedding_bias.data(), h, w0);
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const DenseLayer& l = net.layers[i];
    const bool last = i + 1 == net.layers.size();
    float* y = last ? logits : (*acts)[i + 1].data();
    if (int8) {
      // The input's padding up to stride_q() is zero (Session), so it quantises to zero.
      const size_t cols = l.stride_q();
      int16_t* q = quantized->data();
      const float scale = kernels::QuantizeI16((*acts)[i].data(), cols, ActivationRange(cols), q);
      kernels::MatVecI8(l.wq.data(), l.w_scale.data(), l.out, cols, q, scale, l.b.data(), y);
    } else {
      kernels::MatVec(l.w.data(), l.out, l.stride(), (*acts)[i].data(), l.b.data(), y);
    }
    if (!last) {
      for (uint32_t j = 0; j < l.out; ++j) y[j] = std::max(0.0f, y[j]);
    }
  }
}

Status Model::Probabilities(std::string_view text, Session* session) const {
  SessionState* s = session->state_.get();
  if (text.size() > kMaxTextBytes) return TextTooLong(text.size());
  // Frees a long text's buffers once it is answered, on every path out.
  struct ReleaseIfLong {
    SessionState* s;
    bool long_text;
    ~ReleaseIfLong() {
      if (!long_text) return;
      s->featurizer.ReleaseTextBuffers();
      s->features.Release();
    }
  } release{s, text.size() > kReleaseScratchAboveBytes};
  featurizer_->Featurize(text, &s->featurizer, &s->features);
  if (s->features.rows.empty()) {
    return InvalidArgument(text.empty() ? "empty text: nothing to classify"
                                        : "no known words or characters in the text");
  }
  session->probs_.resize(labels_.size());
  TokenSums* sums = nullptr;
  if (featurizer_->config().char_tf == CharTf::kPerToken) {
    sums = &s->token_sums;
    if (sums->owner != id_) {
      sums->keys.assign(TokenSums::kSlots, TokenKey{{0, 0}, 0, 0});
      sums->sums.Resize(TokenSums::kSlots * network_->stride0());
      sums->owner = id_;
    }
  }
  ForwardLogits(*network_, s->features, &s->activations, session->probs_.data(), &s->quantized,
                sums, token_table_.get());
  if (kind_ == OutputKind::kSoftmax) {
    kernels::Softmax(session->probs_.data(), session->probs_.size());
  } else {
    kernels::Sigmoid(session->probs_.data(), session->probs_.size());
  }
  return Status::Ok();
}

void Model::Decide(const std::vector<float>& probs, int k, float threshold,
                   std::vector<LabelScore>* out) const {
  out->clear();
  if (threshold < 0) threshold = threshold_;
  if (k <= 0) return;
  if (k == 1) {
    // The common case, without the insertion machinery: the first of the most probable labels
    // (among those >= threshold for sigmoid), exactly what the general loop below picks.
    int best = -1;
    float best_p = 0;
    for (uint32_t i = 0; i < probs.size(); ++i) {
      if (kind_ == OutputKind::kSigmoid && probs[i] < threshold) continue;
      if (best < 0 || probs[i] > best_p) {
        best = int(i);
        best_p = probs[i];
      }
    }
    if (best < 0 || (kind_ == OutputKind::kSoftmax && best_p < threshold)) return;
    out->push_back({uint32_t(best), best_p});
    return;
  }
  // Partial selection of the k best without allocation beyond `out`.
  for (uint32_t i = 0; i < probs.size(); ++i) {
    if (kind_ == OutputKind::kSigmoid && probs[i] < threshold) continue;
    LabelScore c{i, probs[i]};
    if (int(out->size()) < k) {
      out->push_back(c);
    } else if (c.prob > out->back().prob) {
      out->back() = c;
    } else {
      continue;
    }
    for (size_t j = out->size() - 1; j > 0 && (*out)[j].prob > (*out)[j - 1].prob; --j)
      std::swap((*out)[j], (*out)[j - 1]);
  }
  if (kind_ == OutputKind::kSoftmax && !out->empty() && out->front().prob < threshold) out->clear();
}

std::shared_ptr<const Model> QuantizeModel(const Model& m) {
  return std::make_shared<const Model>(m.featurizer(), QuantizeNetwork(m.network()), m.labels(),
                                       m.kind(), m.threshold(), m.oos_label(), m.frequent_tokens());
}

int Model::LabelIndex(std::string_view name) const {
  for (size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] == name) return int(i);
  return -1;
}

}  // namespace fastintent
