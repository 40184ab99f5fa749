#include "text/feature_hash.h"

#include <algorithm>
#include <cstring>

#include "text/appender.h"
#include "text/normalizer.h"

namespace fastintent {

Status FeaturizerConfig::Validate() const {
  if (num_buckets < 1024 || num_buckets > (1u << 26))
    return InvalidArgument("num_buckets must be in [1024, 2^26], got " +
                           std::to_string(num_buckets));
  if (word_ngrams < 1 || word_ngrams > 3)
    return InvalidArgument("word_ngrams must be 1..3, got " + std::to_string(word_ngrams));
  if (char_min != 0 && (char_min < 1 || char_max < char_min || char_max > 8))
    return InvalidArgument("char n-gram range must satisfy 1 <= min <= max <= 8, got " +
                           std::to_string(char_min) + ".." + std::to_string(char_max));
  if (min_df < 1) return InvalidArgument("min_df must be >= 1");
  if (char_tf != CharTf::kPerText && char_tf != CharTf::kPerToken)
    return InvalidArgument("char_tf must be 0 (per text) or 1 (per token), got " +
                           std::to_string(uint32_t(char_tf)));
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

void InsertionSort(uint32_t* a, size_t n) {
  for (size_t i = 1; i < n; ++i) {
    const uint32_t x = a[i];
    size_t j = i;
    for (; j > 0 && a[j - 1] > x; --j) a[j] = a[j - 1];
    a[j] = x;
  }
}

// Sorts v ascending; every value is < 2^bits. Typical inputs (a few hundred rows of a large
// vocabulary) are distributed by their top 8 bits (one counting pass through `tmp`) and each
// top-8-bit bucket, usually 0-2 values, is finished by insertion sort; a crowded bucket (repeated
// n-grams of a long text, a small vocabulary) gets std::sort, so the worst case stays
// O(n log n). No allocation once both vectors are warm.
void SortValues(std::vector<uint32_t>* v, std::vector<uint32_t>* tmp, uint32_t bits) {
  const size_t n = v->size();
  uint32_t* a = v->data();
  if (n <= 24) {
    InsertionSort(a, n);
    return;
  }
  if (bits <= 8 || n > 4096) {
    std::sort(a, a + n);
    return;
  }
  if (tmp->size() < n) tmp->resize(n);
  uint32_t* b = tmp->data();
  const uint32_t shift = bits - 8;
  uint32_t count[256] = {0};
  for (size_t i = 0; i < n; ++i) count[a[i] >> shift]++;
  uint32_t sum = 0;
  for (uint32_t& c : count) {
    const uint32_t k = c;
    c = sum;
    sum += k;
  }
  for (size_t i = 0; i < n; ++i) b[count[a[i] >> shift]++] = a[i];
  // count[d] is now the end of bucket d in b.
  uint32_t begin = 0;
  for (const uint32_t end : count) {
    if (end - begin > 16) {
      std::sort(b + begin, b + end);
    } else {
      InsertionSort(b + begin, end - begin);
    }
    begin = end;
  }
  std::memcpy(a, b, n * sizeof(uint32_t));
}

uint32_t BitsFor(uint32_t max_value) {
  uint32_t bits = 1;
  while (bits < 32 && (max_value >> bits) != 0) ++bits;
  return bits;
}

// Sorts bucket ids and appends each distinct one with its count to `raw`.
void CountInto(std::vector<uint32_t>* buckets, std::vector<uint32_t>* tmp, uint32_t bits,
               FeatureGroup g, std::vector<RawFeature>* raw) {
  SortValues(buckets, tmp, bits);
  for (size_t i = 0; i < buckets->size();) {
    size_t j = i + 1;
    while (j < buckets->size() && (*buckets)[j] == (*buckets)[i]) ++j;
    raw->push_back({(*buckets)[i], uint32_t(j - i), g});
    i = j;
  }
}

// Writes the buckets of the character n-grams ('c' + window) of one token wrapped as "<token>",
// given as `len` code points, code point j being the bytes [w + at(j), w + at(j + 1)), from `out`
// on, and returns the end of what it wrote.
// FNV-1a consumes bytes in order, so each start's windows are hashed incrementally, one code
// point at a time, instead of each window from scratch.
template <class At>
inline uint32_t* CharNgrams(const FeaturizerConfig& c, const BucketMap& bucket,
                            const unsigned char* w, size_t len, const At& at, uint32_t* out) {
  const uint64_t seed = FnvByte(kFnvOffset, 'c');
  for (size_t i = 0; i + c.char_min <= len; ++i) {
    uint64_t h = seed;
    const size_t first = i + c.char_min - 1;  // last code point of the shortest window
    const size_t stop = std::min(len, i + c.char_max);
    size_t j = i;
    for (; j < first; ++j) h = Fnv1a(h, w + at(j), at(j + 1) - at(j));
    for (; j < stop; ++j) {
      h = Fnv1a(h, w + at(j), at(j + 1) - at(j));
      *out++ = bucket(h);
    }
  }
  return out;
}

// Tokenizes `text` and encodes the tokens into s->utf8 (all tokens, UTF-8, back to back) and
// s->token_off (byte offset of each token, plus the end), and s->offsets (byte offset of each
// code point, plus the end) when the text is not ASCII (TokenCharKeys reads it only then).
void TokenizeAndEncode(std::string_view text, FeatureHashScratch* s) {
  // The common case, ASCII: straight to bytes.
  if (s->utf8.size() < text.size() + FeatureHashScratch::kUtf8Slack)
    s->utf8.resize(text.size() + FeatureHashScratch::kUtf8Slack);
  if (TokenizeAscii(text, &s->tok, &s->utf8, &s->token_off)) return;
  Tokenize(text, &s->tok);
  const int32_t* cps = s->tok.codepoints.data();
  const auto& toks = s->tok.tokens;
  size_t num_cps = 0;
  for (const TokenSpan& t : toks) num_cps += t.end - t.begin;
  // At most 4 bytes per code point.
  if (s->utf8.size() < 4 * num_cps + FeatureHashScratch::kUtf8Slack)
    s->utf8.resize(4 * num_cps + FeatureHashScratch::kUtf8Slack);
  char* utf8 = s->utf8.data();
  uint32_t len = 0;
  Appender<uint32_t> token_off(&s->token_off, toks.size() + 1), cp_off(&s->offsets, num_cps + 1);
  for (const TokenSpan& t : toks) {
    token_off(len);
    for (uint32_t i = t.begin; i < t.end; ++i) {
      cp_off(len);
      if (uint32_t(cps[i]) < 0x80) {
        utf8[len++] = char(cps[i]);
      } else {
        std::string& enc = s->tok.sanitized;  // free after Tokenize
        enc.clear();
        AppendUtf8(cps[i], &enc);
        // NOLINTNEXTLINE(bugprone-not-null-terminated-result): a byte buffer with a length.
        std::memcpy(utf8 + len, enc.data(), enc.size());
        len += uint32_t(enc.size());
      }
    }
  }
  token_off(len);
  cp_off(len);
  token_off.Finish();
  cp_off.Finish();
}

}  // namespace

void HashWordKeys(const FeaturizerConfig& c, std::string_view text, FeatureHashScratch* s) {
  TokenizeAndEncode(text, s);
  const auto& toks = s->tok.tokens;
  const BucketMap bucket(c.num_buckets);
  const unsigned char* u = reinterpret_cast<const unsigned char*>(s->utf8.data());
  const uint32_t* tok_off = s->token_off.data();

  // Word n-grams: 'w' token; 'b' token (' ' token){1,2}.
  Appender<uint32_t> wb(&s->buckets[kWordGroup], toks.size() * c.word_ngrams);
  const uint64_t seed_w = FnvByte(kFnvOffset, 'w'), seed_b = FnvByte(kFnvOffset, 'b');
  for (size_t i = 0; i < toks.size(); ++i) {
    const uint32_t b0 = tok_off[i], e0 = tok_off[i + 1];
    wb(bucket(Fnv1a(seed_w, u + b0, e0 - b0)));
    uint64_t h = Fnv1a(seed_b, u + b0, e0 - b0);
    for (size_t n = 2; n <= c.word_ngrams && i + n <= toks.size(); ++n) {
      const uint32_t b = tok_off[i + n - 1], e = tok_off[i + n];
      h = Fnv1a(FnvByte(h, ' '), u + b, e - b);
      wb(bucket(h));
    }
  }
  wb.Finish();
}

namespace {

// Writes the buckets of the character n-grams of token `ti` (after HashWordKeys) to out[0, k) and
// returns k; `first_cp` is the index in s->offsets of the token's first code point.
size_t TokenCharKeys(const FeaturizerConfig& c, const BucketMap& bucket, FeatureHashScratch* s,
                     size_t ti, size_t first_cp, uint32_t* out) {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(s->utf8.data());
  const uint32_t* tok_off = s->token_off.data();
  const size_t ncp = s->tok.tokens[ti].end - s->tok.tokens[ti].begin;
  const size_t nbytes = tok_off[ti + 1] - tok_off[ti];
  const auto identity = [](size_t j) { return j; };
  unsigned char wrapped[64];
  if (nbytes == ncp && ncp + 2 <= sizeof wrapped) {
    // One byte per code point (ASCII): hash straight from a copy of "<token>".
    wrapped[0] = '<';
    std::memcpy(wrapped + 1, u + tok_off[ti], nbytes);
    wrapped[nbytes + 1] = '>';
    return size_t(CharNgrams(c, bucket, wrapped, ncp + 2, identity, out) - out);
  }
  // Longer or not ASCII: "<" + token + ">" assembled in s->tok.sanitized (free after
  // Tokenize), with the code point boundaries taken from s->offsets unless one byte each.
  std::string& w = s->tok.sanitized;
  w.assign(1, '<');
  w.append(reinterpret_cast<const char*>(u) + tok_off[ti], nbytes);
  w.push_back('>');
  const auto* wp = reinterpret_cast<const unsigned char*>(w.data());
  if (nbytes == ncp) return size_t(CharNgrams(c, bucket, wp, ncp + 2, identity, out) - out);
  const uint32_t* off = s->offsets.data();
  const uint32_t base = off[first_cp];
  const size_t len = ncp + 2;
  auto at = [&](size_t j) -> size_t {
    if (j == 0) return 0;
    if (j >= len - 1) return 1 + nbytes + (j - (len - 1));  // '>' and the end
    return 1 + (off[first_cp + j - 1] - base);
  };
  return size_t(CharNgrams(c, bucket, wp, len, at, out) - out);
}

// Tokenizes `text` and leaves the bucket of every feature key, unsorted and with repeats, in
// s->buckets[group].
void HashKeys(const FeaturizerConfig& c, std::string_view text, FeatureHashScratch* s) {
  HashWordKeys(c, text, s);
  const auto& toks = s->tok.tokens;
  Appender<uint32_t> cb(&s->buckets[kCharGroup], CharKeyBound(c, toks));
  if (c.char_min != 0) {
    const BucketMap bucket(c.num_buckets);
    size_t first_cp = 0;
    uint32_t* out = s->buckets[kCharGroup].data();
    for (size_t ti = 0; ti < toks.size(); ++ti) {
      cb.Skip(TokenCharKeys(c, bucket, s, ti, first_cp, out + cb.size()));
      first_cp += toks[ti].end - toks[ti].begin;
    }
  }
  cb.Finish();
}

}  // namespace

void HashFeatures(const FeaturizerConfig& c, std::string_view text, FeatureHashScratch* s) {
  HashKeys(c, text, s);
  s->raw.clear();
  const uint32_t bits = BitsFor(c.num_buckets - 1);
  for (int g = 0; g < kNumGroups; ++g)
    CountInto(&s->buckets[g], &s->offsets, bits, FeatureGroup(g), &s->raw);
}

size_t HashTokenCharKeys(const FeaturizerConfig& c, size_t token, size_t first_cp,
                         FeatureHashScratch* s, uint32_t* out) {
  if (c.char_min == 0) return 0;  // no character n-grams (CharNgrams needs char_min >= 1)
  return TokenCharKeys(c, BucketMap(c.num_buckets), s, token, first_cp, out);
}

}  // namespace fastintent
