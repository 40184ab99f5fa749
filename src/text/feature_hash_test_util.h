// Test helpers for feature hashing and what is built on it (feature_hash_test, vocabulary_test,
// featurizer_test): an independent implementation of the hash docs/model-format.md specifies
// ("Feature hashing": local FNV-1a, bucket = hash mod num_buckets), so that tests check the
// specification rather than whatever the code does today, and shorthands for configurations and
// raw features. Test-only; header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "text/feature_hash.h"

namespace fastintent {
namespace testing_util {

// FNV-1a, 64-bit: offset basis 14695981039346656037, prime 1099511628211.
inline uint64_t LocalFnv1a64(const std::string& bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// The bucket of feature key `key` (its bytes: 'w' + token, 'c' + window, ...).
inline uint32_t LocalBucket(const std::string& key, uint32_t num_buckets) {
  return uint32_t(LocalFnv1a64(key) % num_buckets);
}

// Splits UTF-8 text into code points (as UTF-8 strings); the input is known to be valid.
inline std::vector<std::string> CodePoints(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

// HashFeatures of `text` with a fresh scratch.
inline std::vector<RawFeature> Hash(const FeaturizerConfig& c, const std::string& text) {
  FeatureHashScratch s;
  HashFeatures(c, text, &s);
  return s.raw;
}

inline FeaturizerConfig Config(uint32_t num_buckets, uint32_t word_ngrams, uint32_t char_min,
                               uint32_t char_max, uint32_t min_df = 1,
                               CharTf char_tf = CharTf::kPerText) {
  FeaturizerConfig c;
  c.char_tf = char_tf;
  c.num_buckets = num_buckets;
  c.word_ngrams = word_ngrams;
  c.char_min = char_min;
  c.char_max = char_max;
  c.min_df = min_df;
  return c;
}

}  // namespace testing_util
}  // namespace fastintent
