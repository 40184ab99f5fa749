#include "text/featurizer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

namespace fastintent {

void FeaturizerScratch::ReleaseTextBuffers() {
  tok = TokenizerScratch();
  std::string().swap(utf8);
  for (std::vector<uint32_t>* v : {&offsets, &token_off, &buckets[0], &buckets[1], &tf, &token_keys})
    std::vector<uint32_t>().swap(*v);
  std::vector<RawFeature>().swap(raw);
  std::vector<Slot>().swap(table);
  generation = 0;
}

Status TextTooLong(size_t bytes) {
  return InvalidArgument("text too long: " + std::to_string(bytes) + " bytes (at most " +
                         std::to_string(kMaxTextBytes) + ")");
}

Status FeaturizerConfig::Validate() const {
  if (num_buckets < 1024 || num_buckets > (1u << 26))
    return InvalidArgument("num_buckets must be in [1024, 2^26], got " + std::to_string(num_buckets));
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

// Writes into a vector through a raw pointer: the vector is first grown to an upper bound of what
// will be written and cut to the written length by Finish(), so the hot loops have no capacity
// checks and nothing is allocated once the vector is warm.
template <class T>
class Appender {
 public:
  Appender(std::vector<T>* v, size_t bound) : v_(v) {
    if (v_->size() < bound) v_->resize(bound);
    begin_ = p_ = v_->data();
  }
  void operator()(T x) { *p_++ = x; }
  // Counts `k` elements written directly after the last one appended.
  void Skip(size_t k) { p_ += k; }
  size_t size() const { return size_t(p_ - begin_); }
  void Finish() { v_->resize(size()); }

 private:
  std::vector<T>* v_;
  T* begin_;
  T* p_;
};

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

// Emits the buckets of the character n-grams ('c' + window) of one token wrapped as "<token>",
// given as `len` code points, code point j being the bytes [w + at(j), w + at(j + 1)).
// FNV-1a consumes bytes in order, so each start's windows are hashed incrementally, one code
// point at a time, instead of each window from scratch.
template <class At>
inline void CharNgrams(const FeaturizerConfig& c, const BucketMap& bucket, const unsigned char* w, size_t len,
                       const At& at, Appender<uint32_t>* out) {
  const uint64_t seed = FnvByte(kFnvOffset, 'c');
  for (size_t i = 0; i + c.char_min <= len; ++i) {
    uint64_t h = seed;
    const size_t first = i + c.char_min - 1;  // last code point of the shortest window
    const size_t stop = std::min(len, i + c.char_max);
    size_t j = i;
    for (; j < first; ++j) h = Fnv1a(h, w + at(j), at(j + 1) - at(j));
    for (; j < stop; ++j) {
      h = Fnv1a(h, w + at(j), at(j + 1) - at(j));
      (*out)(bucket(h));
    }
  }
}

// Tokenizes `text` and encodes the tokens into s->utf8 (all tokens, UTF-8, back to back) and
// s->token_off (byte offset of each token, plus the end), and s->offsets (byte offset of each
// code point, plus the end) when the text is not ASCII (TokenCharKeys reads it only then).
void TokenizeAndEncode(std::string_view text, FeaturizerScratch* s) {
  // The common case, ASCII: straight to bytes.
  if (s->utf8.size() < text.size() + FeaturizerScratch::kUtf8Slack)
    s->utf8.resize(text.size() + FeaturizerScratch::kUtf8Slack);
  if (TokenizeAscii(text, &s->tok, &s->utf8, &s->token_off)) return;
  Tokenize(text, &s->tok);
  const int32_t* cps = s->tok.codepoints.data();
  const auto& toks = s->tok.tokens;
  size_t num_cps = 0;
  for (const TokenSpan& t : toks) num_cps += t.end - t.begin;
  // At most 4 bytes per code point.
  if (s->utf8.size() < 4 * num_cps + FeaturizerScratch::kUtf8Slack)
    s->utf8.resize(4 * num_cps + FeaturizerScratch::kUtf8Slack);
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

// TokenizeAndEncode, then leaves the bucket of every word key, unsorted and with repeats, in
// s->buckets[kWordGroup].
void WordKeys(const FeaturizerConfig& c, std::string_view text, FeaturizerScratch* s) {
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

// Upper bound of the character keys of all the tokens in `toks`.
inline size_t CharKeyBound(const FeaturizerConfig& c, const std::vector<TokenSpan>& toks) {
  if (c.char_min == 0) return 0;
  size_t bound = 0;
  for (const TokenSpan& t : toks) bound += CharKeyBound(c, t.end - t.begin);
  return bound;
}

// Appends the buckets of the character n-grams of token `ti` (after WordKeys) to `out`;
// `first_cp` is the index in s->offsets of the token's first code point.
void TokenCharKeys(const FeaturizerConfig& c, const BucketMap& bucket, FeaturizerScratch* s,
                   size_t ti, size_t first_cp, Appender<uint32_t>* out) {
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
    CharNgrams(c, bucket, wrapped, ncp + 2, identity, out);
    return;
  }
  // Longer or not ASCII: "<" + token + ">" assembled in s->tok.sanitized (free after
  // Tokenize), with the code point boundaries taken from s->offsets unless one byte each.
  std::string& w = s->tok.sanitized;
  w.assign(1, '<');
  w.append(reinterpret_cast<const char*>(u) + tok_off[ti], nbytes);
  w.push_back('>');
  if (nbytes == ncp) {
    CharNgrams(c, bucket, reinterpret_cast<const unsigned char*>(w.data()), ncp + 2, identity, out);
    return;
  }
  const uint32_t* off = s->offsets.data();
  const uint32_t base = off[first_cp];
  const size_t len = ncp + 2;
  auto at = [&](size_t j) -> size_t {
    if (j == 0) return 0;
    if (j >= len - 1) return 1 + nbytes + (j - (len - 1));  // '>' and the end
    return 1 + (off[first_cp + j - 1] - base);
  };
  CharNgrams(c, bucket, reinterpret_cast<const unsigned char*>(w.data()), len, at, out);
}

// Tokenizes `text` and leaves the bucket of every feature key, unsorted and with repeats, in
// s->buckets[group].
void HashKeys(const FeaturizerConfig& c, std::string_view text, FeaturizerScratch* s) {
  WordKeys(c, text, s);
  const auto& toks = s->tok.tokens;
  Appender<uint32_t> cb(&s->buckets[kCharGroup], CharKeyBound(c, toks));
  if (c.char_min != 0) {
    const BucketMap bucket(c.num_buckets);
    size_t first_cp = 0;
    for (size_t ti = 0; ti < toks.size(); ++ti) {
      TokenCharKeys(c, bucket, s, ti, first_cp, &cb);
      first_cp += toks[ti].end - toks[ti].begin;
    }
  }
  cb.Finish();
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
  if (buckets.size() >= kNoRow) return DataLoss("vocabulary: too many rows");
  static std::atomic<uint64_t> next_id{1};
  Vocabulary v;
  v.id_ = next_id.fetch_add(1, std::memory_order_relaxed);
  v.num_buckets_ = num_buckets;
  v.rank_.assign((size_t(num_buckets) + 63) / 64, RankBlock{0, 0});
  for (size_t r = 0; r < buckets.size(); ++r) {
    if (buckets[r] >= num_buckets || (r > 0 && buckets[r] <= buckets[r - 1]))
      return DataLoss("vocabulary: buckets not strictly increasing below num_buckets at row " +
                      std::to_string(r));
    if (!std::isfinite(idf[r])) return DataLoss("vocabulary: non-finite idf at row " + std::to_string(r));
    v.rank_[buckets[r] >> 6].bits |= uint64_t(1) << (buckets[r] & 63);
  }
  uint32_t below = 0;
  for (RankBlock& b : v.rank_) {
    b.rank = below;
    below += PopCount(b.bits);
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
const SublinearTf sublinear;

// On x86-64 a second copy compiled for CPUs with POPCNT (all made since ~2009; not in the
// baseline ISA) is picked at load time: the vocabulary's rank queries become one instruction.
// Not under ThreadSanitizer: its runtime is not up yet when the loader runs ifunc resolvers,
// and the instrumented resolver crashes every binary at startup.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define FI_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define FI_POPCNT_CLONES
#endif

// Where a short ASCII token's entry in the scratch's token cache lives, and its key. Whether the
// entry holds the token is asked with Holds() at the time of use: processing an earlier token of
// the same text may have refilled it.
struct TokenSlot {
  TokenKey* cached_key;                   // null: the token is not cached (too long, not ASCII)
  FeaturizerScratch::CachedToken* entry;  // what the cache holds for cached_key
  TokenKey key;
  bool Holds() const { return cached_key && *cached_key == key; }
  // Makes the cache hold this token with `count` rows (the caller fills rows and weights).
  void Store(uint32_t count, double sq) const {
    *cached_key = key;
    entry->count = count;
    entry->sq = sq;
  }
};

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "token keys are read as little-endian words");

__attribute__((always_inline)) inline TokenSlot LocateToken(const FeaturizerConfig& c, FeaturizerScratch* s,
                                                            size_t ti) {
  TokenSlot t{nullptr, nullptr, {{0, 0}, 0, 0}};  // key.len 0: not keyed
  const uint32_t* tok_off = s->token_off.data();
  const size_t ncp = s->tok.tokens[ti].end - s->tok.tokens[ti].begin;
  const size_t nbytes = tok_off[ti + 1] - tok_off[ti];
  if (!IsCacheableToken(c, nbytes, ncp)) return t;
  // Two whole words, masked to the token's bytes (the buffer has kUtf8Slack bytes after the last
  // token), rather than a variable-length copy that the loads would then wait for.
  const char* p = s->utf8.data() + tok_off[ti];
  uint64_t b0, b1;
  std::memcpy(&b0, p, 8);
  std::memcpy(&b1, p + 8, 8);
  const auto low_bytes = [](size_t n) { return n >= 8 ? ~uint64_t(0) : (uint64_t(1) << (8 * n)) - 1; };
  b0 &= low_bytes(nbytes);
  b1 &= nbytes <= 8 ? 0 : low_bytes(nbytes - 8);
  uint64_t h = (b0 * 0x9E3779B97F4A7C15ull) ^ ((b1 + nbytes) * 0xC2B2AE3D27D4EB4Full);
  h ^= h >> 29;
  t.key = TokenKey{{b0, b1}, uint32_t(nbytes), uint32_t(h)};
  const size_t slot = h & (FeaturizerScratch::kTokenCacheSize - 1);
  t.cached_key = &s->token_cache_keys[slot];
  t.entry = &s->token_cache[slot];
  return t;
}

// Starts loading what a hit on `t` will read.
inline void PrefetchToken(const TokenSlot& t) {
  if (!t.cached_key) return;
  __builtin_prefetch(t.cached_key);
  __builtin_prefetch(t.entry);  // count, sq and the first rows
  __builtin_prefetch(t.entry->weights);
}

// Empties the token cache unless it was filled for this vocabulary and configuration.
void PrepareTokenCache(const FeaturizerConfig& c, const Vocabulary& vocab, FeaturizerScratch* s) {
  const uint64_t packed_config = uint64_t(c.char_tf) << 48 | uint64_t(c.num_buckets) << 16 |
                                 uint64_t(c.char_min) << 8 | c.char_max;
  if (s->token_cache_keys.size() != FeaturizerScratch::kTokenCacheSize ||
      s->token_cache_owner != vocab.id() || s->token_cache_config != packed_config) {
    s->token_cache_keys.assign(FeaturizerScratch::kTokenCacheSize, TokenKey{{0, 0}, 0, 0});
    s->token_cache.resize(FeaturizerScratch::kTokenCacheSize);
    s->token_cache_owner = vocab.id();
    s->token_cache_config = packed_config;
  }
}

// Writes the known rows of token ti's character keys, in key order, to s->token_keys and
// returns how many.
size_t TokenCharRows(const FeaturizerConfig& c, const Vocabulary& vocab, FeaturizerScratch* s, size_t ti,
                     size_t first_cp) {
  const size_t ncp = s->tok.tokens[ti].end - s->tok.tokens[ti].begin;
  Appender<uint32_t> keys(&s->token_keys, CharKeyBound(c, ncp));
  TokenCharKeys(c, BucketMap(c.num_buckets), s, ti, first_cp, &keys);
  uint32_t* k = s->token_keys.data();
  size_t known = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint32_t row = vocab.RowOf(k[i]);
    k[known] = row;
    known += row != Vocabulary::kNoRow;
  }
  return known;
}

// Leaves in s->buckets[kCharGroup] the known rows of the character keys of the tokens WordKeys
// left in `s`, in key order (unknown keys dropped). A short ASCII token's rows come from the
// scratch's token cache, filled on a miss. Inlined into Featurize (and so into its POPCNT clone).
__attribute__((always_inline)) inline void CharRows(const FeaturizerConfig& c, const Vocabulary& vocab,
                                                    FeaturizerScratch* s) {
  const auto& toks = s->tok.tokens;
  Appender<uint32_t> char_rows(&s->buckets[kCharGroup], CharKeyBound(c, toks));
  if (c.char_min == 0) {
    char_rows.Finish();
    return;
  }
  PrepareTokenCache(c, vocab, s);
  size_t first_cp = 0;
  for (size_t ti = 0; ti < toks.size(); first_cp += toks[ti].end - toks[ti].begin, ++ti) {
    const TokenSlot t = LocateToken(c, s, ti);
    if (t.Holds()) {
      for (uint32_t i = 0; i < t.entry->count; ++i) char_rows(t.entry->rows[i]);
      continue;
    }
    const size_t known = TokenCharRows(c, vocab, s, ti, first_cp);
    for (size_t i = 0; i < known; ++i) char_rows(s->token_keys[i]);
    if (t.cached_key) {
      t.Store(uint32_t(known), 0);
      std::memcpy(t.entry->rows, s->token_keys.data(), known * sizeof(uint32_t));
    }
  }
  char_rows.Finish();
}

// A fresh stamp for the duplicate table of `s` (really emptying it when stamps would repeat).
inline uint32_t NextGeneration(FeaturizerScratch* s) {
  if (s->generation == 0xFFFFFFFFu) {
    for (FeaturizerScratch::Slot& slot : s->table) slot.generation = 0;
    s->generation = 0;
  }
  return ++s->generation;
}

// Writes the distinct values of rows[0, n) to row_out in order of first occurrence, their IDF to
// idf_out and their counts to tf, and returns how many; s->table must have at least 4 slots
// per distinct row it can meet (no more than n, nor than the vocabulary's rows).
// Repeats are common and unpredictable (n-grams shared between words), so the usual case, the
// row's home slot being either its own or free, runs without branches: the row is always written
// at the end of the output, which grows only when it was new. Probing past the home slot (a
// different row there) is rare with the table at most 1/4 full.
__attribute__((always_inline)) inline size_t DistinctRows(const uint32_t* rows, size_t n, const Vocabulary& vocab,
                                                          FeaturizerScratch* s, uint32_t* row_out,
                                                          float* idf_out, uint32_t* tf) {
  const uint32_t gen = NextGeneration(s);
  const size_t slots = s->table.size();
  const uint32_t shift = uint32_t(64 - __builtin_ctzll(slots));
  FeaturizerScratch::Slot* table = s->table.data();
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t row = rows[i];
    size_t h = size_t((uint64_t(row) * 0x9E3779B97F4A7C15ull) >> shift);
    FeaturizerScratch::Slot* slot = &table[h];
    while (slot->generation == gen && slot->row != row) {
      h = (h + 1) & (slots - 1);
      slot = &table[h];
    }
    const bool seen = slot->generation == gen;
    const uint32_t index = seen ? slot->index : uint32_t(m);
    tf[m] = 0;
    ++tf[index];
    row_out[m] = row;
    idf_out[m] = vocab.Idf(row);
    *slot = {row, gen, index};
    m += !seen;
  }
  return m;
}

// w[i] = (1 + ln tf[i]) * w[i] for i < n (w holding the IDF); returns the sum of w^2.
inline double SublinearWeights(float* w, const uint32_t* tf, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    w[i] = sublinear(tf[i]) * w[i];
    sum += double(w[i]) * w[i];
  }
  return sum;
}

// CharTf::kPerToken: appends each token's character entries (distinct rows, unscaled weights)
// from row_out/w_out[n] on, with a span per token that has any, and returns the new n. A short
// ASCII token's entries come from the token cache, filled on a miss. *sq gets the sum of w^2.
__attribute__((always_inline)) inline size_t TokenEntries(const FeaturizerConfig& c, const Vocabulary& vocab,
                                                          FeaturizerScratch* s, size_t n, uint32_t* row_out,
                                                          float* w_out, std::vector<CharSpan>* spans,
                                                          double* sq) {
  const auto& toks = s->tok.tokens;
  PrepareTokenCache(c, vocab, s);
  uint32_t* tf = s->tf.data();
  double sum = 0;
  size_t first_cp = 0;
  TokenSlot next = toks.empty() ? TokenSlot{} : LocateToken(c, s, 0);
  for (size_t ti = 0; ti < toks.size(); first_cp += toks[ti].end - toks[ti].begin, ++ti) {
    const TokenSlot t = next;
    if (ti + 1 < toks.size()) {
      next = LocateToken(c, s, ti + 1);
      PrefetchToken(next);
    }
    const size_t begin = n;
    if (t.Holds()) {
      std::memcpy(row_out + n, t.entry->rows, t.entry->count * sizeof(uint32_t));
      std::memcpy(w_out + n, t.entry->weights, t.entry->count * sizeof(float));
      n += t.entry->count;
      sum += t.entry->sq;
    } else {
      const size_t known = TokenCharRows(c, vocab, s, ti, first_cp);
      const size_t m = DistinctRows(s->token_keys.data(), known, vocab, s, row_out + n, w_out + n, tf);
      const double token_sq = SublinearWeights(w_out + n, tf, m);
      sum += token_sq;
      if (t.cached_key) {
        t.Store(uint32_t(m), token_sq);
        std::memcpy(t.entry->rows, row_out + n, m * sizeof(uint32_t));
        std::memcpy(t.entry->weights, w_out + n, m * sizeof(float));
      }
      n += m;
    }
    if (n == begin) continue;
    spans->push_back(CharSpan{t.key, uint32_t(begin), uint32_t(n)});
  }
  *sq = sum;
  return n;
}

}  // namespace

FI_POPCNT_CLONES
void Featurizer::Featurize(std::string_view text, FeaturizerScratch* s, FeatureVector* out) const {
  const bool per_token = config_.char_tf == CharTf::kPerToken;
  out->spans.clear();
  out->unscaled.clear();
  out->char_scale = 0;
  WordKeys(config_, text, s);
  // Word keys -> known rows (unknown ones dropped), in place.
  {
    std::vector<uint32_t>& keys = s->buckets[kWordGroup];
    size_t known = 0;
    for (const uint32_t bucket : keys) {
      const uint32_t row = vocab_.RowOf(bucket);
      keys[known] = row;
      known += row != Vocabulary::kNoRow;
    }
    keys.resize(known);
  }
  size_t char_bound = 0;
  if (per_token) {
    char_bound = CharKeyBound(config_, s->tok.tokens);
    s->buckets[kCharGroup].clear();
  } else {
    CharRows(config_, vocab_, s);
    char_bound = s->buckets[kCharGroup].size();
  }

  const size_t bound = s->buckets[kWordGroup].size() + char_bound;
  // Duplicate detection table: a power of two with at least four times as many slots as the
  // distinct rows one DistinctRows call can meet: no more than its keys, nor than the
  // vocabulary has rows (which bounds the table's memory for huge texts).
  const size_t distinct = std::min(bound, vocab_.size());
  size_t slots = 1024;
  while (slots < 4 * distinct) slots *= 2;
  if (s->table.size() < slots) {
    s->table.assign(slots, FeaturizerScratch::Slot{0, 0, 0});
    s->generation = 0;
  }
  if (s->tf.size() < bound) s->tf.resize(bound);

  Appender<uint32_t> rows(&out->rows, bound);
  Appender<float> weights(&out->weights, bound);
  uint32_t* row_out = out->rows.data();
  float* weight_out = out->weights.data();
  double sq[kNumGroups] = {0, 0};
  size_t group_begin[kNumGroups + 1] = {0, 0, 0};
  size_t n = 0;
  for (int g = 0; g < kNumGroups; ++g) {
    if (g == kCharGroup && per_token) {
      if (config_.char_min != 0)
        n = TokenEntries(config_, vocab_, s, n, row_out, weight_out, &out->spans, &sq[g]);
    } else {
      const std::vector<uint32_t>& keys = s->buckets[g];
      const size_t m = DistinctRows(keys.data(), keys.size(), vocab_, s, row_out + n, weight_out + n, s->tf.data() + n);
      sq[g] = SublinearWeights(weight_out + n, s->tf.data() + n, m);
      n += m;
    }
    group_begin[g + 1] = n;
  }
  rows.Skip(n);
  weights.Skip(n);
  rows.Finish();
  weights.Finish();
  if (per_token) out->unscaled.assign(out->weights.begin(), out->weights.end());
  int present = 0;
  for (int g = 0; g < kNumGroups; ++g) present += sq[g] > 0;
  if (present == 0) return;
  const double overall = 1.0 / std::sqrt(double(present));
  for (int g = 0; g < kNumGroups; ++g) {
    if (sq[g] <= 0) continue;
    const float scale = float(overall / std::sqrt(sq[g]));
    if (g == kCharGroup) out->char_scale = per_token ? scale : 0;
    for (size_t i = group_begin[g]; i < group_begin[g + 1]; ++i) out->weights[i] *= scale;
  }
}

}  // namespace fastintent
