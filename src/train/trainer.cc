#include "train/trainer.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "kernels/kernels.h"
#include "train/calibration.h"

namespace fastintent {
namespace {

// SplitMix64: a tiny, well-specified generator, so that results do not depend on the
// standard library's distributions.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float Uniform() { return float(Next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1)
  uint64_t Below(uint64_t n) { return Next() % n; }
};

void FillUniform(float* w, size_t rows, size_t cols, size_t stride, float a, Rng* rng) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) w[r * stride + c] = (2 * rng->Uniform() - 1) * a;
}

// Grows `buf` to hold at least n floats (contents are not kept).
void Reserve(AlignedBuffer<float>* buf, size_t n) {
  if (buf->size() < n) buf->Resize(n + n / 2);
}

// A training example after featurisation: sparse input and target label ids.
struct Encoded {
  FeatureVector x;
  std::vector<uint32_t> y;
  bool oos = false;  // gold is the out-of-scope label or an empty set
};

// Adam moments for a buffer of parameters.
struct AdamState {
  AlignedBuffer<float> m, v;
  explicit AdamState(size_t n = 0) : m(n), v(n) {}
};

// Per-thread buffers for forward/backward passes.
struct Worker {
  std::vector<AlignedBuffer<float>> acts;   // post-activation (after dropout) per layer
  std::vector<AlignedBuffer<float>> grads;  // gradient w.r.t. each layer's output
  AlignedBuffer<float> logits;
  std::vector<AlignedBuffer<float>> gw, gb;  // dense-layer gradient accumulators
  FeatureVector dropped;
  double loss = 0;
};

class Trainer {
 public:
  Trainer(const TrainOptions& o, Network* net, uint32_t num_labels, OutputKind kind)
      : o_(o),
        net_(*net),
        kind_(kind),
        num_labels_(num_labels),
        threads_(std::max(1u, o.threads)) {}

  void Init(Rng* rng) {
    const size_t s0 = net_.stride0();
    FillUniform(net_.embedding.data(), net_.num_rows, net_.width0(), s0,
                1.0f / std::sqrt(float(net_.width0())), rng);
    for (DenseLayer& l : net_.layers)
      FillUniform(l.w.data(), l.out, l.in, l.stride(), std::sqrt(6.0f / float(l.in + l.out)), rng);
    emb_state_ = AdamState(net_.embedding.size());
    emb_bias_state_ = AdamState(net_.embedding_bias.size());
    for (DenseLayer& l : net_.layers) {
      layer_w_state_.emplace_back(l.w.size());
      layer_b_state_.emplace_back(l.b.size());
    }
    workers_.resize(threads_);
    for (Worker& w : workers_) {
      w.acts.emplace_back(s0);
      w.grads.emplace_back(s0);
      for (DenseLayer& l : net_.layers) {
        w.acts.emplace_back(PadFloats(l.out));
        w.grads.emplace_back(PadFloats(l.out));
        w.gw.emplace_back(l.w.size());
        w.gb.emplace_back(l.b.size());
      }
      w.logits.Resize(PadFloats(num_labels_));
    }
    row_slot_.assign(net_.num_rows, -1);
    emb_bias_grad_.Resize(s0);
  }

  // One epoch over `order`; returns the mean training loss.
  double Epoch(const std::vector<Encoded>& data, const std::vector<uint32_t>& order, float lr,
               uint32_t epoch) {
    double loss = 0;
    const size_t bs = o_.batch_size;
    for (size_t start = 0; start < order.size(); start += bs) {
      const size_t end = std::min(order.size(), start + bs);
      loss += Step(data, order, start, end, lr, epoch);
    }
    return loss / double(order.size());
  }

 private:
  // Forward + backward for one example; leaves dL/d(pre-activation of layer 0) in w->grads[0].
  void ExampleGrad(const Encoded& ex, uint64_t seed, float scale, Worker* w) {
    Rng rng(seed);
    const FeatureVector* x = &ex.x;
    if (o_.feature_dropout > 0) {
      w->dropped.clear();
      for (size_t k = 0; k < ex.x.rows.size(); ++k) {
        if (rng.Uniform() >= o_.feature_dropout) {
          w->dropped.rows.push_back(ex.x.rows[k]);
          w->dropped.weights.push_back(ex.x.weights[k] / (1 - o_.feature_dropout));
        }
      }
      x = &w->dropped;
    }
    const size_t s0 = net_.stride0();
    const bool linear = net_.layers.empty();
    float* h0 = w->acts[0].data();
    std::memset(h0, 0, s0 * sizeof(float));
    kernels::SparseAccumulate(net_.embedding.data(), s0, x->rows.data(), x->weights.data(),
                              x->rows.size(), h0, s0);
    float* logits = w->logits.data();
    const float keep = 1 - o_.dropout;
    if (linear) {
      for (uint32_t j = 0; j < num_labels_; ++j) logits[j] = h0[j] + net_.embedding_bias[j];
    } else {
      kernels::BiasRelu(net_.embedding_bias.data(), h0, s0);
      Dropout(h0, net_.width0(), keep, &rng);
      for (size_t i = 0; i < net_.layers.size(); ++i) {
        const DenseLayer& l = net_.layers[i];
        const bool last = i + 1 == net_.layers.size();
        float* y = last ? logits : w->acts[i + 1].data();
        kernels::MatVec(l.w.data(), l.out, l.stride(), w->acts[i].data(), l.b.data(), y);
        if (!last) {
          for (uint32_t j = 0; j < l.out; ++j) y[j] = std::max(0.0f, y[j]);
          Dropout(y, l.out, keep, &rng);
        }
      }
    }
    // Output gradient (scaled by 1/batch) into dlogits.
    const size_t last_idx = net_.layers.size();
    float* dlogits = linear ? w->grads[0].data() : w->grads[last_idx].data();
    if (linear) std::memset(dlogits, 0, s0 * sizeof(float));
    double loss = 0;
    if (kind_ == OutputKind::kSoftmax) {
      kernels::Softmax(logits, num_labels_);
      const float eps = o_.label_smoothing;
      const float base = eps / float(num_labels_);
      for (uint32_t j = 0; j < num_labels_; ++j) dlogits[j] = logits[j] - base;
      for (uint32_t y : ex.y) dlogits[y] -= (1 - eps);
      for (uint32_t j = 0; j < num_labels_; ++j) {
        const float t = base + (std::find(ex.y.begin(), ex.y.end(), j) != ex.y.end() ? 1 - eps : 0);
        if (t > 0) loss -= t * std::log(std::max(logits[j], 1e-12f));
      }
    } else {
      kernels::Sigmoid(logits, num_labels_);
      for (uint32_t j = 0; j < num_labels_; ++j) {
        const bool pos = std::find(ex.y.begin(), ex.y.end(), j) != ex.y.end();
        dlogits[j] = logits[j] - (pos ? 1.0f : 0.0f);
        loss -= std::log(std::max(pos ? logits[j] : 1 - logits[j], 1e-12f));
      }
    }
    for (uint32_t j = 0; j < num_labels_; ++j) dlogits[j] *= scale;
    w->loss += loss;
    // Backward through the dense layers.
    for (size_t i = net_.layers.size(); i-- > 0;) {
      const DenseLayer& l = net_.layers[i];
      const float* dy = w->grads[i + 1].data();
      const float* hin = w->acts[i].data();
      float* gw = w->gw[i].data();
      float* gb = w->gb[i].data();
      float* dh = w->grads[i].data();
      std::memset(dh, 0, l.stride() * sizeof(float));
      for (uint32_t o = 0; o < l.out; ++o) {
        if (dy[o] == 0) continue;
        gb[o] += dy[o];
        kernels::Axpy(dy[o], hin, gw + o * l.stride(), l.stride());
        kernels::Axpy(dy[o], l.w.data() + o * l.stride(), dh, l.stride());
      }
      // ReLU and dropout: zero where the (dropped) activation was zero; rescale the kept.
      for (uint32_t j = 0; j < l.in; ++j) dh[j] = hin[j] > 0 ? dh[j] / keep : 0;
    }
  }

  static void Dropout(float* h, uint32_t n, float keep, Rng* rng) {
    if (keep >= 1) return;
    const float inv = 1 / keep;
    for (uint32_t j = 0; j < n; ++j) h[j] = rng->Uniform() < keep ? h[j] * inv : 0;
  }

  double Step(const std::vector<Encoded>& data, const std::vector<uint32_t>& order, size_t start,
              size_t end, float lr, uint32_t epoch) {
    const size_t b = end - start;
    const size_t s0 = net_.stride0();
    const float scale = 1.0f / float(b);
    Reserve(&batch_grads_, b * s0);
    ++step_;
    const float bc1 = 1 - std::pow(0.9f, float(step_));
    const float bc2 = 1 - std::pow(0.999f, float(step_));

    // Collect the batch's distinct embedding rows, in first-seen order (deterministic).
    batch_rows_.clear();
    for (size_t e = start; e < end; ++e) {
      for (uint32_t r : data[order[e]].x.rows) {
        if (row_slot_[r] < 0) {
          row_slot_[r] = int32_t(batch_rows_.size());
          batch_rows_.push_back(r);
        }
      }
    }
    Reserve(&row_grads_, batch_rows_.size() * s0);

#pragma omp parallel num_threads(threads_)
    {
      const uint32_t t = uint32_t(omp_get_thread_num());
      const uint32_t nt = uint32_t(omp_get_num_threads());
      Worker& w = workers_[t];
      w.loss = 0;
      for (size_t i = 0; i < w.gw.size(); ++i) {
        std::memset(w.gw[i].data(), 0, w.gw[i].size() * sizeof(float));
        std::memset(w.gb[i].data(), 0, w.gb[i].size() * sizeof(float));
      }
      const size_t lo = b * t / nt, hi = b * (t + 1) / nt;
      for (size_t e = lo; e < hi; ++e) {
        const uint32_t idx = order[start + e];
        ExampleGrad(data[idx], (o_.seed * 0x100000001b3ull) ^ (uint64_t(epoch) << 40) ^ idx, scale,
                    &w);
        std::memcpy(&batch_grads_[e * s0], w.grads[0].data(), s0 * sizeof(float));
      }
#pragma omp barrier
      // Embedding rows: thread t owns slots with slot % nt == t and sums examples in order.
      for (size_t slot = t; slot < batch_rows_.size(); slot += nt)
        std::memset(&row_grads_[slot * s0], 0, s0 * sizeof(float));
      for (size_t e = 0; e < b; ++e) {
        const FeatureVector& x = data[order[start + e]].x;
        for (size_t k = 0; k < x.rows.size(); ++k) {
          const size_t slot = size_t(row_slot_[x.rows[k]]);
          if (slot % nt != t) continue;
          kernels::Axpy(x.weights[k], &batch_grads_[e * s0], &row_grads_[slot * s0], s0);
        }
      }
      for (size_t slot = t; slot < batch_rows_.size(); slot += nt) {
        const size_t off = size_t(batch_rows_[slot]) * s0;
        kernels::AdamStep(net_.embedding.data() + off, emb_state_.m.data() + off,
                          emb_state_.v.data() + off, &row_grads_[slot * s0], s0, lr, 0.9f, 0.999f,
                          o_.embedding_eps, o_.weight_decay, bc1, bc2);
      }
      // Dense layers: thread t updates layers i with i % nt == t after summing workers in order.
      for (size_t i = t; i < net_.layers.size(); i += nt) {
        DenseLayer& l = net_.layers[i];
        for (size_t other = 1; other < workers_.size(); ++other) {
          kernels::Axpy(1.0f, workers_[other].gw[i].data(), workers_[0].gw[i].data(), l.w.size());
          kernels::Axpy(1.0f, workers_[other].gb[i].data(), workers_[0].gb[i].data(), l.b.size());
        }
        kernels::AdamStep(l.w.data(), layer_w_state_[i].m.data(), layer_w_state_[i].v.data(),
                          workers_[0].gw[i].data(), l.w.size(), lr, 0.9f, 0.999f, 1e-8f,
                          o_.weight_decay, bc1, bc2);
        kernels::AdamStep(l.b.data(), layer_b_state_[i].m.data(), layer_b_state_[i].v.data(),
                          workers_[0].gb[i].data(), l.b.size(), lr, 0.9f, 0.999f, 1e-8f, 0, bc1,
                          bc2);
      }
    }
    // First-layer bias (summed in example order).
    std::memset(emb_bias_grad_.data(), 0, s0 * sizeof(float));
    for (size_t e = 0; e < b; ++e)
      kernels::Axpy(1.0f, &batch_grads_[e * s0], emb_bias_grad_.data(), s0);
    kernels::AdamStep(net_.embedding_bias.data(), emb_bias_state_.m.data(),
                      emb_bias_state_.v.data(), emb_bias_grad_.data(), s0, lr, 0.9f, 0.999f, 1e-8f,
                      0, bc1, bc2);
    for (uint32_t r : batch_rows_) row_slot_[r] = -1;
    double loss = 0;
    for (const Worker& w : workers_) loss += w.loss;
    return loss;
  }

  const TrainOptions& o_;
  Network& net_;
  OutputKind kind_;
  uint32_t num_labels_;
  uint32_t threads_;
  uint64_t step_ = 0;
  AdamState emb_state_, emb_bias_state_;
  std::vector<AdamState> layer_w_state_, layer_b_state_;
  std::vector<Worker> workers_;
  std::vector<int32_t> row_slot_;
  std::vector<uint32_t> batch_rows_;
  AlignedBuffer<float> batch_grads_, row_grads_;
  AlignedBuffer<float> emb_bias_grad_;
};

// avg += t * (net - avg), over every parameter buffer (same shapes).
void BlendInto(const Network& net, float t, Network* avg) {
  auto blend = [t](const AlignedBuffer<float>& from, AlignedBuffer<float>* to) {
    float* a = to->data();
    const float* b = from.data();
    for (size_t i = 0; i < from.size(); ++i) a[i] += t * (b[i] - a[i]);
  };
  blend(net.embedding, &avg->embedding);
  blend(net.embedding_bias, &avg->embedding_bias);
  for (size_t i = 0; i < net.layers.size(); ++i) {
    blend(net.layers[i].w, &avg->layers[i].w);
    blend(net.layers[i].b, &avg->layers[i].b);
  }
}

// Stratified (single-label) or plain random split of `n` examples into train and valid.
void CarveValid(const std::vector<Encoded>& all, float fraction, uint64_t seed,
                std::vector<uint32_t>* train_idx, std::vector<uint32_t>* valid_idx) {
  std::map<std::vector<uint32_t>, std::vector<uint32_t>> by_label;
  for (uint32_t i = 0; i < all.size(); ++i) by_label[all[i].y].push_back(i);
  Rng rng(seed ^ 0x5eed);
  for (auto& [label, idx] : by_label) {
    for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng.Below(i)]);
    const size_t nv = size_t(std::floor(double(idx.size()) * fraction + 0.5));
    for (size_t i = 0; i < idx.size(); ++i) (i < nv ? valid_idx : train_idx)->push_back(idx[i]);
  }
  std::sort(train_idx->begin(), train_idx->end());
  std::sort(valid_idx->begin(), valid_idx->end());
}

struct Score {
  double accuracy = 0;  // single-label: argmax accuracy; multi-label: exact match at 0.5
  double loss = 0;      // mean negative log-likelihood of the gold labels (tie-breaker)
  // Better accuracy wins; equal accuracy goes to the lower loss (a more confident model).
  bool BetterThan(const Score& o) const {
    return accuracy > o.accuracy || (accuracy == o.accuracy && loss < o.loss);
  }
};

// Scores `net` on data[idx]. Fills `probs` (n x labels) for calibration. Deterministic: the
// per-example losses are summed in example order.
Score Evaluate(const Network& net, OutputKind kind, const std::vector<Encoded>& data,
               const std::vector<uint32_t>& idx, uint32_t threads, std::vector<float>* probs) {
  const uint32_t nl = net.num_labels;
  probs->assign(idx.size() * nl, 0);
  std::vector<double> losses(idx.size());
  long correct = 0;
#pragma omp parallel num_threads(threads) reduction(+ : correct)
  {
    std::vector<AlignedBuffer<float>> acts;
    acts.emplace_back(net.stride0());
    for (const DenseLayer& l : net.layers) acts.emplace_back(PadFloats(l.out));
#pragma omp for schedule(static)
    for (long i = 0; i < long(idx.size()); ++i) {
      const Encoded& ex = data[idx[size_t(i)]];
      float* p = probs->data() + size_t(i) * nl;
      ForwardLogits(net, ex.x, &acts, p);
      double loss = 0;
      if (kind == OutputKind::kSoftmax) {
        kernels::Softmax(p, nl);
        const uint32_t best = uint32_t(std::max_element(p, p + nl) - p);
        correct += !ex.y.empty() && best == ex.y[0];
        if (!ex.y.empty()) loss = -std::log(std::max(p[ex.y[0]], 1e-12f));
      } else {
        kernels::Sigmoid(p, nl);
        bool ok = true;
        for (uint32_t j = 0; j < nl; ++j) {
          const bool pos = std::find(ex.y.begin(), ex.y.end(), j) != ex.y.end();
          ok = ok && (p[j] >= 0.5f) == pos;
          loss -= std::log(std::max(pos ? p[j] : 1 - p[j], 1e-12f));
        }
        correct += ok;
      }
      losses[size_t(i)] = loss;
    }
  }
  Score s;
  if (idx.empty()) return s;
  for (double l : losses) s.loss += l;
  s.loss /= double(idx.size());
  s.accuracy = double(correct) / double(idx.size());
  return s;
}

}  // namespace

StatusOr<std::vector<uint32_t>> HiddenPreset(const std::string& name) {
  if (name == "seed") return std::vector<uint32_t>{256, 128, 64};
  if (name == "default") return TrainOptions().hidden;
  if (name == "wide") return std::vector<uint32_t>{768};
  if (name == "linear") return std::vector<uint32_t>{};
  return NotFound("unknown architecture preset '" + name +
                  "' (known: default, seed, wide, linear)");
}

namespace {

// The tokens of `train` seen at least twice that a session could cache (IsCacheableToken),
// most frequent first (ties by bytes), at most kMaxFrequentTokens: the Model
// precomputes their first-layer sums (TokenSumTable). Empty unless `c` counts character TF per
// token.
std::vector<std::string> FrequentTokens(const FeaturizerConfig& c, const Dataset& train) {
  if (c.char_tf != CharTf::kPerToken || c.char_min == 0) return {};
  std::map<std::string, uint32_t> count;
  for (const Example& e : train.examples)
    for (std::string& t : TokenizeToStrings(e.text))
      if (t.size() <= FeaturizerScratch::kCachedTokenBytes) count[std::move(t)]++;
  std::vector<std::pair<uint32_t, std::string>> order;
  for (auto& [token, n] : count) {
    const bool ascii =
        std::all_of(token.begin(), token.end(), [](char ch) { return (ch & 0x80) == 0; });
    // ASCII: one code point per byte. Tokens a session would not key are left out: listing them
    // would only spend the section's and the table's budget.
    if (n >= 2 && ascii && IsCacheableToken(c, token.size(), token.size()))
      order.push_back({n, token});
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (order.size() > kMaxFrequentTokens) order.resize(kMaxFrequentTokens);
  std::vector<std::string> out;
  out.reserve(order.size());
  for (auto& [n, token] : order) out.push_back(std::move(token));
  return out;
}

}  // namespace

namespace {

// `d`'s file and `e`'s line ("valid.jsonl:12"), or "line 12" for data built in memory.
std::string Where(const Dataset& d, const Example& e) {
  return (d.source.empty() ? "line " : d.source + ":") + std::to_string(e.line);
}

StatusOr<Model> TrainOn(const Dataset& train, const Dataset* valid, const TrainOptions& o,
                        TrainReport* report) {
  const auto t0 = std::chrono::steady_clock::now();
  FI_RETURN_IF_ERROR(o.featurizer.Validate());
  if (train.examples.empty()) return InvalidArgument("training data is empty");
  if (valid && valid->examples.empty()) return InvalidArgument("validation data is empty");
  for (const Dataset* d : {&train, valid}) {
    if (!d) continue;
    for (size_t i = 0; i < d->examples.size(); ++i) {
      if (d->examples[i].text.size() > kMaxTextBytes)
        return TextTooLong(d->examples[i].text.size())
            .WithPrefix((d == valid ? "validation example " : "training example ") +
                        std::to_string(i + 1));
    }
  }
  if (o.batch_size == 0 || o.max_epochs == 0)
    return InvalidArgument("batch size and epochs must be > 0");
  // Written so that NaN fails every check.
  const auto in = [](float v, float lo, float hi) { return v >= lo && v < hi; };
  if (!in(o.dropout, 0, 1) || !in(o.feature_dropout, 0, 1))
    return InvalidArgument("dropout rates must be in [0, 1)");
  if (!in(o.label_smoothing, 0, 1)) return InvalidArgument("label smoothing must be in [0, 1)");
  if (!in(o.lr, 1e-30f, INFINITY) || !in(o.embedding_eps, 1e-30f, INFINITY))
    return InvalidArgument("learning rate and epsilon must be positive and finite");
  if (!in(o.weight_decay, 0, INFINITY))
    return InvalidArgument("weight decay must be >= 0 and finite");
  for (uint32_t h : o.hidden)
    if (h == 0 || h > 8192) return InvalidArgument("hidden widths must be in 1..8192");
  const bool multi = train.multi_label || (valid && valid->multi_label);
  const OutputKind kind = multi ? OutputKind::kSigmoid : OutputKind::kSoftmax;

  // Labels: sorted, from the training data.
  std::set<std::string> label_set;
  for (const Example& e : train.examples) label_set.insert(e.labels.begin(), e.labels.end());
  if (label_set.empty()) return InvalidArgument("training data has no labels");
  if (!multi && label_set.size() < 2)
    return InvalidArgument("single-label training needs at least 2 labels");
  std::vector<std::string> labels(label_set.begin(), label_set.end());
  std::map<std::string, uint32_t> label_id;
  for (uint32_t i = 0; i < labels.size(); ++i) label_id[labels[i]] = i;
  const std::string oos = label_set.count(o.oos_label) ? o.oos_label : "";

  auto encode_labels = [&](const Example& e, Encoded* out) -> Status {
    for (const std::string& l : e.labels) {
      auto it = label_id.find(l);
      if (it == label_id.end())
        return InvalidArgument("label '" + l + "' does not occur in the training data");
      out->y.push_back(it->second);
    }
    std::sort(out->y.begin(), out->y.end());
    out->y.erase(std::unique(out->y.begin(), out->y.end()), out->y.end());
    out->oos = out->y.empty() || (!oos.empty() && e.labels.size() == 1 && e.labels[0] == oos);
    return Status::Ok();
  };

  std::vector<Encoded> train_enc(train.examples.size());
  for (size_t i = 0; i < train.examples.size(); ++i)
    FI_RETURN_IF_ERROR(encode_labels(train.examples[i], &train_enc[i]));
  std::vector<uint32_t> train_idx, valid_idx;
  std::vector<Encoded> valid_enc;
  const bool have_valid = valid != nullptr;
  if (have_valid) {
    valid_enc.resize(valid->examples.size());
    for (size_t i = 0; i < valid->examples.size(); ++i) {
      Status s = encode_labels(valid->examples[i], &valid_enc[i]);
      if (!s.ok()) return s.WithPrefix("validation example " + std::to_string(i + 1));
    }
    for (uint32_t i = 0; i < train_enc.size(); ++i) train_idx.push_back(i);
    for (uint32_t i = 0; i < valid_enc.size(); ++i) valid_idx.push_back(i);
  } else if (o.valid_fraction > 0) {
    CarveValid(train_enc, o.valid_fraction, o.seed, &train_idx, &valid_idx);
  } else {
    for (uint32_t i = 0; i < train_enc.size(); ++i) train_idx.push_back(i);
  }
  const std::vector<Encoded>& vdata = have_valid ? valid_enc : train_enc;

  // Vocabulary and IDF from the training texts only.
  std::vector<std::string> texts;
  texts.reserve(train_idx.size());
  for (uint32_t i : train_idx) texts.push_back(train.examples[i].text);
  Featurizer featurizer(o.featurizer, BuildVocabulary(o.featurizer, texts));
  const uint32_t rows = uint32_t(featurizer.vocab().size());
  if (rows == 0) return InvalidArgument("training texts have no features");
  {
    // Training reads rows and weights only: the per-token spans serve inference's caches.
    const auto encode = [&featurizer](const std::string& text, FeaturizerScratch* scratch,
                                      FeatureVector* x) {
      featurizer.Featurize(text, scratch, x);
      std::vector<CharSpan>().swap(x->spans);
      std::vector<float>().swap(x->unscaled);
    };
    const uint32_t nt = std::max(1u, o.threads);
#pragma omp parallel num_threads(nt)
    {
      FeaturizerScratch scratch;
#pragma omp for schedule(static)
      for (long i = 0; i < long(train_enc.size()); ++i)
        encode(train.examples[size_t(i)].text, &scratch, &train_enc[size_t(i)].x);
      if (have_valid) {
#pragma omp for schedule(static)
        for (long i = 0; i < long(valid_enc.size()); ++i)
          encode(valid->examples[size_t(i)].text, &scratch, &valid_enc[size_t(i)].x);
      }
    }
  }

  Network net;
  net.Allocate(o.hidden, uint32_t(labels.size()), rows);
  Rng rng(o.seed);
  Trainer trainer(o, &net, uint32_t(labels.size()), kind);
  trainer.Init(&rng);

  Network best, average;
  uint32_t averaged = 0;
  Score best_score{-1, 0};
  double best_acc = -1;
  uint32_t best_epoch = 0, since_best = 0, epoch = 0;
  std::vector<uint32_t> order = train_idx;
  std::vector<float> probs;
  const uint32_t last_epoch =
      o.fixed_epochs ? std::min(o.fixed_epochs, o.max_epochs) : o.max_epochs;
  for (epoch = 1; epoch <= last_epoch; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
    const float lr = o.lr * (1.0f - 0.9f * float(epoch - 1) / float(o.max_epochs));
    const double loss = trainer.Epoch(train_enc, order, lr, epoch);
    EpochReport er;
    er.epoch = epoch;
    er.max_epochs = last_epoch;
    er.train_loss = loss;
    // Running average of the weights at the end of every epoch after the first (stochastic
    // weight averaging): usually generalises better than any single epoch's weights.
    const bool use_average = o.average_weights && epoch >= 2;
    if (use_average) {
      if (averaged++ == 0)
        average = net.Clone();
      else
        BlendInto(net, 1.0f / float(averaged), &average);
    }
    const Network& candidate = use_average ? average : net;
    if (!valid_idx.empty()) {
      const Score score =
          Evaluate(candidate, kind, vdata, valid_idx, std::max(1u, o.threads), &probs);
      er.valid_accuracy = score.accuracy;
      er.improved = score.BetterThan(best_score);
      if (er.improved) best_score = score;
    } else {
      er.improved = true;
    }
    if (er.improved) {
      best_acc = er.valid_accuracy;
      best_epoch = epoch;
      since_best = 0;
      best = candidate.Clone();
    } else {
      ++since_best;
    }
    er.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.on_epoch) o.on_epoch(er);
    if (!valid_idx.empty() && since_best >= o.patience) break;
  }

  // Calibrate the rejection threshold on the validation split with the best weights.
  CalibrationInput cal;
  cal.kind = kind;
  cal.num_labels = uint32_t(labels.size());
  cal.oos_label = oos.empty() ? -1 : int(label_id[oos]);
  if (!valid_idx.empty())
    Evaluate(best, kind, vdata, valid_idx, std::max(1u, o.threads), &cal.probs);
  for (uint32_t i : valid_idx) cal.gold.push_back(vdata[i].y);
  CalibrationResult calr = CalibrateThreshold(cal);
  if (o.threshold_override >= 0) {
    calr.threshold = o.threshold_override;
    calr.explanation = "threshold carried over from the validation run";
  }

  TrainReport local_report;
  if (!report) report = &local_report;
  report->epochs_run = std::min(epoch, last_epoch);
  report->best_epoch = best_epoch;
  report->best_valid_accuracy = best_acc;
  report->train_examples = train_idx.size();
  report->valid_examples = valid_idx.size();
  report->threshold = calr.threshold;
  report->calibration = calr.explanation;

  if (o.refit && have_valid && best_epoch > 0) {
    Dataset combined;
    combined.multi_label = multi;
    combined.examples = train.examples;
    combined.examples.insert(combined.examples.end(), valid->examples.begin(),
                             valid->examples.end());
    TrainOptions again = o;
    again.refit = false;
    again.valid_fraction = 0;
    again.fixed_epochs = best_epoch;
    again.threshold_override = calr.threshold;
    auto refitted = Train(combined, nullptr, again, nullptr);
    if (!refitted.ok()) return refitted.status();
    report->train_examples = combined.examples.size();
    report->calibration +=
        "; then refitted on train + validation for " + std::to_string(best_epoch) + " epochs";
    report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return refitted;
  }
  report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return Model(std::move(featurizer), std::move(best), std::move(labels), kind, calr.threshold, oos,
               FrequentTokens(o.featurizer, train));
}

}  // namespace

StatusOr<Model> Train(const Dataset& train, const Dataset* valid, const TrainOptions& o,
                      TrainReport* report) {
  if (valid) {
    // A validation label the training data lacks is an error in the validation file: name its
    // line (and both files when known).
    std::set<std::string> known;
    for (const Example& e : train.examples) known.insert(e.labels.begin(), e.labels.end());
    for (const Example& e : valid->examples)
      for (const std::string& l : e.labels)
        if (!known.count(l))
          return InvalidArgument(Where(*valid, e) + ": label '" + l +
                                 "' does not occur in the training data" +
                                 (train.source.empty() ? "" : " (" + train.source + ")"));
  }
  StatusOr<Model> model = TrainOn(train, valid, o, report);
  if (!model.ok() && !train.source.empty()) return model.status().WithPrefix(train.source);
  return model;
}

}  // namespace fastintent
