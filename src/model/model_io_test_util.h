// Test helpers of the model file's tests (model_io_test.cc: layout and round trips,
// model_io_errors_test.cc, model_io_damage_test.cc, model_io_int8_test.cc): a small model built
// deterministically, an independent reader and writer of the container (docs/model-format.md),
// temporary files, and model equality. Test-only; header-only.
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/crc32.h"
#include "fastintent/model_io.h"
#include "gtest/gtest.h"
#include "model/network.h"

namespace fastintent {
namespace model_io_testing {

// ---------------------------------------------------------------------------------------------
// A small model, built deterministically.

inline const std::vector<std::string>& Corpus() {
  static const std::vector<std::string> texts = {
      "play some jazz",        "play the latest news",        "what's the weather like today",
      "will it rain tomorrow", "set a timer for ten minutes", "wake me up at 7am",
      "turn off the lights",   "Straße nach München",         "$5 for a coffee? \xF0\x9F\x98\x80",
  };
  return texts;
}

inline FeaturizerConfig SmallConfig() {
  FeaturizerConfig c;
  c.num_buckets = 4096;
  c.word_ngrams = 2;
  c.char_min = 2;
  c.char_max = 4;
  c.min_df = 1;
  return c;
}

// Fills the real (unpadded) entries of a rows x cols matrix whose rows are `stride` apart.
inline void Fill(float* m, size_t rows, size_t cols, size_t stride, float seed) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < cols; ++j)
      m[r * stride + j] = std::sin(seed + 0.37f * float(r * cols + j)) * 0.5f;
}

inline Model MakeModel(std::vector<uint32_t> hidden = {16, 8},
                       OutputKind kind = OutputKind::kSoftmax, float threshold = 0.25f,
                       std::vector<std::string> frequent_tokens = {}) {
  const FeaturizerConfig c = SmallConfig();
  Vocabulary vocab = BuildVocabulary(c, Corpus());
  const std::vector<std::string> labels = {"music", "weather", "alarm", "out_of_scope"};
  Network net;
  net.Allocate(hidden, uint32_t(labels.size()), uint32_t(vocab.size()));
  Fill(net.embedding.data(), net.num_rows, net.width0(), net.stride0(), 0.1f);
  Fill(net.embedding_bias.data(), 1, net.width0(), net.stride0(), 0.2f);
  for (size_t i = 0; i < net.layers.size(); ++i) {
    DenseLayer& l = net.layers[i];
    Fill(l.w.data(), l.out, l.in, l.stride(), 1.0f + float(i));
    Fill(l.b.data(), 1, l.out, l.out, 2.0f + float(i));
  }
  return Model(Featurizer(c, std::move(vocab)), std::move(net), labels, kind, threshold,
               "out_of_scope", std::move(frequent_tokens));
}

// ---------------------------------------------------------------------------------------------
// An independent reader of the container (magic, header, framed sections).

inline uint32_t GetU32(const std::string& b, size_t off) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | uint8_t(b.at(off + i));
  return v;
}
inline uint64_t GetU64(const std::string& b, size_t off) {
  return uint64_t(GetU32(b, off + 4)) << 32 | GetU32(b, off);
}
inline float GetF32(const std::string& b, size_t off) {
  const uint32_t v = GetU32(b, off);
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}
inline void PutU32(std::string* b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*b)[off + i] = char(v >> (8 * i));
}
inline std::string U32(uint32_t v) {
  std::string s(4, '\0');
  PutU32(&s, 0, v);
  return s;
}
inline std::string U64(uint64_t v) { return U32(uint32_t(v)) + U32(uint32_t(v >> 32)); }
inline std::string F32(float f) {
  uint32_t v;
  std::memcpy(&v, &f, 4);
  return U32(v);
}

inline const std::string kMagic(
    "\x89"
    "FIM\r\n\x1A\n",
    8);

struct Section {
  std::string name;
  std::string payload;
  size_t offset = 0;          // of the section's first byte (its name length)
  size_t payload_offset = 0;  // of the payload's first byte
};

// Splits a well-formed file into its sections, checking the framing and every checksum.
inline std::vector<Section> Split(const std::string& file) {
  std::vector<Section> out;
  EXPECT_GE(file.size(), 20u);
  EXPECT_EQ(file.substr(0, 8), kMagic);
  EXPECT_EQ(GetU32(file, 16), Crc32c(0, file.data(), 16)) << "header CRC covers bytes [0, 16)";
  const uint32_t count = GetU32(file, 12);
  size_t off = 20;
  for (uint32_t i = 0; i < count; ++i) {
    Section s;
    s.offset = off;
    if (off + 4 > file.size()) break;
    const uint32_t name_len = GetU32(file, off);
    if (off + 4 + name_len + 8 > file.size()) break;
    s.name = file.substr(off + 4, name_len);
    const uint64_t len = GetU64(file, off + 4 + name_len);
    s.payload_offset = off + 4 + name_len + 8;
    if (len > file.size() - s.payload_offset || file.size() - s.payload_offset - len < 4) break;
    s.payload = file.substr(s.payload_offset, len);
    const size_t crc_off = s.payload_offset + len;
    EXPECT_EQ(GetU32(file, crc_off), Crc32c(0, file.data() + off, crc_off - off))
        << "section CRC covers name length, name, payload length and payload of '" << s.name << "'";
    off = crc_off + 4;
    out.push_back(std::move(s));
  }
  EXPECT_EQ(out.size(), count) << "section " << out.size() << " runs past the end of the file";
  EXPECT_EQ(off, file.size()) << "nothing after the last section";
  return out;
}

inline std::string Frame(const std::string& name, const std::string& payload) {
  std::string s = U32(uint32_t(name.size())) + name + U64(payload.size()) + payload;
  return s + U32(Crc32c(0, s.data(), s.size()));
}

// Builds a file from sections with a correct header and checksums.
inline std::string Assemble(const std::vector<Section>& sections, uint32_t version = 1) {
  std::string head = kMagic + U32(version) + U32(uint32_t(sections.size()));
  std::string file = head + U32(Crc32c(0, head.data(), head.size()));
  for (const Section& s : sections) file += Frame(s.name, s.payload);
  return file;
}

inline Section* Find(std::vector<Section>* sections, const std::string& name) {
  for (Section& s : *sections)
    if (s.name == name) return &s;
  ADD_FAILURE() << "no section " << name;
  return nullptr;
}

inline StatusOr<std::shared_ptr<const Model>> FromBytes(const std::string& bytes,
                                                        std::string* metadata = nullptr) {
  // An exactly sized heap copy, so AddressSanitizer catches any read past the end.
  std::unique_ptr<char[]> copy(new char[bytes.size()]);
  std::memcpy(copy.get(), bytes.data(), bytes.size());
  return LoadModelFromBuffer(copy.get(), bytes.size(), "model.fim", metadata);
}

// Expects a load of `bytes` to fail with exactly `code` and `message`.
inline void ExpectLoadError(const std::string& bytes, StatusCode code, const std::string& message) {
  auto m = FromBytes(bytes);
  ASSERT_FALSE(m.ok()) << "expected: " << message;
  EXPECT_EQ(m.status().code(), code) << m.status().ToString();
  EXPECT_EQ(m.status().message(), message);
}

// ---------------------------------------------------------------------------------------------
// Files on disk

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "fi_model_io_test.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char* p = mkdtemp(buf.data());
    EXPECT_NE(p, nullptr);
    path_ = p ? p : "";
  }
  ~TempDir() {
    for (const std::string& f : Files()) {
      const std::string p = path_ + "/" + f;
      if (::unlink(p.c_str()) != 0) ::rmdir(p.c_str());
    }
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    DIR* d = ::opendir(path_.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    return out;
  }

 private:
  std::string path_;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// ---------------------------------------------------------------------------------------------
// Equality

inline bool SameFloats(const AlignedBuffer<float>& a, const AlignedBuffer<float>& b) {
  return a.size() == b.size() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

inline void ExpectSameModel(const Model& a, const Model& b) {
  const FeaturizerConfig &ca = a.featurizer().config(), &cb = b.featurizer().config();
  EXPECT_EQ(ca.num_buckets, cb.num_buckets);
  EXPECT_EQ(ca.word_ngrams, cb.word_ngrams);
  EXPECT_EQ(ca.char_min, cb.char_min);
  EXPECT_EQ(ca.char_max, cb.char_max);
  EXPECT_EQ(ca.min_df, cb.min_df);
  EXPECT_EQ(ca.char_tf, cb.char_tf);
  EXPECT_EQ(a.featurizer().vocab().buckets(), b.featurizer().vocab().buckets());
  EXPECT_EQ(a.featurizer().vocab().idf(), b.featurizer().vocab().idf());
  EXPECT_EQ(a.featurizer().vocab().num_buckets(), b.featurizer().vocab().num_buckets());
  EXPECT_EQ(a.labels(), b.labels());
  EXPECT_EQ(a.kind(), b.kind());
  EXPECT_EQ(a.threshold(), b.threshold());
  EXPECT_EQ(a.oos_label(), b.oos_label());
  EXPECT_EQ(a.frequent_tokens(), b.frequent_tokens());
  EXPECT_EQ(a.token_table_size(), b.token_table_size());
  const Network &na = a.network(), &nb = b.network();
  EXPECT_EQ(na.hidden, nb.hidden);
  EXPECT_EQ(na.num_labels, nb.num_labels);
  EXPECT_EQ(na.num_rows, nb.num_rows);
  // Whole buffers, padding included: padding is not stored and must come back as zeros.
  EXPECT_TRUE(SameFloats(na.embedding, nb.embedding));
  EXPECT_TRUE(SameFloats(na.embedding_bias, nb.embedding_bias));
  ASSERT_EQ(na.layers.size(), nb.layers.size());
  for (size_t i = 0; i < na.layers.size(); ++i) {
    EXPECT_EQ(na.layers[i].in, nb.layers[i].in);
    EXPECT_EQ(na.layers[i].out, nb.layers[i].out);
    EXPECT_TRUE(SameFloats(na.layers[i].w, nb.layers[i].w)) << "layer " << i;
    EXPECT_TRUE(SameFloats(na.layers[i].b, nb.layers[i].b)) << "layer " << i;
  }
}

inline const std::vector<std::string>& ProbeTexts() {
  static const std::vector<std::string> t = {
      "play jazz",  "weather tomorrow", "set an alarm for 7am",
      "lights off", "strasse",          "coffee \xF0\x9F\x98\x80 $"};
  return t;
}

inline void ExpectSameProbabilities(const Model& a, const Model& b) {
  Session sa = a.NewSession(), sb = b.NewSession();
  for (const std::string& text : ProbeTexts()) {
    ASSERT_TRUE(a.Probabilities(text, &sa).ok()) << text;
    ASSERT_TRUE(b.Probabilities(text, &sb).ok()) << text;
    ASSERT_EQ(sa.probs().size(), a.labels().size());
    EXPECT_EQ(sa.probs(), sb.probs()) << text;  // bit-identical
  }
}

}  // namespace model_io_testing
}  // namespace fastintent
