#include "text/featurizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fastintent {

Status FeaturizerConfig::Validate() const {
  if (num_buckets < 1024 || num_buckets > (1u << 26))
    return InvalidArgument("num_buckets must be in [1024, 2^26], got " + std::to_string(num_buckets));
  if (word_ngrams < 1 || word_ngrams > 3)
    return InvalidArgument("word_ngrams must be 1..3, got " + std::to_string(word_ngrams));
  if (char_min != 0 && (char_min < 1 || char_max < char_min || char_max > 8))
    return InvalidArgument("char n-gram range must satisfy 1 <= min <= max <= 8, got " +
                           std::to_string(char_min) + ".." + std::to_string(char_max));
  if (min_df < 1) return InvalidArgument("min_df must be >= 1");
  return Status::Ok();
}

namespace {

// x mod m, with a mask when m is a power of two (the default bucket counts): the same value as
// the spec's unsigned 64-bit remainder, without a division per feature.
struct BucketMap {
  uint64_t m, mask;
  bool pow2;
  explicit BucketMap(uint64_t num) : m(num), mask(num - 1), pow2((num & (num - 1)) == 0) {}
  uint32_t operator()(uint64_t h) const { return uint32_t(pow2 ? (h & mask) : (h % m)); }
};

inline uint64_t FnvByte(uint64_t h, unsigned char c) { return (h ^ c) * 0x100000001b3ull; }

// Sorts `v` ascending; all values are < 2^bits. Small inputs use insertion sort; larger ones an
// LSD radix sort on 8-bit digits through `tmp` (no allocation once both are warm).
void SortValues(std::vector<uint32_t>* v, std::vector<uint32_t>* tmp, uint32_t bits) {
  const size_t n = v->size();
  uint32_t* a = v->data();
  if (n <= 32) {
    for (size_t i = 1; i < n; ++i) {
      const uint32_t x = a[i];
      size_t j = i;
      for (; j > 0 && a[j - 1] > x; --j) a[j] = a[j - 1];
      a[j] = x;
    }
    return;
  }
  if (tmp->size() < n) tmp->resize(n);
  uint32_t* b = tmp->data();
  bool in_tmp = false;
  for (uint32_t shift = 0; shift < bits; shift += 8) {
    uint32_t count[257] = {0};
    for (size_t i = 0; i < n; ++i) count[((a[i] >> shift) & 0xFF) + 1]++;
    if (count[((a[0] >> shift) & 0xFF) + 1] == n) continue;  // one digit value: already in order
    for (int d = 0; d < 256; ++d) count[d + 1] += count[d];
    for (size_t i = 0; i < n; ++i) b[count[(a[i] >> shift) & 0xFF]++] = a[i];
    std::swap(a, b);
    in_tmp = !in_tmp;
  }
  if (in_tmp) std::memcpy(v->data(), a, n * sizeof(uint32_t));
}

uint32_t BitsFor(uint32_t max_value) {
  uint32_t bits = 1;
  while (bits < 32 && (max_value >> bits) != 0) ++bits;
  return bits;
}

// Sorts bucket ids and appends each distinct one with its count to `raw`.
void CountInto(std::vector<uint32_t>* buckets, std::vector<uint32_t>* tmp, uint32_t bits, FeatureGroup g,
               std::vector<RawFeature>* raw) {
  SortValues(buckets, tmp, bits);
  for (size_t i = 0; i < buckets->size();) {
    size_t j = i + 1;
    while (j < buckets->size() && (*buckets)[j] == (*buckets)[i]) ++j;
    raw->push_back({(*buckets)[i], uint32_t(j - i), g});
    i = j;
  }
}

// Tokenizes `text` and leaves the bucket of every feature key, unsorted and with repeats, in
// s->buckets[group]. Also uses s->utf8 (all tokens, UTF-8, back to back), s->token_off (byte
// offset of each token, plus the end) and s->offsets (byte offset of each code point).
void HashKeys(const FeaturizerConfig& c, std::string_view text, FeaturizerScratch* s) {
  Tokenize(text, &s->tok);
  const auto& cps = s->tok.codepoints;
  const auto& toks = s->tok.tokens;
  for (auto& b : s->buckets) b.clear();
  const BucketMap bucket(c.num_buckets);

  // Encode all tokens once, remembering the byte offset of every code point and token. Tokenize
  // lays the tokens out back to back in `cps`, but nothing here relies on it.
  s->utf8.clear();
  s->token_off.clear();
  s->offsets.clear();
  for (const TokenSpan& t : toks) {
    s->token_off.push_back(uint32_t(s->utf8.size()));
    for (uint32_t i = t.begin; i < t.end; ++i) {
      s->offsets.push_back(uint32_t(s->utf8.size()));
      AppendUtf8(cps[i], &s->utf8);
    }
  }
  s->token_off.push_back(uint32_t(s->utf8.size()));
  s->offsets.push_back(uint32_t(s->utf8.size()));
  const unsigned char* u = reinterpret_cast<const unsigned char*>(s->utf8.data());

  // Word n-grams: 'w' token; 'b' token (' ' token){1,2}.
  auto& wb = s->buckets[kWordGroup];
  const uint64_t seed_w = FnvByte(kFnvOffset, 'w'), seed_b = FnvByte(kFnvOffset, 'b');
  for (size_t i = 0; i < toks.size(); ++i) {
    const uint32_t b0 = s->token_off[i], e0 = s->token_off[i + 1];
    wb.push_back(bucket(Fnv1a(seed_w, u + b0, e0 - b0)));
    uint64_t h = Fnv1a(seed_b, u + b0, e0 - b0);
    for (size_t n = 2; n <= c.word_ngrams && i + n <= toks.size(); ++n) {
      const uint32_t b = s->token_off[i + n - 1], e = s->token_off[i + n];
      h = Fnv1a(FnvByte(h, ' '), u + b, e - b);
      wb.push_back(bucket(h));
    }
  }

  // Character n-grams: 'c' + each window of char_min..char_max code points of "<token>". FNV-1a
  // consumes bytes in order, so each start's windows are hashed incrementally, one code point
  // at a time, instead of each window from scratch.
  if (c.char_min > 0) {
    auto& cb = s->buckets[kCharGroup];
    const uint64_t seed_c = FnvByte(kFnvOffset, 'c');
    const uint32_t* off = s->offsets.data();
    size_t first_cp = 0;  // index in `offsets` of the token's first code point
    for (const TokenSpan& t : toks) {
      const size_t len = size_t(t.end - t.begin) + 2;  // code points in "<token>"
      // Byte range of code point j of "<token>": j = 0 is '<', j = len - 1 is '>'.
      for (size_t i = 0; i < len; ++i) {
        uint64_t h = seed_c;
        const size_t stop = std::min(len, i + c.char_max);
        for (size_t j = i; j < stop; ++j) {
          if (j == 0) {
            h = FnvByte(h, '<');
          } else if (j == len - 1) {
            h = FnvByte(h, '>');
          } else {
            const size_t k = first_cp + j - 1;
            h = Fnv1a(h, u + off[k], off[k + 1] - off[k]);
          }
          if (j + 1 - i >= c.char_min) cb.push_back(bucket(h));
        }
      }
      first_cp += len - 2;
    }
  }
}

}  // namespace

void HashFeatures(const FeaturizerConfig& c, std::string_view text, FeaturizerScratch* s) {
  HashKeys(c, text, s);
  s->raw.clear();
  const uint32_t bits = BitsFor(c.num_buckets - 1);
  for (int g = 0; g < kNumGroups; ++g) CountInto(&s->buckets[g], &s->offsets, bits, FeatureGroup(g), &s->raw);
}

StatusOr<Vocabulary> Vocabulary::Create(uint32_t num_buckets, std::vector<uint32_t> buckets,
                                        std::vector<float> idf) {
  if (buckets.size() != idf.size()) return DataLoss("vocabulary: bucket and idf counts differ");
  Vocabulary v;
  v.row_of_bucket_.assign(num_buckets, kNoRow);
  for (size_t r = 0; r < buckets.size(); ++r) {
    if (buckets[r] >= num_buckets || (r > 0 && buckets[r] <= buckets[r - 1]))
      return DataLoss("vocabulary: buckets not strictly increasing below num_buckets at row " +
                      std::to_string(r));
    if (!std::isfinite(idf[r])) return DataLoss("vocabulary: non-finite idf at row " + std::to_string(r));
    v.row_of_bucket_[buckets[r]] = uint32_t(r);
  }
  v.buckets_ = std::move(buckets);
  v.idf_ = std::move(idf);
  return v;
}

Vocabulary BuildVocabulary(const FeaturizerConfig& config, const std::vector<std::string>& texts) {
  std::vector<uint32_t> df(config.num_buckets, 0);
  FeaturizerScratch s;
  for (const std::string& t : texts) {
    HashFeatures(config, t, &s);
    // A bucket may occur in both groups of one text; count the document once.
    for (const RawFeature& f : s.raw) df[f.bucket]++;
    if (s.raw.size() > 1) {
      std::vector<uint32_t>& seen = s.buckets[0];
      seen.clear();
      for (const RawFeature& f : s.raw) seen.push_back(f.bucket);
      std::sort(seen.begin(), seen.end());
      for (size_t i = 1; i < seen.size(); ++i)
        if (seen[i] == seen[i - 1]) df[seen[i]]--;
    }
  }
  std::vector<uint32_t> buckets;
  std::vector<float> idf;
  const double n = double(texts.size());
  for (uint32_t b = 0; b < config.num_buckets; ++b) {
    if (df[b] >= config.min_df && df[b] > 0) {
      buckets.push_back(b);
      idf.push_back(float(std::log((1.0 + n) / (1.0 + df[b])) + 1.0));
    }
  }
  return std::move(Vocabulary::Create(config.num_buckets, std::move(buckets), std::move(idf)).value());
}

namespace {

// 1 + ln(tf) for small tf, computed with the same float expression as the general case.
struct SublinearTf {
  static constexpr uint32_t kSize = 64;
  float value[kSize];
  SublinearTf() {
    for (uint32_t tf = 1; tf < kSize; ++tf) value[tf] = 1.0f + std::log(float(tf));
    value[0] = 1.0f + std::log(0.0f);
  }
  float operator()(uint32_t tf) const { return tf < kSize ? value[tf] : 1.0f + std::log(float(tf)); }
};

}  // namespace

void Featurizer::Featurize(std::string_view text, FeaturizerScratch* s, FeatureVector* out) const {
  static const SublinearTf sublinear;
  HashKeys(config_, text, s);
  out->clear();
  // Vocabulary rows increase with buckets, so sorting the known rows gives the spec's order
  // (group, then increasing bucket), and runs of equal rows are runs of equal buckets; unknown
  // buckets are dropped before sorting instead of after.
  const uint32_t bits = BitsFor(vocab_.size() > 0 ? uint32_t(vocab_.size() - 1) : 0);
  double sq[kNumGroups] = {0, 0};
  size_t group_begin[kNumGroups + 1] = {0, 0, 0};
  for (int g = 0; g < kNumGroups; ++g) {
    std::vector<uint32_t>& keys = s->buckets[g];
    size_t known = 0;
    for (const uint32_t b : keys) {
      const uint32_t row = vocab_.RowOf(b);
      keys[known] = row;
      known += row != Vocabulary::kNoRow;
    }
    keys.resize(known);
    SortValues(&keys, &s->offsets, bits);
    for (size_t i = 0; i < known;) {
      const uint32_t row = keys[i];
      size_t j = i + 1;
      while (j < known && keys[j] == row) ++j;
      const float w = sublinear(uint32_t(j - i)) * vocab_.Idf(row);
      out->rows.push_back(row);
      out->weights.push_back(w);
      sq[g] += double(w) * w;
      i = j;
    }
    group_begin[g + 1] = out->rows.size();
  }
  int present = 0;
  for (int g = 0; g < kNumGroups; ++g) present += sq[g] > 0;
  if (present == 0) return;
  const double overall = 1.0 / std::sqrt(double(present));
  for (int g = 0; g < kNumGroups; ++g) {
    if (sq[g] <= 0) continue;
    const float scale = float(overall / std::sqrt(sq[g]));
    for (size_t i = group_begin[g]; i < group_begin[g + 1]; ++i) out->weights[i] *= scale;
  }
}

}  // namespace fastintent
