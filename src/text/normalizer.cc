#include "text/normalizer.h"

#include <utf8proc.h>

#include <cstring>

namespace fastintent {

bool SanitizeUtf8(std::string_view text, std::string* out) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  const utf8proc_ssize_t n = utf8proc_ssize_t(text.size());
  utf8proc_ssize_t i = 0;
  bool valid = true;
  int32_t cp;
  while (i < n) {
    utf8proc_ssize_t len = utf8proc_iterate(p + i, n - i, &cp);
    if (len < 0) {
      if (valid) {
        valid = false;
        out->assign(text.data(), size_t(i));
      }
      out->append("\xEF\xBF\xBD");  // U+FFFD
      i += 1;
      continue;
    }
    if (!valid) out->append(text.data() + i, size_t(len));
    i += len;
  }
  return valid;
}

void AppendUtf8(int32_t cp, std::string* out) {
  if (uint32_t(cp) < 0x80) {
    out->push_back(char(cp));
    return;
  }
  utf8proc_uint8_t buf[4];
  utf8proc_ssize_t len = utf8proc_encode_char(cp, buf);
  out->append(reinterpret_cast<const char*>(buf), size_t(len));
}

namespace {

enum class CharClass { kWord, kApostrophe, kSymbol, kSeparator, kNotAscii };

CharClass Classify(int32_t cp) {
  if (cp == 0x27 || cp == 0x2019) return CharClass::kApostrophe;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return CharClass::kWord;
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
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

// Full case folding of an ASCII code point: 'A'..'Z' to 'a'..'z', nothing else.
inline int32_t FoldAscii(int32_t c) { return c + ((uint32_t(c - 'A') < 26u) << 5); }

inline CharClass ClassifyFast(int32_t cp) {
  return uint32_t(cp) < 128 ? kAsciiClass.cls[cp] : Classify(cp);
}

}  // namespace

bool IsAscii(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  unsigned char acc = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ull) return false;
  }
  for (; i < n; ++i) acc |= p[i];
  return acc < 0x80;
}

namespace {

constexpr utf8proc_option_t kNormalizeOptions = utf8proc_option_t(
    UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);

}  // namespace

void Tokenize(std::string_view text, TokenizerScratch* s) {
  auto& cps = s->codepoints;
  utf8proc_ssize_t n;
  if (IsAscii(text)) {
    // Fast path, identical to utf8proc's result for ASCII-only text: ASCII is valid UTF-8; it is
    // already in NFKC; full case folding maps exactly 'A'..'Z' to 'a'..'z' and nothing else; no
    // ASCII code point is default-ignorable; and no two ASCII code points compose (every ASCII
    // code point is a starter with no canonical composition). normalizer_test pins the result.
    if (cps.size() < text.size()) cps.resize(text.size());
    n = utf8proc_ssize_t(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      const int32_t c = static_cast<unsigned char>(text[i]);
      cps[i] = FoldAscii(c);
    }
  } else {
    if (!SanitizeUtf8(text, &s->sanitized)) text = s->sanitized;
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    // Case folding and compatibility decomposition can expand text; retry with the size asked.
    if (cps.size() < text.size() + 16) cps.resize(text.size() + 16);
    n = utf8proc_decompose(p, utf8proc_ssize_t(text.size()), cps.data(),
                           utf8proc_ssize_t(cps.size()), kNormalizeOptions);
    if (n > utf8proc_ssize_t(cps.size())) {
      cps.resize(size_t(n));
      n = utf8proc_decompose(p, utf8proc_ssize_t(text.size()), cps.data(),
                             utf8proc_ssize_t(cps.size()), kNormalizeOptions);
    }
    if (n < 0) n = 0;  // cannot happen on sanitised input; treat as empty rather than fail
    n = utf8proc_normalize_utf32(cps.data(), n, kNormalizeOptions);
    if (n < 0) n = 0;
  }

  // Tokenise in place: word characters are compacted so that dropped apostrophes vanish.
  s->tokens.clear();
  uint32_t write = 0;
  bool in_word = false;
  uint32_t word_begin = 0;
  for (utf8proc_ssize_t i = 0; i < n; ++i) {
    const int32_t cp = cps[size_t(i)];
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
        ClassifyFast(cps[size_t(i + 1)]) == CharClass::kWord) {
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
    if (k == CharClass::kApostrophe && in_word && i + 1 < n && table.cls[p[i + 1]] == CharClass::kWord) continue;
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
