#include "fastintent/model_io.h"

#include <cmath>
#include <cstring>
#include <map>
#include <optional>

#include "common/byte_io.h"
#include "model/network.h"

namespace fastintent {
namespace {

constexpr char kMagic[8] = {'\x89', 'F', 'I', 'M', '\r', '\n', '\x1a', '\n'};
constexpr uint32_t kHashFnv1a64Mod = 1;  // featurizer.hash: FNV-1a 64, bucket = h mod n
constexpr uint32_t kTokenizerV1 = 1;     // featurizer.tokenizer: Tokenize() as specified
constexpr uint32_t kMaxLabels = 1u << 20;
constexpr uint32_t kMaxWidth = 8192;
constexpr uint32_t kMaxLayers = 16;

void AppendSection(ByteWriter* file, const std::string& name, const std::string& payload) {
  ByteWriter head;
  head.Str(name);
  head.U64(payload.size());
  uint32_t crc = Crc32c(0, head.data().data(), head.data().size());
  crc = Crc32c(crc, payload.data(), payload.size());
  file->Bytes(head.data().data(), head.data().size());
  file->Bytes(payload.data(), payload.size());
  file->U32(crc);
}

// Writes `rows` rows of `cols` floats from a buffer whose rows are `stride` apart.
void WriteMatrix(ByteWriter* w, const float* m, size_t rows, size_t cols, size_t stride) {
  for (size_t r = 0; r < rows; ++r) w->F32s(m + r * stride, cols);
}

// The int8 form: the `rows` row scales, then `rows` rows of `cols` bytes (`stride` apart).
void WriteInt8Matrix(ByteWriter* w, const float* scale, const int8_t* q, size_t rows, size_t cols,
                     size_t stride) {
  w->F32s(scale, rows);
  for (size_t r = 0; r < rows; ++r) w->Bytes(q + r * stride, cols);
}

struct Parts {
  std::optional<FeaturizerConfig> config;
  uint32_t hash_id = 0;
  uint32_t tokenizer_id = 0;
  std::optional<std::vector<std::string>> labels;
  OutputKind kind = OutputKind::kSoftmax;
  std::string oos_label;
  std::optional<float> threshold;
  std::optional<Vocabulary> vocab;
  std::optional<Network> net;
  std::string metadata;
  std::vector<std::string> tokens;
};

Status BadSection(const ByteSource& src, const std::string& section, const std::string& what) {
  return DataLoss(src.name() + ": section '" + section + "': " + what);
}

// Reads `n` float32 values that must be finite: an infinite or NaN weight or bias would make
// every prediction garbage (and an int8 export of it unloadable).
Status ReadFinite(ByteSource* src, float* x, size_t n, const char* what) {
  FI_RETURN_IF_ERROR(src->F32s(x, n, what));
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return BadSection(*src, what, "non-finite weight or bias");
  return Status::Ok();
}

Status ReadMatrix(ByteSource* src, float* m, size_t rows, size_t cols, size_t stride,
                  const char* what) {
  for (size_t r = 0; r < rows; ++r) FI_RETURN_IF_ERROR(ReadFinite(src, m + r * stride, cols, what));
  return Status::Ok();
}

Status ReadFeaturizer(ByteSource* src, uint64_t len, Parts* p) {
  // 28 bytes: written before char_tf existed, which means CharTf::kPerText.
  if (len != 28 && len != 32)  // 7 or 8 u32 fields
    return BadSection(*src, "featurizer", "wrong size " + std::to_string(len));
  FeaturizerConfig c;
  uint32_t hash, tok, char_tf = uint32_t(CharTf::kPerText);
  FI_RETURN_IF_ERROR(src->U32(&c.num_buckets, "featurizer"));
  FI_RETURN_IF_ERROR(src->U32(&c.word_ngrams, "featurizer"));
  FI_RETURN_IF_ERROR(src->U32(&c.char_min, "featurizer"));
  FI_RETURN_IF_ERROR(src->U32(&c.char_max, "featurizer"));
  FI_RETURN_IF_ERROR(src->U32(&c.min_df, "featurizer"));
  FI_RETURN_IF_ERROR(src->U32(&hash, "featurizer"));
  FI_RETURN_IF_ERROR(src->U32(&tok, "featurizer"));
  if (len == 32) FI_RETURN_IF_ERROR(src->U32(&char_tf, "featurizer"));
  c.char_tf = CharTf(char_tf);
  // Judged by CheckFeaturizer once the section checksum has been verified, so that a corrupted
  // byte is reported as corruption rather than as a featuriser from a newer build.
  p->config = c;
  p->hash_id = hash;
  p->tokenizer_id = tok;
  return Status::Ok();
}

Status CheckFeaturizer(const ByteSource& src, const Parts& p) {
  if (p.hash_id != kHashFnv1a64Mod)
    return Unimplemented(src.name() + ": unknown feature hash id " + std::to_string(p.hash_id));
  if (p.tokenizer_id != kTokenizerV1)
    return Unimplemented(src.name() + ": unknown tokenizer id " + std::to_string(p.tokenizer_id));
  if (uint32_t(p.config->char_tf) > uint32_t(CharTf::kPerToken))
    return Unimplemented(src.name() + ": unknown char_tf " +
                         std::to_string(uint32_t(p.config->char_tf)));
  Status v = p.config->Validate();
  if (!v.ok()) return BadSection(src, "featurizer", v.message());
  return Status::Ok();
}

Status ReadLabels(ByteSource* src, uint64_t len, Parts* p) {
  uint32_t kind, n;
  FI_RETURN_IF_ERROR(src->U32(&kind, "labels"));
  FI_RETURN_IF_ERROR(src->U32(&n, "labels"));
  if (kind > 1) return BadSection(*src, "labels", "unknown output kind " + std::to_string(kind));
  if (n == 0 || n > kMaxLabels || n > len / 4)
    return BadSection(*src, "labels", "bad label count " + std::to_string(n));
  p->kind = OutputKind(kind);
  std::vector<std::string> labels(n);
  for (auto& l : labels) FI_RETURN_IF_ERROR(src->Str(&l, 4096, "label"));
  FI_RETURN_IF_ERROR(src->Str(&p->oos_label, 4096, "oos label"));
  p->labels = std::move(labels);
  return Status::Ok();
}

Status ReadVocabulary(ByteSource* src, uint64_t len, Parts* p) {
  uint32_t buckets, rows;
  FI_RETURN_IF_ERROR(src->U32(&buckets, "vocabulary"));
  FI_RETURN_IF_ERROR(src->U32(&rows, "vocabulary"));
  if (len != 8 + uint64_t(rows) * 8 || rows > buckets || buckets > (1u << 26))
    return BadSection(*src, "vocabulary", "size does not match its row count");
  std::vector<uint32_t> ids(rows);
  std::vector<float> idf(rows);
  for (auto& b : ids) FI_RETURN_IF_ERROR(src->U32(&b, "vocabulary"));
  FI_RETURN_IF_ERROR(src->F32s(idf.data(), rows, "vocabulary"));
  auto v = Vocabulary::Create(buckets, std::move(ids), std::move(idf));
  if (!v.ok()) return BadSection(*src, "vocabulary", v.status().message());
  p->vocab = std::move(v).value();
  return Status::Ok();
}

// The "tokens" section: u32 count, then count strings (u32 length, 1..16 bytes).
Status ReadTokens(ByteSource* src, uint64_t len, Parts* p) {
  uint32_t n;
  FI_RETURN_IF_ERROR(src->U32(&n, "tokens"));
  if (n > kMaxFrequentTokens || n > len / 5)
    return BadSection(*src, "tokens", "bad token count " + std::to_string(n));
  p->tokens.resize(n);
  for (std::string& t : p->tokens) {
    FI_RETURN_IF_ERROR(src->Str(&t, FeaturizerScratch::kCachedTokenBytes, "token"));
    if (t.empty()) return BadSection(*src, "tokens", "empty token");
  }
  return Status::Ok();
}

// The "weights" (float32) and "weights_int8" sections: the same header and layout, except that
// an int8 matrix is stored as one f32 scale per row followed by one byte per weight.
Status ReadWeights(ByteSource* src, uint64_t len, Precision precision, Parts* p) {
  const bool int8 = precision == Precision::kInt8;
  const char* what = int8 ? "weights_int8" : "weights";
  uint32_t nh, labels, rows;
  FI_RETURN_IF_ERROR(src->U32(&nh, what));
  if (nh > kMaxLayers) return BadSection(*src, what, "too many layers " + std::to_string(nh));
  std::vector<uint32_t> hidden(nh);
  for (auto& h : hidden) {
    FI_RETURN_IF_ERROR(src->U32(&h, what));
    if (h == 0 || h > kMaxWidth)
      return BadSection(*src, what, "bad layer width " + std::to_string(h));
  }
  FI_RETURN_IF_ERROR(src->U32(&labels, what));
  FI_RETURN_IF_ERROR(src->U32(&rows, what));
  if (labels == 0 || labels > kMaxLabels || rows > (1u << 26))
    return BadSection(*src, what, "bad shape");
  // Check the declared size before allocating anything.
  const auto matrix_bytes = [int8](uint64_t r, uint64_t c) {
    return int8 ? 4 * r + r * c : 4 * r * c;
  };
  const uint64_t w0 = nh ? hidden[0] : labels;
  uint64_t expect = 4 * (3 + uint64_t(nh)) + matrix_bytes(rows, w0) + 4 * w0;
  for (uint32_t i = 0; i < nh; ++i) {
    const uint64_t out = i + 1 < nh ? hidden[i + 1] : labels;
    expect += matrix_bytes(out, hidden[i]) + 4 * out;
  }
  if (expect != len)
    return BadSection(*src, what,
                      "size " + std::to_string(len) + " does not match its shape (" +
                          std::to_string(expect) + ")");
  Network net;
  net.Allocate(hidden, labels, rows, precision);
  const auto int8_matrix = [&](float* scale, int8_t* q, size_t n_rows, size_t cols,
                               size_t stride) -> Status {
    FI_RETURN_IF_ERROR(src->F32s(scale, n_rows, what));
    for (size_t r = 0; r < n_rows; ++r)
      if (!std::isfinite(scale[r]) || scale[r] < 0) return BadSection(*src, what, "bad row scale");
    for (size_t r = 0; r < n_rows; ++r) FI_RETURN_IF_ERROR(src->Read(q + r * stride, cols, what));
    return Status::Ok();
  };
  if (int8) {
    FI_RETURN_IF_ERROR(int8_matrix(net.embedding_scale.data(), net.embedding_q.data(), rows,
                                   net.width0(), net.stride0()));
  } else {
    FI_RETURN_IF_ERROR(
        ReadMatrix(src, net.embedding.data(), rows, net.width0(), net.stride0(), what));
  }
  FI_RETURN_IF_ERROR(ReadFinite(src, net.embedding_bias.data(), net.width0(), what));
  for (DenseLayer& l : net.layers) {
    if (int8) {
      FI_RETURN_IF_ERROR(int8_matrix(l.w_scale.data(), l.wq.data(), l.out, l.in, l.stride_q()));
    } else {
      FI_RETURN_IF_ERROR(ReadMatrix(src, l.w.data(), l.out, l.in, l.stride(), what));
    }
    FI_RETURN_IF_ERROR(ReadFinite(src, l.b.data(), l.out, what));
  }
  p->net = std::move(net);
  return Status::Ok();
}

StatusOr<std::shared_ptr<const Model>> Load(ByteSource* src, std::string* metadata_json) {
  char magic[8];
  FI_RETURN_IF_ERROR(src->Read(magic, 8, "magic"));
  if (std::memcmp(magic, kMagic, 8) != 0)
    return DataLoss(src->name() + ": not a fastintent model file (bad magic)");
  uint32_t version, count, header_crc;
  FI_RETURN_IF_ERROR(src->U32(&version, "header"));
  FI_RETURN_IF_ERROR(src->U32(&count, "header"));
  const uint32_t computed = src->crc();
  FI_RETURN_IF_ERROR(src->U32(&header_crc, "header"));
  if (header_crc != computed) return DataLoss(src->name() + ": checksum mismatch in the header");
  if (version != kModelFormatVersion)
    return Unimplemented(src->name() + ": unsupported format version " + std::to_string(version) +
                         " (this build reads version " + std::to_string(kModelFormatVersion) + ")");
  if (count > 64)
    return DataLoss(src->name() + ": implausible section count " + std::to_string(count));
  Parts p;
  std::map<std::string, int> seen;
  for (uint32_t i = 0; i < count; ++i) {
    src->ResetCrc();
    std::string name;
    uint64_t len;
    FI_RETURN_IF_ERROR(src->Str(&name, 64, "section name"));
    FI_RETURN_IF_ERROR(src->U64(&len, "section length"));
    if (seen[name]++) return DataLoss(src->name() + ": duplicate section '" + name + "'");
    // Bounds every allocation below by the input's size, for buffers as well as files.
    if (len > src->Remaining())
      return DataLoss(src->name() + ": truncated (section '" + name + "' claims " +
                      std::to_string(len) + " bytes)");
    const uint64_t start = src->position();
    Status s;
    if (name == "featurizer")
      s = ReadFeaturizer(src, len, &p);
    else if (name == "labels")
      s = ReadLabels(src, len, &p);
    else if (name == "calibration") {
      float t;
      s = len == 4 ? src->F32s(&t, 1, "calibration") : BadSection(*src, name, "wrong size");
      if (s.ok()) {
        if (!std::isfinite(t) || t < 0 || t > 1)
          s = BadSection(*src, name, "threshold outside [0, 1]");
        p.threshold = t;
      }
    } else if (name == "vocabulary")
      s = ReadVocabulary(src, len, &p);
    else if (name == "tokens")
      s = ReadTokens(src, len, &p);
    else if (name == "weights" || name == "weights_int8") {
      if (p.net) return DataLoss(src->name() + ": both 'weights' and 'weights_int8' sections");
      s = ReadWeights(src, len, name == "weights" ? Precision::kFloat32 : Precision::kInt8, &p);
    } else if (name == "metadata") {
      if (len > (16u << 20))
        s = BadSection(*src, name, "too large");
      else {
        p.metadata.resize(len);
        s = src->Read(p.metadata.data(), len, "metadata");
      }
    } else {
      // Unknown section from a newer writer of the same version: skip it, still checksummed.
      std::string skip(4096, '\0');
      for (uint64_t left = len; left > 0 && s.ok();) {
        const size_t k = size_t(std::min<uint64_t>(left, skip.size()));
        s = src->Read(skip.data(), k, "section");
        left -= k;
      }
    }
    if (!s.ok()) return s;
    if (src->position() - start != len)
      return BadSection(*src, name, "payload size disagrees with its length");
    const uint32_t crc = src->crc();
    uint32_t stored;
    FI_RETURN_IF_ERROR(src->U32(&stored, "section checksum"));
    if (crc != stored)
      return DataLoss(src->name() + ": checksum mismatch in section '" + name + "'");
    if (name == "featurizer") FI_RETURN_IF_ERROR(CheckFeaturizer(*src, p));
  }
  if (!src->AtEnd()) return DataLoss(src->name() + ": trailing bytes after the last section");
  for (const char* required : {"featurizer", "labels", "calibration", "vocabulary"})
    if (!seen.count(required))
      return DataLoss(src->name() + ": missing section '" + required + "'");
  if (!p.net) return DataLoss(src->name() + ": missing section 'weights'");
  if (p.vocab->num_buckets() != p.config->num_buckets)
    return DataLoss(src->name() + ": vocabulary and featurizer disagree on the bucket count");
  if (p.net->num_rows != p.vocab->size())
    return DataLoss(src->name() + ": weights and vocabulary disagree on the row count");
  if (p.net->num_labels != p.labels->size())
    return DataLoss(src->name() + ": weights and labels disagree on the label count");
  if (metadata_json) *metadata_json = p.metadata;
  return std::make_shared<const Model>(Featurizer(*p.config, std::move(*p.vocab)),
                                       std::move(*p.net), std::move(*p.labels), p.kind,
                                       *p.threshold, p.oos_label, std::move(p.tokens));
}

}  // namespace

std::string SerializeModel(const Model& m, const std::string& metadata_json) {
  ByteWriter file;
  file.Bytes(kMagic, 8);
  file.U32(kModelFormatVersion);
  file.U32(5 + uint32_t(!m.frequent_tokens().empty()) + uint32_t(!metadata_json.empty()));
  file.U32(Crc32c(0, file.data().data(), file.data().size()));

  const FeaturizerConfig& c = m.featurizer().config();
  ByteWriter f;
  for (uint32_t v : {c.num_buckets, c.word_ngrams, c.char_min, c.char_max, c.min_df,
                     kHashFnv1a64Mod, kTokenizerV1})
    f.U32(v);
  // Per-text models keep the 28-byte form, so builds that predate char_tf still read them.
  if (c.char_tf != CharTf::kPerText) f.U32(uint32_t(c.char_tf));
  AppendSection(&file, "featurizer", f.data());

  ByteWriter l;
  l.U32(uint32_t(m.kind()));
  l.U32(uint32_t(m.labels().size()));
  for (const std::string& s : m.labels()) l.Str(s);
  l.Str(m.oos_label());
  AppendSection(&file, "labels", l.data());

  ByteWriter cal;
  cal.F32(m.threshold());
  AppendSection(&file, "calibration", cal.data());

  const Vocabulary& v = m.featurizer().vocab();
  ByteWriter vb;
  vb.U32(v.num_buckets());
  vb.U32(uint32_t(v.size()));
  for (uint32_t b : v.buckets()) vb.U32(b);
  vb.F32s(v.idf().data(), v.size());
  AppendSection(&file, "vocabulary", vb.data());

  const Network& n = m.network();
  ByteWriter w;
  w.U32(uint32_t(n.hidden.size()));
  for (uint32_t h : n.hidden) w.U32(h);
  w.U32(n.num_labels);
  w.U32(n.num_rows);
  const bool int8 = n.precision == Precision::kInt8;
  if (int8) {
    WriteInt8Matrix(&w, n.embedding_scale.data(), n.embedding_q.data(), n.num_rows, n.width0(),
                    n.stride0());
  } else {
    WriteMatrix(&w, n.embedding.data(), n.num_rows, n.width0(), n.stride0());
  }
  w.F32s(n.embedding_bias.data(), n.width0());
  for (const DenseLayer& layer : n.layers) {
    if (int8) {
      WriteInt8Matrix(&w, layer.w_scale.data(), layer.wq.data(), layer.out, layer.in,
                      layer.stride_q());
    } else {
      WriteMatrix(&w, layer.w.data(), layer.out, layer.in, layer.stride());
    }
    w.F32s(layer.b.data(), layer.out);
  }
  AppendSection(&file, int8 ? "weights_int8" : "weights", w.data());
  if (!m.frequent_tokens().empty()) {
    ByteWriter t;
    t.U32(uint32_t(m.frequent_tokens().size()));
    for (const std::string& token : m.frequent_tokens()) t.Str(token);
    AppendSection(&file, "tokens", t.data());
  }
  if (!metadata_json.empty()) AppendSection(&file, "metadata", metadata_json);
  return std::move(file.data());
}

namespace {

// The limits Load enforces that a Model or its metadata can break: SaveModel refuses to write a
// file that would not load.
Status CheckSavable(const Model& m, const std::string& metadata_json) {
  const float t = m.threshold();
  if (!std::isfinite(t) || t < 0 || t > 1)
    return InvalidArgument("threshold " + std::to_string(t) + " is outside [0, 1]");
  if (m.labels().empty() || m.labels().size() > kMaxLabels)
    return InvalidArgument("bad label count " + std::to_string(m.labels().size()));
  for (const std::string& l : m.labels())
    if (l.size() > 4096) return InvalidArgument("a label is longer than 4096 bytes");
  if (m.oos_label().size() > 4096)
    return InvalidArgument("the oos label is longer than 4096 bytes");
  if (metadata_json.size() > (16u << 20)) return InvalidArgument("metadata is larger than 16 MiB");
  if (m.frequent_tokens().size() > kMaxFrequentTokens)
    return InvalidArgument("more than " + std::to_string(kMaxFrequentTokens) + " frequent tokens");
  for (const std::string& t : m.frequent_tokens())
    if (t.empty() || t.size() > FeaturizerScratch::kCachedTokenBytes)
      return InvalidArgument("a frequent token is empty or longer than 16 bytes");
  const Network& n = m.network();
  if (n.hidden.size() > kMaxLayers) return InvalidArgument("more than 16 hidden layers");
  for (uint32_t h : n.hidden)
    if (h == 0 || h > kMaxWidth) return InvalidArgument("bad layer width " + std::to_string(h));
  return m.featurizer().config().Validate();
}

}  // namespace

Status SaveModel(const Model& model, const std::string& path, const std::string& metadata_json) {
  FI_RETURN_IF_ERROR(CheckSavable(model, metadata_json).WithPrefix(path));
  return WriteFileAtomically(path, SerializeModel(model, metadata_json));
}

StatusOr<std::shared_ptr<const Model>> LoadModel(const std::string& path,
                                                 std::string* metadata_json) {
  FileSource src(path);
  if (!src.status().ok()) return src.status();
  return Load(&src, metadata_json);
}

StatusOr<std::shared_ptr<const Model>> LoadModelFromBuffer(const void* data, size_t size,
                                                           const std::string& name,
                                                           std::string* metadata_json) {
  MemorySource src(data, size, name);
  return Load(&src, metadata_json);
}

}  // namespace fastintent
