// Hashed word and character n-gram features with sublinear TF, IDF and L2 normalisation.
// The hash and the feature keys are part of the model file format (docs/model-format.md):
// changing them breaks every saved model, and golden tests pin them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fastintent/status.h"
#include "text/normalizer.h"
#include "text/tokenizer.h"

namespace fastintent {

// Where the term frequency of a character n-gram is counted (docs/model-format.md, "Feature
// weights").
enum class CharTf : uint32_t {
  kPerText = 0,   // over the whole text: an n-gram shared by two words gets one entry, tf 2
  kPerToken = 1,  // within each token occurrence: one entry per token that has the n-gram, so a
                  // token's character entries depend on the token alone and its contribution
                  // to the first layer can be cached (Session's TokenSums)
};

// "token" or "text", as the CLI spells them.
inline const char* CharTfName(CharTf t) { return t == CharTf::kPerToken ? "token" : "text"; }

// What features are extracted; stored in the model file's "featurizer" section.
struct FeaturizerConfig {
  uint32_t num_buckets = 1u << 20;  // hash space; bucket = FNV-1a-64(key) mod num_buckets
  uint32_t word_ngrams = 2;         // longest word n-gram (1 = unigrams only; 1..3)
  uint32_t char_min = 2;            // shortest character n-gram, in code points (0 = none)
  uint32_t char_max = 5;            // longest character n-gram (char_min..8)
  uint32_t min_df = 2;              // buckets seen in fewer training texts are dropped
  CharTf char_tf = CharTf::kPerToken;  // new models; files without the field are kPerText

  // InvalidArgument naming the first field out of its range above; Ok otherwise.
  Status Validate() const;
};

// The longest text, in bytes, that a model classifies or trains on: 1 MiB, the server's
// default body limit. Longer texts are refused (Model::Probabilities, ReadDataset, Train), never
// cut short: featurising costs about 100 bytes of scratch per input byte (a text of 1 MiB of
// short words takes ~90 MB), so the bound is what keeps a session's memory bounded.
inline constexpr size_t kMaxTextBytes = size_t(1) << 20;

// The error for a text over kMaxTextBytes: "text too long: N bytes (at most 1048576)".
Status TextTooLong(size_t bytes);

// Feature groups: each is L2-normalised on its own, then the groups present are scaled by
// 1/sqrt(number of groups present) so the whole vector has unit norm.
enum FeatureGroup : uint8_t { kWordGroup = 0, kCharGroup = 1, kNumGroups = 2 };

// One hashed feature of a text, before vocabulary lookup: its bucket, group and count.
struct RawFeature {
  uint32_t bucket;
  uint32_t tf;
  FeatureGroup group;
};

// FNV-1a 64-bit over `n` bytes, continuing from `h` (start with kFnvOffset).
inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
inline uint64_t Fnv1a(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

// A short ASCII token as a cache key: its bytes, zero-padded, and its length in bytes (tokens
// are never empty, so len 0 means "no key": too long, or not ASCII), with a hash of both for
// direct-mapped caches (derived, so not compared).
struct TokenKey {
  uint64_t bytes[2];
  uint32_t len;
  uint32_t hash;
  bool operator==(const TokenKey& o) const {
    return len == o.len && bytes[0] == o.bytes[0] && bytes[1] == o.bytes[1];
  }
};

// Per-thread buffers for featurisation; no allocation once warm.
struct FeaturizerScratch {
  TokenizerScratch tok;
  static constexpr size_t kUtf8Slack = 16;  // bytes of utf8 readable after the last token
  std::string utf8;                 // the tokens' bytes, back to back
  std::vector<uint32_t> offsets;    // byte offset of each code point in utf8
  std::vector<uint32_t> token_off;  // byte offsets of tokens in `utf8` (word pass)
  std::vector<uint32_t> buckets[kNumGroups];
  std::vector<RawFeature> raw;
  // Featurize's duplicate detection: an open-addressing table from row to output position,
  // whose slots count as empty unless stamped with the current `generation` (so it is never
  // cleared between calls), and the term frequency of each output row.
  struct Slot {
    uint32_t row;
    uint32_t generation;
    uint32_t index;
  };
  std::vector<Slot> table;
  uint32_t generation = 0;
  std::vector<uint32_t> tf;
  // Featurize's cache of the character n-gram rows of recently seen short ASCII tokens: they
  // depend only on the token's bytes, the n-gram configuration and the vocabulary, and a few
  // thousand words make up most of what users type. Direct-mapped on a hash of the token;
  // entries are valid for the vocabulary whose id() is `token_cache_owner` with the
  // configuration `token_cache_config` (num_buckets, char_min, char_max, char_tf packed).
  // kPerText: the known rows of the token's keys in key order, repeats kept; kPerToken: the
  // token's entries (distinct rows, first occurrence order) with weights and their sum of squares.
  // The keys sit in a compact array of their own (48 KB) that stays in a core's cache; a
  // token's entries are read only on a hit.
  static constexpr size_t kCachedTokenBytes = 16;
  static constexpr size_t kCachedTokenRows = 64;
  static constexpr size_t kTokenCacheSize = 2048;  // entries (a power of two), 1.1 MB in all
  struct CachedToken {
    double sq;        // kPerToken: sum of weights^2
    uint32_t count;   // rows[0, count) (and weights, kPerToken)
    uint32_t rows[kCachedTokenRows];
    float weights[kCachedTokenRows];  // kPerToken: (1 + ln tf) * idf
  };
  std::vector<TokenKey> token_cache_keys;  // len 0 marks an empty entry
  std::vector<CachedToken> token_cache;
  uint64_t token_cache_owner = 0;
  uint64_t token_cache_config = 0;
  std::vector<uint32_t> token_keys;  // one token's character buckets

  // Frees every buffer that grows with the text (all but the token cache), so that one huge
  // text does not keep ~100 bytes of scratch per byte of it for the scratch's life. The next
  // Featurize allocates again as it would on a fresh scratch.
  void ReleaseTextBuffers();
};

// Upper bound of the character keys of a token of `code_points` code points (0 without
// character n-grams).
inline size_t CharKeyBound(const FeaturizerConfig& c, size_t code_points) {
  return c.char_min == 0 ? 0 : (code_points + 2) * (c.char_max - c.char_min + 1);
}

// Whether a token of `nbytes` UTF-8 bytes and `code_points` code points is keyed, so that its
// character entries can be cached (the scratch's token cache, a Session's TokenSums, a Model's
// TokenSumTable): ASCII, at most kCachedTokenBytes, at most kCachedTokenRows character keys.
// The one rule for the featurizer and for the trainer's list of frequent tokens.
inline bool IsCacheableToken(const FeaturizerConfig& c, size_t nbytes, size_t code_points) {
  return nbytes == code_points && nbytes <= FeaturizerScratch::kCachedTokenBytes &&
         CharKeyBound(c, code_points) <= FeaturizerScratch::kCachedTokenRows;
}

// Extracts the raw hashed features of `text` into scratch->raw, sorted by (group, bucket),
// each bucket once with its count. Keys hashed (bytes, FNV-1a 64):
//   word unigram  'w' token
//   word n-gram   'b' token1 ' ' token2 [' ' token3]   (n = 2..word_ngrams)
//   char n-gram   'c' window of "<token>" of char_min..char_max code points
// where tokens come from Tokenize() and are UTF-8 encoded.
void HashFeatures(const FeaturizerConfig& config, std::string_view text, FeaturizerScratch* s);

// The character entries of one token occurrence in a FeatureVector (CharTf::kPerToken only).
struct CharSpan {
  TokenKey key;     // the token (key.len 0: not keyed, too long or not ASCII)
  uint32_t begin;   // its entries are [begin, end) of rows/weights/unscaled: equal keys mean
  uint32_t end;     // equal rows and unscaled weights, whatever the text
};

// The sparse feature vector the model consumes: vocabulary rows and their weights.
struct FeatureVector {
  std::vector<uint32_t> rows;
  std::vector<float> weights;
  // CharTf::kPerToken only (else empty and 0): the character entries by token, their weights
  // before the character group's scale (weights[i] == float(unscaled[i] * char_scale) for
  // character entries) and that scale. Lets a consumer sum a token's rows once and reuse it.
  std::vector<CharSpan> spans;
  std::vector<float> unscaled;
  float char_scale = 0;
  void clear() {
    rows.clear();
    weights.clear();
    spans.clear();
    unscaled.clear();
    char_scale = 0;
  }
  // Empties the vector and frees its buffers (clear() keeps them for reuse).
  void Release() { *this = FeatureVector(); }
};

// Maps buckets to dense vocabulary rows and holds each row's IDF weight. Immutable once built;
// safe to share between threads.
class Vocabulary {
 public:
  static constexpr uint32_t kNoRow = 0xFFFFFFFFu;
  Vocabulary() = default;
  // `buckets` strictly increasing, all < num_buckets; idf.size() == buckets.size().
  static StatusOr<Vocabulary> Create(uint32_t num_buckets, std::vector<uint32_t> buckets,
                                     std::vector<float> idf);
  // The row of `bucket` (< num_buckets()), or kNoRow. Rows are the buckets' ranks, so this is
  // a rank query on a bitmap of the vocabulary's buckets: one 16-byte block per 64 buckets
  // (256 KB for 2^20 buckets, which stays in a core's L2 cache where a bucket -> row array
  // would take 4 MB), a single cache line read per lookup.
  uint32_t RowOf(uint32_t bucket) const {
    const RankBlock& b = rank_[bucket >> 6];
    const uint64_t bit = uint64_t(1) << (bucket & 63);
    if ((b.bits & bit) == 0) return kNoRow;
    return b.rank + PopCount(b.bits & (bit - 1));
  }
  float Idf(uint32_t row) const { return idf_[row]; }
  // Identifies the content: equal for copies, different for every Create() (never 0).
  uint64_t id() const { return id_; }
  size_t size() const { return buckets_.size(); }
  uint32_t num_buckets() const { return num_buckets_; }
  const std::vector<uint32_t>& buckets() const { return buckets_; }
  const std::vector<float>& idf() const { return idf_; }

 private:
  // Bits set in x. Written out because the portable x86-64 baseline has no POPCNT instruction
  // and __builtin_popcountll would become a libgcc call; GCC recognises this sequence and emits
  // POPCNT where the target has it (Featurize's popcnt clone, ARM64's CNT).
  static uint32_t PopCount(uint64_t x) {
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return uint32_t((x * 0x0101010101010101ull) >> 56);
  }
  // Buckets 64k .. 64k+63: which are in the vocabulary, and how many vocabulary buckets lie
  // below 64k (the row of the first one).
  struct alignas(16) RankBlock {
    uint64_t bits;
    uint32_t rank;
  };
  uint32_t num_buckets_ = 0;
  uint64_t id_ = 0;
  std::vector<RankBlock> rank_;
  std::vector<uint32_t> buckets_;
  std::vector<float> idf_;
};

// Counts document frequencies over a training corpus and builds the Vocabulary:
// buckets with df >= min_df, idf = ln((1 + N) / (1 + df)) + 1 (smoothed, as in scikit-learn).
Vocabulary BuildVocabulary(const FeaturizerConfig& config, const std::vector<std::string>& texts);

// Text -> FeatureVector: hashing, vocabulary lookup (unknown buckets dropped), weight
// (1 + ln tf) * idf, per-group L2 normalisation. Rows come word group first, each group in the
// order in which its rows first occur in the text (kPerToken: character entries by token, each
// token's in the order its rows first occur in it), as docs/model-format.md, "Feature weights"
// specifies.
// Immutable; thread-safe with one scratch per thread.
class Featurizer {
 public:
  Featurizer() = default;
  Featurizer(FeaturizerConfig config, Vocabulary vocab)
      : config_(config), vocab_(std::move(vocab)) {}
  // Leaves the features of `text` in *out (rows, weights and, per token, spans), using only
  // *scratch for working memory (no allocation once warm). Any byte string is accepted; callers
  // bound its length (kMaxTextBytes) because scratch grows with it.
  void Featurize(std::string_view text, FeaturizerScratch* scratch, FeatureVector* out) const;
  const FeaturizerConfig& config() const { return config_; }
  const Vocabulary& vocab() const { return vocab_; }

 private:
  FeaturizerConfig config_;
  Vocabulary vocab_;
};

}  // namespace fastintent
