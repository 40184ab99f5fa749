// Tests of damaged model files and paths: every single-byte flip and every truncation point is
// detected and never crashes; missing files, directories, empty files; atomic saves.
#include "fastintent/model_io.h"
#include "gtest/gtest.h"
#include "model/model_io_test_util.h"

namespace fastintent {
namespace model_io_testing {
namespace {

TEST(ModelIoDamageTest, FlippedPayloadByteIsAChecksumMismatchInThatSection) {
  const std::string file = SerializeModel(MakeModel(), R"({"k":"v"})");
  const std::vector<Section> sections = Split(file);
  ASSERT_EQ(sections.size(), 6u);
  for (const Section& s : sections) {
    // A byte that no per-field check can judge, so only the checksum notices: the last byte
    // of the payload (the high byte of a float in calibration, vocabulary and weights; the oos
    // label's last character; the metadata's last character), and for the featurizer, whose
    // last bytes are ids checked on their own, the high byte of min_df.
    size_t at = s.payload_offset + s.payload.size() - 1;
    if (s.name == "featurizer") at = s.payload_offset + 16 + 3;
    std::string bad = file;
    bad[at] ^= 0x10;
    ExpectLoadError(bad, StatusCode::kDataLoss,
                    "model.fim: checksum mismatch in section '" + s.name + "'");
    // The stored checksum itself.
    bad = file;
    bad[s.payload_offset + s.payload.size()] ^= 0x01;
    ExpectLoadError(bad, StatusCode::kDataLoss,
                    "model.fim: checksum mismatch in section '" + s.name + "'");
    // The section name is covered too (it becomes an unknown section with a bad checksum).
    bad = file;
    bad[s.offset + 4] ^= 0x20;
    auto m = FromBytes(bad);
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("checksum mismatch in section"), std::string::npos)
        << m.status().message();
  }
}

TEST(ModelIoDamageTest, EverySingleByteFlipIsDetected) {
  const std::string file = SerializeModel(MakeModel({4, 3}), R"({"k":"v"})");
  // Every flip is data loss, including flips of the featurizer's hash and tokenizer ids
  // (judged only after the section checksum, so never "unimplemented").
  size_t checksum_errors = 0;
  for (size_t i = 0; i < file.size(); ++i) {
    for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xFF)}) {
      std::string bad = file;
      bad[i] = char(bad[i] ^ mask);
      auto m = FromBytes(bad);
      ASSERT_FALSE(m.ok()) << "flip of byte " << i << " with mask " << int(mask)
                           << " went unnoticed";
      const Status& s = m.status();
      ASSERT_EQ(s.message().rfind("model.fim: ", 0), 0u) << s.message();
      ASSERT_EQ(s.code(), StatusCode::kDataLoss) << i << ": " << s.ToString();
      checksum_errors += s.message().find("checksum mismatch") != std::string::npos;
    }
  }
  // Most flips land in float data or bucket ids, where mostly only the checksum can notice
  // (84% of them with this model).
  EXPECT_GT(checksum_errors, file.size() * 3 * 3 / 4);
}

TEST(ModelIoDamageTest, TruncationAtEveryOffsetFromABuffer) {
  const std::string file = SerializeModel(MakeModel({4, 3}), R"({"k":"v"})");
  for (size_t n = 0; n < file.size(); ++n) {
    auto m = FromBytes(file.substr(0, n));
    ASSERT_FALSE(m.ok()) << "prefix of " << n << " bytes loaded";
    ASSERT_EQ(m.status().code(), StatusCode::kDataLoss) << n << ": " << m.status().ToString();
    ASSERT_EQ(m.status().message().rfind("model.fim: truncated (", 0), 0u)
        << n << ": " << m.status().message();
  }
}

TEST(ModelIoDamageTest, TruncationAtEveryOffsetOfAFile) {
  const std::string file = SerializeModel(MakeModel({4, 3}), R"({"k":"v"})");
  TempDir dir;
  const std::string path = dir.path() + "/cut.fim";
  WriteAll(path, file);
  ASSERT_TRUE(LoadModel(path).ok());
  for (size_t n = file.size(); n-- > 0;) {
    ASSERT_EQ(::truncate(path.c_str(), off_t(n)), 0);
    auto m = LoadModel(path);
    ASSERT_FALSE(m.ok()) << "prefix of " << n << " bytes loaded";
    ASSERT_EQ(m.status().code(), StatusCode::kDataLoss) << n << ": " << m.status().ToString();
    ASSERT_EQ(m.status().message().rfind(path + ": truncated (", 0), 0u)
        << n << ": " << m.status().message();
  }
}

TEST(ModelIoDamageTest, HugeDeclaredShapeInATinyBufferIsTruncation) {
  // A weights section declaring R = 2^26 rows of width 8192 (about 2 TiB) with a consistent
  // length, in a buffer of 56 bytes: must fail before allocating anything.
  const uint64_t rows = 1u << 26, w0 = 8192;
  const uint64_t len =
      uint64_t(4) * (3 + 1) + 4 * (uint64_t(rows) * w0 + w0) + 4 * (uint64_t(w0) * 1 + 1);
  const std::string payload = U32(1) + U32(uint32_t(w0)) + U32(1) + U32(uint32_t(rows));
  const std::string head = kMagic + U32(1) + U32(1);
  const std::string file =
      head + U32(Crc32c(0, head.data(), head.size())) + U32(7) + "weights" + U64(len) + payload;
  ExpectLoadError(
      file, StatusCode::kDataLoss,
      "model.fim: truncated (section 'weights' claims " + std::to_string(len) + " bytes)");
}

TEST(ModelIoDamageTest, FlippedFeaturizerIdIsAChecksumMismatch) {
  std::string file = SerializeModel(MakeModel());
  const std::vector<Section> sections = Split(file);
  file[sections.at(0).payload_offset + 20] ^= 0x02;  // hash id 1 -> 3
  ExpectLoadError(file, StatusCode::kDataLoss,
                  "model.fim: checksum mismatch in section 'featurizer'");
}

TEST(ModelIoDamageTest, SectionLengthBeyondTheFile) {
  const std::string file = SerializeModel(MakeModel());
  const std::vector<Section> sections = Split(file);
  std::string bad = file;
  // The weights section's u64 length, high byte.
  bad[sections.at(4).payload_offset - 1] = '\x01';
  TempDir dir;
  const std::string path = dir.path() + "/long.fim";
  WriteAll(path, bad);
  auto m = LoadModel(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(m.status().message().rfind(path + ": truncated (section 'weights' claims ", 0), 0u)
      << m.status().message();
  auto b = FromBytes(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kDataLoss);
}

TEST(ModelIoPathTest, NonexistentPathIsNotFound) {
  TempDir dir;
  const std::string path = dir.path() + "/absent.fim";
  auto m = LoadModel(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m.status().message(), path + ": no such file");
}

TEST(ModelIoPathTest, DirectoryIsRejected) {
  TempDir dir;
  auto m = LoadModel(dir.path());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(), dir.path() + ": is a directory");
}

TEST(ModelIoPathTest, EmptyFile) {
  TempDir dir;
  const std::string path = dir.path() + "/empty.fim";
  WriteAll(path, "");
  auto m = LoadModel(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(m.status().message(),
            path + ": truncated (wanted 8 bytes of magic at offset 0, file ends after 0)");
}

TEST(ModelIoPathTest, SaveIsAtomicAndReplacesTheWholeFile) {
  TempDir dir;
  const std::string path = dir.path() + "/model.fim";
  // An existing, larger file at the path, with a second hard link to its inode.
  const std::string old_bytes(1u << 20, 'X');
  WriteAll(path, old_bytes);
  const std::string link = dir.path() + "/old.link";
  ASSERT_EQ(::link(path.c_str(), link.c_str()), 0);

  const Model m = MakeModel();
  ASSERT_TRUE(SaveModel(m, path).ok());
  EXPECT_EQ(ReadAll(path), SerializeModel(m)) << "the new file is exactly the serialised model";
  EXPECT_EQ(ReadAll(link), old_bytes)
      << "the old inode was replaced by rename, not rewritten in place";
  ::unlink(link.c_str());
  std::vector<std::string> files = dir.Files();
  EXPECT_EQ(files, std::vector<std::string>{"model.fim"}) << "no temporary file is left behind";

  // Saving again over our own file.
  const Model m2 = MakeModel({}, OutputKind::kSigmoid, 0.5f);
  ASSERT_TRUE(SaveModel(m2, path, "{\"v\":2}").ok());
  EXPECT_EQ(ReadAll(path), SerializeModel(m2, "{\"v\":2}"));
  EXPECT_EQ(dir.Files(), std::vector<std::string>{"model.fim"});
  auto loaded = LoadModel(path);
  ASSERT_TRUE(loaded.ok());
  ExpectSameModel(m2, **loaded);
}

TEST(ModelIoPathTest, SaveIntoAMissingDirectoryFails) {
  TempDir dir;
  const std::string path = dir.path() + "/missing/model.fim";
  const Status s = SaveModel(MakeModel(), path);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message().rfind(path + ": ", 0), 0u) << s.message();
  EXPECT_TRUE(dir.Files().empty());
}

}  // namespace
}  // namespace model_io_testing
}  // namespace fastintent
