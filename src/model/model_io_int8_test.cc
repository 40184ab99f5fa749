// Tests of int8 model files (the "weights_int8" section): exact round trips, per-row symmetric
// quantisation, probabilities close to the float model's, damage and section errors.
#include "fastintent/model_io.h"
#include "gtest/gtest.h"
#include "model/model_io_test_util.h"

namespace fastintent {
namespace model_io_testing {
namespace {

bool SameBytes(const AlignedBuffer<int8_t>& a, const AlignedBuffer<int8_t>& b) {
  return a.size() == b.size() && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

TEST(ModelIoInt8Test, QuantizedModelRoundTripsExactly) {
  for (const std::vector<uint32_t>& hidden :
       {std::vector<uint32_t>{16, 8}, std::vector<uint32_t>{}}) {
    const Model f = MakeModel(hidden);
    const std::shared_ptr<const Model> q = QuantizeModel(f);
    ASSERT_EQ(q->network().precision, Precision::kInt8);
    const std::string bytes = SerializeModel(*q, R"({"k":"v"})");
    // The weights section is replaced, nothing else.
    std::vector<std::string> names;
    for (const Section& s : Split(bytes)) names.push_back(s.name);
    EXPECT_EQ(names, (std::vector<std::string>{"featurizer", "labels", "calibration", "vocabulary",
                                               "weights_int8", "metadata"}));
    auto back = FromBytes(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    const Network &a = q->network(), &b = (*back)->network();
    EXPECT_EQ(b.precision, Precision::kInt8);
    EXPECT_EQ(a.hidden, b.hidden);
    EXPECT_TRUE(SameBytes(a.embedding_q, b.embedding_q));
    EXPECT_TRUE(SameFloats(a.embedding_scale, b.embedding_scale));
    EXPECT_TRUE(SameFloats(a.embedding_bias, b.embedding_bias));
    ASSERT_EQ(a.layers.size(), b.layers.size());
    for (size_t i = 0; i < a.layers.size(); ++i) {
      EXPECT_TRUE(SameBytes(a.layers[i].wq, b.layers[i].wq)) << i;
      EXPECT_TRUE(SameFloats(a.layers[i].w_scale, b.layers[i].w_scale)) << i;
      EXPECT_TRUE(SameFloats(a.layers[i].b, b.layers[i].b)) << i;
    }
    ExpectSameProbabilities(*q, **back);
    EXPECT_EQ(SerializeModel(**back, R"({"k":"v"})"), bytes);
    // Quantising an int8 model again changes nothing.
    EXPECT_EQ(SerializeModel(*QuantizeModel(**back), R"({"k":"v"})"), bytes);
  }
}

TEST(ModelIoInt8Test, QuantizedProbabilitiesStayCloseToFloat) {
  const Model f = MakeModel({16, 8});
  const std::shared_ptr<const Model> q = QuantizeModel(f);
  Session sf = f.NewSession(), sq = q->NewSession();
  for (const std::string& text : ProbeTexts()) {
    ASSERT_TRUE(f.Probabilities(text, &sf).ok());
    ASSERT_TRUE(q->Probabilities(text, &sq).ok());
    for (size_t j = 0; j < sf.probs().size(); ++j)
      EXPECT_NEAR(sq.probs()[j], sf.probs()[j], 0.02) << text;
  }
}

TEST(ModelIoInt8Test, QuantizationIsPerRowSymmetric) {
  const Model f = MakeModel({16, 8});
  const Network& n = f.network();
  const Network q = QuantizeNetwork(n);
  for (uint32_t r = 0; r < n.num_rows; ++r) {
    float m = 0;
    for (uint32_t j = 0; j < n.width0(); ++j)
      m = std::max(m, std::fabs(n.embedding[r * n.stride0() + j]));
    ASSERT_FLOAT_EQ(q.embedding_scale[r], m / 127.0f);
    int peak = 0;
    for (uint32_t j = 0; j < n.width0(); ++j) {
      // NOLINTNEXTLINE(bugprone-signed-char-misuse): int8 weights, not characters.
      const int v = q.embedding_q[r * q.stride0() + j];
      peak = std::max(peak, std::abs(v));
      EXPECT_NEAR(v * q.embedding_scale[r], n.embedding[r * n.stride0() + j],
                  q.embedding_scale[r] * 0.5001f);
    }
    EXPECT_EQ(peak, m > 0 ? 127 : 0) << "row " << r;
  }
}

TEST(ModelIoInt8Test, DamageIsDetected) {
  const std::string file = SerializeModel(*QuantizeModel(MakeModel({4, 3})));
  for (size_t n = 0; n < file.size(); ++n) {
    auto m = FromBytes(file.substr(0, n));
    ASSERT_FALSE(m.ok()) << "prefix of " << n << " bytes loaded";
    ASSERT_EQ(m.status().message().rfind("model.fim: truncated (", 0), 0u)
        << n << ": " << m.status().message();
  }
  for (size_t i = 0; i < file.size(); ++i) {
    std::string bad = file;
    bad[i] = char(bad[i] ^ 0x10);
    auto m = FromBytes(bad);
    ASSERT_FALSE(m.ok()) << "flip of byte " << i << " went unnoticed";
    ASSERT_EQ(m.status().code(), StatusCode::kDataLoss) << i << ": " << m.status().ToString();
  }
}

TEST(ModelIoInt8Test, SectionErrors) {
  const std::vector<Section> q = Split(SerializeModel(*QuantizeModel(MakeModel({4, 3}))));
  const std::vector<Section> f = Split(SerializeModel(MakeModel({4, 3})));
  // Both weight sections.
  std::vector<Section> both = q;
  both.push_back(*Find(const_cast<std::vector<Section>*>(&f), "weights"));
  ExpectLoadError(Assemble(both), StatusCode::kDataLoss,
                  "model.fim: both 'weights' and 'weights_int8' sections");
  // Neither.
  std::vector<Section> none = q;
  none.erase(none.begin() + 4);
  ExpectLoadError(Assemble(none), StatusCode::kDataLoss, "model.fim: missing section 'weights'");
  // A negative row scale (the embedding's first, right after the five shape words).
  std::vector<Section> neg = q;
  Section* w = Find(&neg, "weights_int8");
  ASSERT_NE(w, nullptr);
  std::string& p = w->payload;
  const float minus = -1.0f;
  std::memcpy(&p[size_t(4) * 5], &minus, 4);
  ExpectLoadError(Assemble(neg), StatusCode::kDataLoss,
                  "model.fim: section 'weights_int8': bad row scale");
  // A size that does not match the shape.
  std::vector<Section> shrunk = q;
  Find(&shrunk, "weights_int8")->payload.pop_back();
  auto m = FromBytes(Assemble(shrunk));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("section 'weights_int8': size"), std::string::npos)
      << m.status().message();
}

}  // namespace
}  // namespace model_io_testing
}  // namespace fastintent
