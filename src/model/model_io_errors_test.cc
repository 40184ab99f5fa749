// Tests of the model file's errors: a damaged container (magic, version, section count and
// framing) and every section's contents judged on files rebuilt with correct checksums, each
// giving exactly the error docs/model-format.md, "Loading rules and errors", names.
#include "fastintent/model_io.h"
#include "gtest/gtest.h"
#include "model/model_io_test_util.h"

namespace fastintent {
namespace model_io_testing {
namespace {

TEST(ModelIoErrorTest, EmptyInput) {
  ExpectLoadError("", StatusCode::kDataLoss,
                  "model.fim: truncated (wanted 8 bytes of magic at offset 0, file ends after 0)");
}

TEST(ModelIoErrorTest, BadMagic) {
  std::string file = SerializeModel(MakeModel());
  file[1] = 'G';
  ExpectLoadError(file, StatusCode::kDataLoss,
                  "model.fim: not a fastintent model file (bad magic)");
  ExpectLoadError("not a model at all, just some text", StatusCode::kDataLoss,
                  "model.fim: not a fastintent model file (bad magic)");
  // A file that went through a text-mode (CRLF -> LF) transfer: the magic catches it.
  file = SerializeModel(MakeModel());
  file.erase(4, 1);
  ExpectLoadError(file, StatusCode::kDataLoss,
                  "model.fim: not a fastintent model file (bad magic)");
}

TEST(ModelIoErrorTest, WrongVersionWithAValidHeaderChecksum) {
  std::string file = SerializeModel(MakeModel());
  PutU32(&file, 8, 7);
  // With the old header checksum the header itself is reported.
  ExpectLoadError(file, StatusCode::kDataLoss, "model.fim: checksum mismatch in the header");
  PutU32(&file, 16, Crc32c(0, file.data(), 16));
  ExpectLoadError(file, StatusCode::kUnimplemented,
                  "model.fim: unsupported format version 7 (this build reads version 1)");
  PutU32(&file, 8, 0);
  PutU32(&file, 16, Crc32c(0, file.data(), 16));
  ExpectLoadError(file, StatusCode::kUnimplemented,
                  "model.fim: unsupported format version 0 (this build reads version 1)");
}

TEST(ModelIoErrorTest, ImplausibleSectionCount) {
  std::string file = SerializeModel(MakeModel());
  PutU32(&file, 12, 65);
  PutU32(&file, 16, Crc32c(0, file.data(), 16));
  ExpectLoadError(file, StatusCode::kDataLoss, "model.fim: implausible section count 65");
}

TEST(ModelIoErrorTest, TrailingBytes) {
  const std::string file = SerializeModel(MakeModel());
  ExpectLoadError(file + '\0', StatusCode::kDataLoss,
                  "model.fim: trailing bytes after the last section");
  // A whole extra section that the header does not count is trailing bytes too.
  ExpectLoadError(file + Frame("extra", "x"), StatusCode::kDataLoss,
                  "model.fim: trailing bytes after the last section");
}

TEST(ModelIoErrorTest, TooFewSectionsCountedIsTruncation) {
  std::string file = SerializeModel(MakeModel());
  PutU32(&file, 12, 6);
  PutU32(&file, 16, Crc32c(0, file.data(), 16));
  auto m = FromBytes(file);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(m.status().message(),
            "model.fim: truncated (wanted 4 bytes of section name at offset " +
                std::to_string(file.size()) + ", file ends after " + std::to_string(file.size()) +
                ")");
}

TEST(ModelIoErrorTest, DuplicateAndMissingSections) {
  const std::vector<Section> s = Split(SerializeModel(MakeModel()));
  std::vector<Section> dup = s;
  dup.push_back(s.at(2));
  ExpectLoadError(Assemble(dup), StatusCode::kDataLoss,
                  "model.fim: duplicate section 'calibration'");
  std::vector<Section> dup_unknown = s;
  dup_unknown.push_back(Section{"x", "1"});
  dup_unknown.push_back(Section{"x", "2"});
  ExpectLoadError(Assemble(dup_unknown), StatusCode::kDataLoss, "model.fim: duplicate section 'x'");
  for (size_t drop = 0; drop < s.size(); ++drop) {
    std::vector<Section> missing = s;
    missing.erase(missing.begin() + long(drop));
    ExpectLoadError(Assemble(missing), StatusCode::kDataLoss,
                    "model.fim: missing section '" + s[drop].name + "'");
  }
}

TEST(ModelIoErrorTest, OverlongSectionName) {
  std::vector<Section> s = Split(SerializeModel(MakeModel()));
  s.push_back(Section{std::string(65, 'n'), ""});
  ExpectLoadError(Assemble(s), StatusCode::kDataLoss,
                  "model.fim: section name length 65 exceeds 64");
  s.back().name = std::string(64, 'n');  // 64 is allowed
  EXPECT_TRUE(FromBytes(Assemble(s)).ok());
}

class SectionErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sections_ = Split(SerializeModel(MakeModel()));
    ASSERT_EQ(sections_.size(), 5u);
  }
  std::string& Payload(const std::string& name) { return Find(&sections_, name)->payload; }
  void Expect(StatusCode code, const std::string& message) {
    ExpectLoadError(Assemble(sections_), code, message);
  }
  std::vector<Section> sections_;
};

TEST_F(SectionErrorTest, FeaturizerWrongSize) {
  Payload("featurizer") += U32(0);
  Expect(StatusCode::kDataLoss, "model.fim: section 'featurizer': wrong size 36");
  Payload("featurizer").resize(24);
  Expect(StatusCode::kDataLoss, "model.fim: section 'featurizer': wrong size 24");
}

TEST_F(SectionErrorTest, FeaturizerUnknownCharTf) {
  PutU32(&Payload("featurizer"), 28, 2);
  Expect(StatusCode::kUnimplemented, "model.fim: unknown char_tf 2");
}

TEST_F(SectionErrorTest, FeaturizerWithoutCharTfIsPerText) {
  Payload("featurizer").resize(28);  // as written before the field existed
  auto m = FromBytes(Assemble(sections_));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m.value()->featurizer().config().char_tf, CharTf::kPerText);
  // And a per-text model is written in that form again.
  EXPECT_EQ(Split(SerializeModel(*m.value(), "")).at(0).payload.size(), 28u);
}

TEST_F(SectionErrorTest, FeaturizerUnknownHash) {
  PutU32(&Payload("featurizer"), 20, 2);
  Expect(StatusCode::kUnimplemented, "model.fim: unknown feature hash id 2");
}

TEST_F(SectionErrorTest, FeaturizerUnknownTokenizer) {
  PutU32(&Payload("featurizer"), 24, 9);
  Expect(StatusCode::kUnimplemented, "model.fim: unknown tokenizer id 9");
}

TEST_F(SectionErrorTest, FeaturizerInvalidConfig) {
  PutU32(&Payload("featurizer"), 4, 4);
  Expect(StatusCode::kDataLoss, "model.fim: section 'featurizer': word_ngrams must be 1..3, got 4");
}

TEST_F(SectionErrorTest, FeaturizerAndVocabularyDisagree) {
  PutU32(&Payload("featurizer"), 0, 8192);
  Expect(StatusCode::kDataLoss,
         "model.fim: vocabulary and featurizer disagree on the bucket count");
}

TEST_F(SectionErrorTest, LabelsUnknownKind) {
  PutU32(&Payload("labels"), 0, 2);
  Expect(StatusCode::kDataLoss, "model.fim: section 'labels': unknown output kind 2");
}

TEST_F(SectionErrorTest, LabelsZeroCount) {
  PutU32(&Payload("labels"), 4, 0);
  Expect(StatusCode::kDataLoss, "model.fim: section 'labels': bad label count 0");
}

TEST_F(SectionErrorTest, LabelsCountMoreThanThePayloadCanHold) {
  PutU32(&Payload("labels"), 4, 1000000);
  Expect(StatusCode::kDataLoss, "model.fim: section 'labels': bad label count 1000000");
}

TEST_F(SectionErrorTest, LabelsDisagreeWithWeights) {
  Payload("labels") = U32(0) + U32(3) + U32(1) + "a" + U32(1) + "b" + U32(1) + "c" + U32(0);
  Expect(StatusCode::kDataLoss, "model.fim: weights and labels disagree on the label count");
}

TEST_F(SectionErrorTest, LabelTooLong) {
  Payload("labels") = U32(0) + U32(4) + U32(4097) + std::string(4097, 'a') + U32(1) + "b" + U32(1) +
                      "c" + U32(1) + "d" + U32(0);
  Expect(StatusCode::kDataLoss, "model.fim: label length 4097 exceeds 4096");
}

TEST_F(SectionErrorTest, LabelsPayloadLongerThanItsContents) {
  Payload("labels") += "zz";
  Expect(StatusCode::kDataLoss,
         "model.fim: section 'labels': payload size disagrees with its length");
}

TEST_F(SectionErrorTest, CalibrationWrongSize) {
  Payload("calibration") = F32(0.5f) + F32(0.5f);
  Expect(StatusCode::kDataLoss, "model.fim: section 'calibration': wrong size");
}

TEST_F(SectionErrorTest, CalibrationOutOfRange) {
  for (float t : {-0.01f, 1.0001f, NAN, INFINITY}) {
    Payload("calibration") = F32(t);
    Expect(StatusCode::kDataLoss, "model.fim: section 'calibration': threshold outside [0, 1]");
  }
  for (float t : {0.0f, 1.0f}) {
    Payload("calibration") = F32(t);
    auto m = FromBytes(Assemble(sections_));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ((*m)->threshold(), t);
  }
}

TEST_F(SectionErrorTest, VocabularySizeMismatch) {
  Payload("vocabulary") += U32(0);
  Expect(StatusCode::kDataLoss,
         "model.fim: section 'vocabulary': size does not match its row count");
}

TEST_F(SectionErrorTest, VocabularyBucketsNotIncreasing) {
  std::string& v = Payload("vocabulary");
  PutU32(&v, 12, GetU32(v, 8));  // row 1 = row 0
  Expect(StatusCode::kDataLoss,
         "model.fim: section 'vocabulary': vocabulary: buckets not strictly increasing below "
         "num_buckets at row 1");
}

TEST_F(SectionErrorTest, VocabularyNonFiniteIdf) {
  std::string& v = Payload("vocabulary");
  const uint32_t rows = GetU32(v, 4);
  v.replace(8 + 4 * rows + 4 * 3, 4, F32(NAN));
  Expect(StatusCode::kDataLoss,
         "model.fim: section 'vocabulary': vocabulary: non-finite idf at row 3");
}

TEST_F(SectionErrorTest, VocabularyAndWeightsDisagreeOnRows) {
  std::string& v = Payload("vocabulary");
  const uint32_t rows = GetU32(v, 4);
  std::string smaller = v.substr(0, 4) + U32(rows - 1) + v.substr(8, 4 * size_t(rows - 1)) +
                        v.substr(8 + 4 * size_t(rows), 4 * size_t(rows - 1));
  v = smaller;
  Expect(StatusCode::kDataLoss, "model.fim: weights and vocabulary disagree on the row count");
}

TEST_F(SectionErrorTest, WeightsTooManyLayers) {
  PutU32(&Payload("weights"), 0, 17);
  Expect(StatusCode::kDataLoss, "model.fim: section 'weights': too many layers 17");
}

TEST_F(SectionErrorTest, WeightsBadWidth) {
  PutU32(&Payload("weights"), 4, 0);
  Expect(StatusCode::kDataLoss, "model.fim: section 'weights': bad layer width 0");
  PutU32(&Payload("weights"), 4, 8193);
  Expect(StatusCode::kDataLoss, "model.fim: section 'weights': bad layer width 8193");
}

TEST_F(SectionErrorTest, WeightsBadShape) {
  PutU32(&Payload("weights"), 12, 0);  // labels
  Expect(StatusCode::kDataLoss, "model.fim: section 'weights': bad shape");
}

TEST_F(SectionErrorTest, WeightsSizeDoesNotMatchShape) {
  std::string& w = Payload("weights");
  const size_t good = w.size();
  w += F32(0);
  Expect(StatusCode::kDataLoss, "model.fim: section 'weights': size " + std::to_string(good + 4) +
                                    " does not match its shape (" + std::to_string(good) + ")");
}

// Found by model_load_fuzz: a float32 file with an infinite weight loaded, and its int8 export
// then failed to load ("bad row scale"). Weights and biases must be finite.
TEST_F(SectionErrorTest, WeightsNonFinite) {
  const std::string good = Payload("weights");
  const size_t first_weight = size_t(4) * (3 + 2);         // after nh, hidden {16, 8}, labels, rows
  PutU32(&Payload("weights"), first_weight, 0x7F800000u);  // +inf
  Expect(StatusCode::kDataLoss, "model.fim: section 'weights': non-finite weight or bias");
  Payload("weights") = good;
  PutU32(&Payload("weights"), good.size() - 4, 0x7FC00000u);  // NaN in the last bias
  Expect(StatusCode::kDataLoss, "model.fim: section 'weights': non-finite weight or bias");
  Payload("weights") = good;
  EXPECT_TRUE(FromBytes(Assemble(sections_)).ok());
}

TEST_F(SectionErrorTest, MetadataTooLarge) {
  sections_.push_back(Section{"metadata", std::string((16u << 20) + 1, ' ')});
  Expect(StatusCode::kDataLoss, "model.fim: section 'metadata': too large");
}

}  // namespace
}  // namespace model_io_testing
}  // namespace fastintent
