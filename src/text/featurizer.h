// The featuriser's fast path: text -> FeatureVector (vocabulary rows and weights: sublinear TF,
// IDF, L2 normalisation per group), as docs/model-format.md, "Feature weights" specifies. The
// keys and buckets come from feature_hash.h and the rows from vocabulary.h, both part of the
// model file format; this file adds what makes it fast (per-thread scratch, a token cache, a
// duplicate table, a POPCNT clone) and must give what the HashFeatures reference gives
// (featurizer_test). This header includes feature_hash.h and vocabulary.h for its users.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fastintent/status.h"
#include "text/feature_hash.h"
#include "text/vocabulary.h"

namespace fastintent {

// The longest text, in bytes, that a model classifies or trains on: 1 MiB, the server's
// default body limit. Longer texts are refused (Model::Probabilities, ReadDataset, Train), never
// cut short: featurising costs about 100 bytes of scratch per input byte (a text of 1 MiB of
// short words takes ~90 MB), so the bound is what keeps a session's memory bounded.
inline constexpr size_t kMaxTextBytes = size_t(1) << 20;

// The error for a text over kMaxTextBytes: "text too long: N bytes (at most 1048576)".
Status TextTooLong(size_t bytes);

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

// Per-thread buffers for featurisation: those of feature hashing (the tokens, their bytes, the
// word keys' buckets; HashFeatures accepts this scratch too) and the fast path's own. No
// allocation once warm.
struct FeaturizerScratch : FeatureHashScratch {
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
    double sq;       // kPerToken: sum of weights^2
    uint32_t count;  // rows[0, count) (and weights, kPerToken)
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

// Whether a token of `nbytes` UTF-8 bytes and `code_points` code points is keyed, so that its
// character entries can be cached (the scratch's token cache, a Session's TokenSums, a Model's
// TokenSumTable): ASCII, at most kCachedTokenBytes, at most kCachedTokenRows character keys.
// The one rule for the featurizer and for the trainer's list of frequent tokens.
inline bool IsCacheableToken(const FeaturizerConfig& c, size_t nbytes, size_t code_points) {
  return nbytes == code_points && nbytes <= FeaturizerScratch::kCachedTokenBytes &&
         CharKeyBound(c, code_points) <= FeaturizerScratch::kCachedTokenRows;
}

// The character entries of one token occurrence in a FeatureVector (CharTf::kPerToken only).
struct CharSpan {
  TokenKey key;    // the token (key.len 0: not keyed, too long or not ASCII)
  uint32_t begin;  // its entries are [begin, end) of rows/weights/unscaled: equal keys mean
  uint32_t end;    // equal rows and unscaled weights, whatever the text
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
