// End-to-end tests of Model files through the CLI: `inspect`, `quantize`, and damaged files
// (flipped bytes, truncation, trailing bytes, versions) rejected cleanly by predict and inspect.
#include <gtest/gtest.h>

#include "tests/cli_testing.h"

namespace fastintent::cli_testing {
namespace {

TEST_F(CliTest, Inspect) {
  const std::string model = IntentModel();
  Result r = Run({"inspect", model});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("softmax over 4 labels"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("alarm greeting music weather"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("65536 buckets"), std::string::npos) << r.out;

  r = Run({"inspect", "-m", model, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["output"], "softmax");
  EXPECT_EQ(j["labels"], json({"alarm", "greeting", "music", "weather"}));
  EXPECT_EQ(j["hidden"], json({16}));
  EXPECT_EQ(j["format_version"], 1);
  EXPECT_EQ(j["file_bytes"].get<uintmax_t>(), std::filesystem::file_size(model));
  EXPECT_EQ(j["featurizer"]["num_buckets"], 65536);
  EXPECT_EQ(j["featurizer"]["char_tf"], "token");  // the default
  EXPECT_GT(j["frequent_tokens"].get<int>(), 10);  // words seen twice in intents.jsonl
  EXPECT_GT(j["precomputed_token_sums"].get<int>(), 10);
  EXPECT_LE(j["precomputed_token_sums"].get<int>(), j["frequent_tokens"].get<int>());
  EXPECT_GT(j["vocabulary_rows"].get<int>(), 50);
  EXPECT_GT(j["parameters"].get<int>(), 16 * 50);
  EXPECT_EQ(j["metadata"]["seed"], 1);
  EXPECT_EQ(j["metadata"]["threads"], 2);
  EXPECT_EQ(j["metadata"]["train_examples"], 120);
  EXPECT_EQ(j["metadata"]["valid_examples"], 120);
  EXPECT_EQ(j["metadata"]["trained_on"], Path("intents.jsonl"));
}

TEST_F(CliTest, QuantizeExportsAnInt8ModelThatAnswersLikeTheFloatOne) {
  const std::string model = IntentModel();
  const std::string q = Path("intents-int8.fim");
  Result r = Run({"quantize", model, "-o", q});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("with int8 weights"), std::string::npos) << r.err;
  EXPECT_LT(std::filesystem::file_size(q) * 2, std::filesystem::file_size(model));
  r = Run({"inspect", "--json", q});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["precision"], "int8");
  EXPECT_EQ(json::parse(r.out)["metadata"]["seed"], 1);  // metadata kept
  // The same labels from the exported file, from quantising on load, and (here) from float.
  const std::string texts = "will it snow tonight\nplay some jazz\nwake me at six\nhello there\n";
  const Result exported = Run({"predict", "-m", q, "--threshold", "0"}, texts);
  const Result on_load =
      Run({"predict", "-m", model, "--precision", "int8", "--threshold", "0"}, texts);
  const Result as_float = Run({"predict", "-m", model, "--threshold", "0"}, texts);
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_EQ(exported.out, on_load.out);
  const auto labels = [](const std::string& out) {  // first word of each line: the label
    std::istringstream in(out);
    std::string line, l;
    while (std::getline(in, line)) l += line.substr(0, line.find(' ')) + ",";
    return l;
  };
  EXPECT_EQ(labels(exported.out), labels(as_float.out)) << exported.out << as_float.out;
  // Errors: quantising twice, a bad --precision.
  ExpectFailure(Run({"quantize", q, "-o", Path("twice.fim")}), {"already has int8 weights"});
  r = Run({"predict", "-m", model, "--precision", "int4", "hi"});
  EXPECT_NE(r.code, 0);
}

TEST_F(CliTest, QuantizeRefusesToOverwriteItsInput) {
  const std::string model = Path("copy.fim");
  std::filesystem::copy_file(IntentModel(), model);
  const auto size = std::filesystem::file_size(model);
  ExpectFailure(Run({"quantize", model, "-o", model}), {"is the input model"});
  EXPECT_EQ(std::filesystem::file_size(model), size);
}

// Empty data is an error naming the file, never a silent fallback or a 0 % report.

class DamagedModelTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    bytes_ = ReadFile(IntentModel());
    ASSERT_GT(bytes_.size(), 100u);
  }

  // Writes `bytes` as a model file and expects predict (and eval, inspect) to fail cleanly
  // naming the file and the problem.
  void ExpectRejected(const std::string& name, const std::string& bytes,
                      const std::string& problem) {
    const std::string path = Write(name, bytes);
    ExpectFailure(Run({"predict", "-m", path, "will it snow"}), {path + ": ", problem});
    ExpectFailure(Run({"inspect", path}), {path + ": ", problem});
  }

  const Section& Find(const std::string& name) {
    sections_ = Sections(bytes_);
    for (const Section& s : sections_)
      if (s.name == name) return s;
    ADD_FAILURE() << "no section " << name;
    return sections_.at(0);
  }

  std::string bytes_;
  std::vector<Section> sections_;
};

TEST_F(DamagedModelTest, OurParserAgreesWithTheFile) {
  // The helpers below rely on this layout; if it changes, fix them rather than the tests.
  EXPECT_EQ(bytes_.substr(1, 3), "FIM");
  EXPECT_EQ(GetU32(bytes_, 8), 1u);
  EXPECT_EQ(GetU32(bytes_, 16), Crc32c(bytes_.substr(0, 16)));
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);  // the CRC-32C check value
  const std::vector<Section> s = Sections(bytes_);
  ASSERT_EQ(s.size(), GetU32(bytes_, 12));
  EXPECT_EQ(s.back().payload + s.back().length + 4, bytes_.size());
  std::set<std::string> names;
  for (const Section& x : s) names.insert(x.name);
  EXPECT_EQ(names, (std::set<std::string>{"featurizer", "labels", "calibration", "vocabulary",
                                          "weights", "tokens", "metadata"}));
}

TEST_F(DamagedModelTest, FlippedWeightByteIsAChecksumMismatch) {
  const Section& w = Find("weights");
  std::string b = bytes_;
  b[w.payload + w.length / 2] ^= 0x10;
  ExpectRejected("flipped.fim", b, "checksum mismatch in section 'weights'");
}

TEST_F(DamagedModelTest, FlippedByteNearTheEnd) {
  std::string b = bytes_;
  b[b.size() - 6] ^= 0x01;  // inside the last section (metadata)
  ExpectRejected("end.fim", b, "checksum mismatch in section 'metadata'");
  b = bytes_;
  b[b.size() - 1] ^= 0x80;  // the stored checksum itself
  ExpectRejected("crc.fim", b, "checksum mismatch in section 'metadata'");
}

TEST_F(DamagedModelTest, TruncatedFile) {
  ExpectRejected("half.fim", bytes_.substr(0, bytes_.size() / 2), "truncated");
  ExpectRejected("short.fim", bytes_.substr(0, bytes_.size() - 3), "truncated");
  ExpectRejected("header.fim", bytes_.substr(0, 10), "truncated");
  ExpectRejected("empty.fim", "", "truncated");
}

TEST_F(DamagedModelTest, TrailingBytes) {
  ExpectRejected("long.fim", bytes_ + "xx", "trailing bytes");
}

TEST_F(DamagedModelTest, WrongVersionIsCaughtByTheHeaderChecksumFirst) {
  std::string b = bytes_;
  PutU32(&b, 8, 7);
  ExpectRejected("v7.fim", b, "checksum mismatch in the header");
}

TEST_F(DamagedModelTest, WrongVersionWithValidChecksumIsUnsupported) {
  std::string b = bytes_;
  PutU32(&b, 8, 7);
  PutU32(&b, 16, Crc32c(b.substr(0, 16)));
  ExpectRejected("v7crc.fim", b, "unsupported format version 7");
}

TEST_F(DamagedModelTest, NotAModelAndMissingFile) {
  ExpectRejected("text.fim", ToJsonl(IntentRows(), false), "not a fastintent model file");
  const std::string missing = Path("no_such_model.fim");
  ExpectFailure(Run({"predict", "-m", missing, "hello"}), {missing, "no such file"});
  ExpectFailure(Run({"eval", "-m", missing, Path("intents.jsonl")}), {missing});
  ExpectFailure(Run({"route", "-m", missing, "hello"}), {missing});
}

}  // namespace
}  // namespace fastintent::cli_testing
