// Tests of the export layer: the dense input reproduces the first layer (running the unpadded
// float weights on it gives Model::Probabilities), and the protobuf encoder writes the bytes of
// the protobuf documentation's examples.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "export/dense_input.h"
#include "export/proto_wire.h"
#include "export/weights.h"
#include "model/network.h"

namespace fastintent {
namespace {

const std::vector<std::string>& Corpus() {
  static const std::vector<std::string> texts = {
      "play some jazz",      "play the latest news",         "what's the weather like today",
      "banana nana",         "set a timer for ten minutes",  "internationalization matters",
      "Straße nach München", "jazz jazz jazz and more jazz",
  };
  return texts;
}

void Fill(float* m, size_t rows, size_t cols, size_t stride, float seed) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < cols; ++j)
      m[r * stride + j] = std::sin(seed + 0.37f * float(r * cols + j)) * 0.5f;
}

std::shared_ptr<const Model> MakeModel(CharTf char_tf, std::vector<uint32_t> hidden,
                                       OutputKind kind) {
  FeaturizerConfig c;
  c.num_buckets = 1u << 14;
  c.min_df = 1;
  c.char_tf = char_tf;
  Vocabulary vocab = BuildVocabulary(c, Corpus());
  const std::vector<std::string> labels = {"music", "weather", "alarm"};
  Network net;
  net.Allocate(hidden, uint32_t(labels.size()), uint32_t(vocab.size()));
  Fill(net.embedding.data(), net.num_rows, net.width0(), net.stride0(), 0.3f);
  Fill(net.embedding_bias.data(), 1, net.width0(), net.stride0(), 1.3f);
  for (size_t i = 0; i < net.layers.size(); ++i) {
    DenseLayer& l = net.layers[i];
    Fill(l.w.data(), l.out, l.in, l.stride(), 2.3f + float(i));
    Fill(l.b.data(), 1, l.out, l.out, 3.3f + float(i));
  }
  return std::make_shared<const Model>(Featurizer(c, std::move(vocab)), std::move(net), labels,
                                       kind, 0.0f, "");
}

// The exported network's computation, in double, from the dense input and unpadded weights.
std::vector<double> RunExported(const Model& m, const DenseInput& x) {
  const std::vector<FloatLayer> layers = FloatLayers(m.network());
  std::vector<double> h(x.size, 0.0);
  for (size_t k = 0; k < x.indices.size(); ++k) h[x.indices[k]] = x.values[k];
  for (size_t li = 0; li < layers.size(); ++li) {
    const FloatLayer& l = layers[li];
    std::vector<double> y(l.b.begin(), l.b.end());
    for (uint32_t o = 0; o < l.out; ++o)
      for (uint32_t i = 0; i < l.in; ++i)
        y[o] += double(l.in_major ? l.w[size_t(i) * l.out + o] : l.w[size_t(o) * l.in + i]) * h[i];
    if (li + 1 < layers.size())
      for (double& v : y) v = std::max(0.0, v);
    h = std::move(y);
  }
  if (m.kind() == OutputKind::kSigmoid) {
    for (double& v : h) v = 1.0 / (1.0 + std::exp(-v));
  } else {
    double mx = h[0], sum = 0;
    for (double v : h) mx = std::max(mx, v);
    for (double& v : h) sum += (v = std::exp(v - mx));
    for (double& v : h) v /= sum;
  }
  return h;
}

void ExpectDenseInputReproducesModel(const Model& m) {
  Session session = m.NewSession();
  for (const std::string& text : Corpus()) {
    StatusOr<DenseInput> x = FeaturizeDense(m, text);
    ASSERT_TRUE(x.ok()) << x.status().message();
    EXPECT_EQ(x->size, m.network().num_rows);
    ASSERT_EQ(x->indices.size(), x->values.size());
    for (size_t k = 1; k < x->indices.size(); ++k) EXPECT_LT(x->indices[k - 1], x->indices[k]);
    ASSERT_TRUE(m.Probabilities(text, &session).ok());
    const std::vector<double> want = RunExported(m, *x);
    ASSERT_EQ(want.size(), session.probs().size());
    for (size_t j = 0; j < want.size(); ++j)
      EXPECT_NEAR(session.probs()[j], want[j], 1e-6) << text << " label " << j;
  }
}

TEST(DenseInputTest, PerTokenDeepSoftmax) {
  ExpectDenseInputReproducesModel(*MakeModel(CharTf::kPerToken, {24, 16}, OutputKind::kSoftmax));
}

TEST(DenseInputTest, PerTextSigmoid) {
  ExpectDenseInputReproducesModel(*MakeModel(CharTf::kPerText, {8}, OutputKind::kSigmoid));
}

TEST(DenseInputTest, LinearModel) {
  ExpectDenseInputReproducesModel(*MakeModel(CharTf::kPerToken, {}, OutputKind::kSoftmax));
}

TEST(DenseInputTest, RepeatedRowsAreSummed) {
  // "jazz" four times: its word row has one entry whose weight carries the term frequency, and
  // the dense input holds one value per row.
  auto m = MakeModel(CharTf::kPerToken, {8}, OutputKind::kSoftmax);
  StatusOr<DenseInput> x = FeaturizeDense(*m, "jazz jazz jazz and more jazz");
  ASSERT_TRUE(x.ok());
  FeaturizerScratch scratch;
  FeatureVector fv;
  m->featurizer().Featurize("jazz jazz jazz and more jazz", &scratch, &fv);
  double total_fv = 0, total_dense = 0;
  for (float w : fv.weights) total_fv += w;
  for (float v : x->values) total_dense += v;
  EXPECT_NEAR(total_fv, total_dense, 1e-5);
  EXPECT_LE(x->indices.size(), fv.rows.size());
}

TEST(DenseInputTest, RefusesWhatTheModelRefuses) {
  auto m = MakeModel(CharTf::kPerToken, {8}, OutputKind::kSoftmax);
  EXPECT_FALSE(FeaturizeDense(*m, "").ok());
  EXPECT_FALSE(FeaturizeDense(*m, "\x01\x02").ok());
  EXPECT_FALSE(FeaturizeDense(*m, std::string(kMaxTextBytes + 1, 'a')).ok());
}

TEST(ProtoWriterTest, EncodesTheDocumentationExamples) {
  // developers.google.com/protocol-buffers/docs/encoding: field 1 = 150 is 08 96 01; field 2 =
  // "testing" is 12 07 74 65 73 74 69 6e 67; field 3 = the first message is 1a 03 08 96 01.
  ProtoWriter a;
  a.Varint(1, 150);
  EXPECT_EQ(a.bytes(), std::string("\x08\x96\x01"));
  ProtoWriter b;
  b.Bytes(2, "testing");
  EXPECT_EQ(b.bytes(), std::string("\x12\x07testing"));
  ProtoWriter c;
  c.Message(3, a);
  EXPECT_EQ(c.bytes(), std::string("\x1a\x03\x08\x96\x01"));
  ProtoWriter f;
  f.Float(4, 1.0f);  // 0x3f800000 little-endian, wire type 5
  EXPECT_EQ(f.bytes(), std::string("\x25\x00\x00\x80\x3f", 5));
}

}  // namespace
}  // namespace fastintent
