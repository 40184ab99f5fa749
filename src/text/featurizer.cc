#include "text/featurizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "text/appender.h"

namespace fastintent {

void FeaturizerScratch::ReleaseTextBuffers() {
  tok = TokenizerScratch();
  std::string().swap(utf8);
  for (std::vector<uint32_t>* v :
       {&offsets, &token_off, &buckets[0], &buckets[1], &tf, &token_keys})
    std::vector<uint32_t>().swap(*v);
  std::vector<RawFeature>().swap(raw);
  std::vector<Slot>().swap(table);
  generation = 0;
}

Status TextTooLong(size_t bytes) {
  return InvalidArgument("text too long: " + std::to_string(bytes) + " bytes (at most " +
                         std::to_string(kMaxTextBytes) + ")");
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
  float operator()(uint32_t tf) const {
    return tf < kSize ? value[tf] : 1.0f + std::log(float(tf));
  }
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

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "token keys are read as little-endian words");

__attribute__((always_inline)) inline TokenSlot LocateToken(const FeaturizerConfig& c,
                                                            FeaturizerScratch* s, size_t ti) {
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
  const auto low_bytes = [](size_t n) {
    return n >= 8 ? ~uint64_t(0) : (uint64_t(1) << (8 * n)) - 1;
  };
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
size_t TokenCharRows(const FeaturizerConfig& c, const Vocabulary& vocab, FeaturizerScratch* s,
                     size_t ti, size_t first_cp) {
  const size_t ncp = s->tok.tokens[ti].end - s->tok.tokens[ti].begin;
  Appender<uint32_t> keys(&s->token_keys, CharKeyBound(c, ncp));
  keys.Skip(HashTokenCharKeys(c, ti, first_cp, s, s->token_keys.data()));
  uint32_t* k = s->token_keys.data();
  size_t known = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint32_t row = vocab.RowOf(k[i]);
    k[known] = row;
    known += row != Vocabulary::kNoRow;
  }
  return known;
}

// Leaves in s->buckets[kCharGroup] the known rows of the character keys of the tokens
// HashWordKeys left in `s`, in key order (unknown keys dropped). A short ASCII token's rows come
// from the scratch's token cache, filled on a miss. Inlined into Featurize (and so into its
// POPCNT clone).
__attribute__((always_inline)) inline void CharRows(const FeaturizerConfig& c,
                                                    const Vocabulary& vocab, FeaturizerScratch* s) {
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
__attribute__((always_inline)) inline size_t DistinctRows(const uint32_t* rows, size_t n,
                                                          const Vocabulary& vocab,
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
__attribute__((always_inline)) inline size_t TokenEntries(
    const FeaturizerConfig& c, const Vocabulary& vocab, FeaturizerScratch* s, size_t n,
    uint32_t* row_out, float* w_out, std::vector<CharSpan>* spans, double* sq) {
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
      const size_t m =
          DistinctRows(s->token_keys.data(), known, vocab, s, row_out + n, w_out + n, tf);
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
  HashWordKeys(config_, text, s);
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
      const size_t m = DistinctRows(keys.data(), keys.size(), vocab_, s, row_out + n,
                                    weight_out + n, s->tf.data() + n);
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
