// Tokenisation: normalised text (normalizer.h) split into word and symbol tokens, the input of
// feature hashing (feature_hash.h). Part of the model file format (docs/model-format.md,
// "Tokenisation"): changing the tokens of any input changes every trained model's features, and
// the golden tests in tokenizer_test.cc pin them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fastintent {

// A token: a span [begin, end) of code points in TokenizerScratch::codepoints.
struct TokenSpan {
  uint32_t begin;
  uint32_t end;
};

// Reusable buffers for Tokenize; one per thread. After warm-up, Tokenize does not allocate
// unless a text is longer than any seen before.
struct TokenizerScratch {
  std::string sanitized;            // input with invalid UTF-8 replaced (only when needed)
  std::vector<int32_t> codepoints;  // NFKC + case-folded text, as code points
  std::vector<TokenSpan> tokens;    // word tokens over `codepoints`
};

// Normalises `text` (Normalize(): invalid UTF-8 replaced by U+FFFD, then Unicode NFKC with case
// folding, default-ignorable code points removed) and splits it into word tokens, both left in
// `scratch`:
// - a word is a maximal run of letters, marks and digits (Unicode categories L*, M*, N*);
//   apostrophes (U+0027, U+2019) between word characters are dropped, so "what's" == "whats";
// - every symbol code point (categories S*: "$", "+", emoji) is a one-code-point token ("%"
//   is punctuation, Po, so a separator);
// - everything else (spaces, punctuation, controls) separates tokens and is dropped.
// Never fails: any byte string yields a (possibly empty) token list.
void Tokenize(std::string_view text, TokenizerScratch* scratch);

// Tokenize() of ASCII text, written as bytes: the tokens, lower-cased, back to back in
// (*bytes)[0, token_off->back()), token i being [token_off[i], token_off[i+1]); scratch->tokens
// gets the same spans (a code point is a byte here) and scratch->codepoints is not used. The
// same tokens as Tokenize() (tokenizer_test compares them), without the code points. Returns
// false, with the outputs unspecified, when `text` has a byte >= 0x80: call Tokenize() then.
bool TokenizeAscii(std::string_view text, TokenizerScratch* scratch, std::string* bytes,
                   std::vector<uint32_t>* token_off);

// Convenience for tests and tools: the tokens of `text` as UTF-8 strings.
std::vector<std::string> TokenizeToStrings(std::string_view text);

}  // namespace fastintent
