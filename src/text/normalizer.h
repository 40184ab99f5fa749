// Text normalisation: the first step of the featuriser (then tokenizer.h, feature_hash.h), and
// part of the model file format (docs/model-format.md, "Normalisation"). Changing what these
// functions produce for any input changes every trained model's features: the golden tests in
// normalizer_test.cc pin it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fastintent {

// Replaces ill-formed UTF-8 in `text` with U+FFFD: one U+FFFD for every byte that does not
// start a well-formed sequence (so "E2 82 41" becomes U+FFFD U+FFFD "A"; docs/model-format.md).
// Returns true when `text` was already valid (then `out` is untouched).
bool SanitizeUtf8(std::string_view text, std::string* out);

// Normalises `text`: invalid UTF-8 replaced by U+FFFD (SanitizeUtf8), then Unicode NFKC with
// full case folding, default-ignorable code points removed (utf8proc 2.8, Unicode 15.0 tables).
// Leaves the result in (*codepoints)[0, n) and returns n. *codepoints is grown when too small and
// never shrunk, so it may be longer than n: once warm, Normalize allocates only for a text longer
// than any seen before. *sanitized is working memory (the sanitised copy of an invalid text).
// Never fails: any byte string gives a (possibly empty) result.
size_t Normalize(std::string_view text, std::string* sanitized, std::vector<int32_t>* codepoints);

// True when every byte of `text` is ASCII (< 0x80). Normalize() of such a text is FoldAscii() of
// each byte.
bool IsAscii(std::string_view text);

// The normalisation of ASCII code point `c` (< 0x80): 'A'..'Z' to 'a'..'z', the rest unchanged.
inline int32_t FoldAscii(int32_t c) { return c + ((uint32_t(c - 'A') < 26u) << 5); }

// Appends the UTF-8 encoding of code point `cp` to `out`.
void AppendUtf8(int32_t cp, std::string* out);

}  // namespace fastintent
