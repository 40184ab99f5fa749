// Feature hashing: the tokens of a text (tokenizer.h) -> word and character n-gram keys -> hash
// buckets, as docs/model-format.md ("Feature hashing") specifies. Part of the model file format
// (feature hash id 1): a saved model's vocabulary and weights are indexed by these buckets, so
// changing the keys, the hash or the bucket mapping breaks every saved model. The golden tests in
// feature_hash_test.cc pin them. The featuriser's fast path (featurizer.h) reuses these functions,
// so it cannot hash differently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fastintent/status.h"
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
  uint32_t num_buckets = 1u << 20;     // hash space; bucket = FNV-1a-64(key) mod num_buckets
  uint32_t word_ngrams = 2;            // longest word n-gram (1 = unigrams only; 1..3)
  uint32_t char_min = 2;               // shortest character n-gram, in code points (0 = none)
  uint32_t char_max = 5;               // longest character n-gram (char_min..8)
  uint32_t min_df = 2;                 // buckets seen in fewer training texts are dropped
  CharTf char_tf = CharTf::kPerToken;  // new models; files without the field are kPerText

  // InvalidArgument naming the first field out of its range above; Ok otherwise.
  Status Validate() const;
};

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

// Upper bound of the character keys of a token of `code_points` code points (0 without
// character n-grams).
inline size_t CharKeyBound(const FeaturizerConfig& c, size_t code_points) {
  return c.char_min == 0 ? 0 : (code_points + 2) * (c.char_max - c.char_min + 1);
}

// Upper bound of the character keys of all the tokens in `toks`.
inline size_t CharKeyBound(const FeaturizerConfig& c, const std::vector<TokenSpan>& toks) {
  if (c.char_min == 0) return 0;
  size_t bound = 0;
  for (const TokenSpan& t : toks) bound += CharKeyBound(c, t.end - t.begin);
  return bound;
}

// Per-thread buffers for the functions below; no allocation once warm.
struct FeatureHashScratch {
  TokenizerScratch tok;
  static constexpr size_t kUtf8Slack = 16;  // bytes of utf8 readable after the last token
  std::string utf8;                         // the tokens' bytes, back to back
  std::vector<uint32_t> offsets;            // byte offset of each code point in utf8
  std::vector<uint32_t> token_off;          // byte offsets of tokens in `utf8` (word pass)
  std::vector<uint32_t> buckets[kNumGroups];
  std::vector<RawFeature> raw;
};

// Extracts the raw hashed features of `text` into scratch->raw, sorted by (group, bucket),
// each bucket once with its count. Keys hashed (bytes, FNV-1a 64):
//   word unigram  'w' token
//   word n-gram   'b' token1 ' ' token2 [' ' token3]   (n = 2..word_ngrams)
//   char n-gram   'c' window of "<token>" of char_min..char_max code points
// where tokens come from Tokenize() and are UTF-8 encoded.
void HashFeatures(const FeaturizerConfig& config, std::string_view text, FeatureHashScratch* s);

// The two halves of HashFeatures' key hashing, for a caller that looks buckets up as it goes
// (Featurizer) rather than counting them.
//
// Tokenizes `text`, leaving in `s` the tokens (s->tok.tokens), their UTF-8 bytes back to back
// (s->utf8, with kUtf8Slack readable bytes after the last token; token i is
// [s->token_off[i], s->token_off[i + 1])) and, when the text is not ASCII, the byte offset of
// each code point (s->offsets); then leaves the bucket of every word key in
// s->buckets[kWordGroup], in key order (by start token, unigram before bigram before trigram),
// with repeats.
void HashWordKeys(const FeaturizerConfig& config, std::string_view text, FeatureHashScratch* s);

// After HashWordKeys: writes the buckets of the character keys of token `token` (by start, then
// length) to out[0, k) and returns k, at most CharKeyBound(config, code points of the token)
// (0 when config.char_min is 0).
// `first_cp` is the index of the token's first code point among all the tokens' code points (the
// sum of the lengths of the tokens before it). Uses s->tok.sanitized as working memory.
size_t HashTokenCharKeys(const FeaturizerConfig& config, size_t token, size_t first_cp,
                         FeatureHashScratch* s, uint32_t* out);

}  // namespace fastintent
