#include "text/tokenizer.h"

#include <utf8proc.h>

#include <cstddef>
#include <utility>

#include "text/normalizer.h"

namespace fastintent {

namespace {

enum class CharClass { kWord, kApostrophe, kSymbol, kSeparator, kNotAscii };

CharClass Classify(int32_t cp) {
  if (cp == 0x27 || cp == 0x2019) return CharClass::kApostrophe;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kWord;
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
      return CharClass::kSymbol;
    default:
      return CharClass::kSeparator;
  }
}

// Classify() of every ASCII code point, computed once from the same utf8proc tables, by byte
// (kNotAscii for bytes >= 0x80).
struct AsciiClassTable {
  CharClass cls[256];
  AsciiClassTable() {
    for (int32_t b = 0; b < 256; ++b) cls[b] = b < 128 ? Classify(b) : CharClass::kNotAscii;
  }
};
const AsciiClassTable kAsciiClass;

inline CharClass ClassifyFast(int32_t cp) {
  return uint32_t(cp) < 128 ? kAsciiClass.cls[cp] : Classify(cp);
}

}  // namespace

void Tokenize(std::string_view text, TokenizerScratch* s) {
  std::vector<int32_t>& cps = s->codepoints;
  const size_t n = Normalize(text, &s->sanitized, &cps);

  // Tokenise in place: word characters are compacted so that dropped apostrophes vanish.
  s->tokens.clear();
  uint32_t write = 0;
  bool in_word = false;
  uint32_t word_begin = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t cp = cps[i];
    const CharClass c = ClassifyFast(cp);
    if (c == CharClass::kWord) {
      if (!in_word) {
        in_word = true;
        word_begin = write;
      }
      cps[write++] = cp;
      continue;
    }
    if (c == CharClass::kApostrophe && in_word && i + 1 < n &&
        ClassifyFast(cps[i + 1]) == CharClass::kWord) {
      continue;  // "what's" -> "whats"
    }
    if (in_word) {
      s->tokens.push_back({word_begin, write});
      in_word = false;
    }
    if (c == CharClass::kSymbol) {
      cps[write] = cp;
      s->tokens.push_back({write, write + 1});
      ++write;
    }
  }
  if (in_word) s->tokens.push_back({word_begin, write});
}

bool TokenizeAscii(std::string_view text, TokenizerScratch* s, std::string* bytes,
                   std::vector<uint32_t>* token_off) {
  const AsciiClassTable& table = kAsciiClass;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  if (bytes->size() < n) bytes->resize(n);
  if (token_off->size() < n + 1) token_off->resize(n + 1);
  char* out = bytes->data();
  uint32_t* off = token_off->data();
  uint32_t len = 0, count = 0;
  bool in_word = false;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = p[i];
    const CharClass k = table.cls[c];
    if (k == CharClass::kWord) {
      if (!in_word) off[count++] = len;
      in_word = true;
      out[len++] = char(FoldAscii(c));
      continue;
    }
    // "what's" -> "whats", as in Tokenize.
    if (k == CharClass::kApostrophe && in_word && i + 1 < n &&
        table.cls[p[i + 1]] == CharClass::kWord)
      continue;
    if (k == CharClass::kNotAscii) return false;
    in_word = false;
    if (k == CharClass::kSymbol) {
      off[count++] = len;
      out[len++] = char(c);
    }
  }
  off[count] = len;
  token_off->resize(count + 1);
  s->tokens.resize(count);
  for (uint32_t t = 0; t < count; ++t) s->tokens[t] = {off[t], off[t + 1]};
  return true;
}

std::vector<std::string> TokenizeToStrings(std::string_view text) {
  TokenizerScratch s;
  Tokenize(text, &s);
  std::vector<std::string> out;
  for (const TokenSpan& t : s.tokens) {
    std::string w;
    for (uint32_t i = t.begin; i < t.end; ++i) AppendUtf8(s.codepoints[i], &w);
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace fastintent
