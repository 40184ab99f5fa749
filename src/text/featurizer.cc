#include "text/featurizer.h"

#include <algorithm>
#include <cmath>

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

// Sorts bucket ids and appends each distinct one with its count to `raw`.
void CountInto(std::vector<uint32_t>* buckets, FeatureGroup g, std::vector<RawFeature>* raw) {
  std::sort(buckets->begin(), buckets->end());
  for (size_t i = 0; i < buckets->size();) {
    size_t j = i + 1;
    while (j < buckets->size() && (*buckets)[j] == (*buckets)[i]) ++j;
    raw->push_back({(*buckets)[i], uint32_t(j - i), g});
    i = j;
  }
}

}  // namespace

void HashFeatures(const FeaturizerConfig& c, std::string_view text, FeaturizerScratch* s) {
  Tokenize(text, &s->tok);
  const auto& cps = s->tok.codepoints;
  const auto& toks = s->tok.tokens;
  for (auto& b : s->buckets) b.clear();
  s->raw.clear();
  const uint64_t nb = c.num_buckets;

  // Word n-grams: encode all tokens once, remembering their byte ranges.
  s->utf8.clear();
  s->token_off.clear();
  for (const TokenSpan& t : toks) {
    s->token_off.push_back(uint32_t(s->utf8.size()));
    for (uint32_t i = t.begin; i < t.end; ++i) AppendUtf8(cps[i], &s->utf8);
  }
  s->token_off.push_back(uint32_t(s->utf8.size()));
  auto& wb = s->buckets[kWordGroup];
  const char* u = s->utf8.data();
  for (size_t i = 0; i < toks.size(); ++i) {
    const uint32_t b0 = s->token_off[i], e0 = s->token_off[i + 1];
    wb.push_back(uint32_t(Fnv1a(Fnv1a(kFnvOffset, "w", 1), u + b0, e0 - b0) % nb));
    uint64_t h = Fnv1a(Fnv1a(kFnvOffset, "b", 1), u + b0, e0 - b0);
    for (size_t n = 2; n <= c.word_ngrams && i + n <= toks.size(); ++n) {
      const uint32_t b = s->token_off[i + n - 1], e = s->token_off[i + n];
      h = Fnv1a(Fnv1a(h, " ", 1), u + b, e - b);
      wb.push_back(uint32_t(h % nb));
    }
  }

  // Character n-grams within "<token>".
  if (c.char_min > 0) {
    auto& cb = s->buckets[kCharGroup];
    for (const TokenSpan& t : toks) {
      s->utf8.assign("<");
      s->offsets.clear();
      s->offsets.push_back(0);
      for (uint32_t i = t.begin; i < t.end; ++i) {
        s->offsets.push_back(uint32_t(s->utf8.size()));
        AppendUtf8(cps[i], &s->utf8);
      }
      s->offsets.push_back(uint32_t(s->utf8.size()));
      s->utf8.push_back('>');
      s->offsets.push_back(uint32_t(s->utf8.size()));
      const size_t len = s->offsets.size() - 1;  // code points in "<token>"
      const uint64_t seed = Fnv1a(kFnvOffset, "c", 1);
      for (size_t i = 0; i < len; ++i) {
        for (size_t n = c.char_min; n <= c.char_max && i + n <= len; ++n) {
          const uint32_t b = s->offsets[i], e = s->offsets[i + n];
          cb.push_back(uint32_t(Fnv1a(seed, s->utf8.data() + b, e - b) % nb));
        }
      }
    }
  }
  for (int g = 0; g < kNumGroups; ++g) CountInto(&s->buckets[g], FeatureGroup(g), &s->raw);
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

void Featurizer::Featurize(std::string_view text, FeaturizerScratch* s, FeatureVector* out) const {
  HashFeatures(config_, text, s);
  out->clear();
  double sq[kNumGroups] = {0, 0};
  size_t word_end = 0;  // raw is sorted by group: rows [0, word_end) are word features
  for (const RawFeature& f : s->raw) {
    const uint32_t row = vocab_.RowOf(f.bucket);
    if (row == Vocabulary::kNoRow) continue;
    const float w = (1.0f + std::log(float(f.tf))) * vocab_.Idf(row);
    out->rows.push_back(row);
    out->weights.push_back(w);
    sq[f.group] += double(w) * w;
    if (f.group == kWordGroup) word_end = out->rows.size();
  }
  const size_t group_begin[kNumGroups + 1] = {0, word_end, out->rows.size()};
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
