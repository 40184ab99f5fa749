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

size_t Normalize(std::string_view text, std::string* sanitized, std::vector<int32_t>* codepoints) {
  std::vector<int32_t>& cps = *codepoints;
  if (IsAscii(text)) {
    // Fast path, identical to utf8proc's result for ASCII-only text: ASCII is valid UTF-8; it is
    // already in NFKC; full case folding maps exactly 'A'..'Z' to 'a'..'z' and nothing else; no
    // ASCII code point is default-ignorable; and no two ASCII code points compose (every ASCII
    // code point is a starter with no canonical composition). normalizer_test pins the result.
    if (cps.size() < text.size()) cps.resize(text.size());
    for (size_t i = 0; i < text.size(); ++i)
      cps[i] = FoldAscii(static_cast<unsigned char>(text[i]));
    return text.size();
  }
  if (!SanitizeUtf8(text, sanitized)) text = *sanitized;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  // Case folding and compatibility decomposition can expand text; retry with the size asked.
  if (cps.size() < text.size() + 16) cps.resize(text.size() + 16);
  utf8proc_ssize_t n = utf8proc_decompose(p, utf8proc_ssize_t(text.size()), cps.data(),
                                          utf8proc_ssize_t(cps.size()), kNormalizeOptions);
  if (n > utf8proc_ssize_t(cps.size())) {
    cps.resize(size_t(n));
    n = utf8proc_decompose(p, utf8proc_ssize_t(text.size()), cps.data(),
                           utf8proc_ssize_t(cps.size()), kNormalizeOptions);
  }
  if (n < 0) n = 0;  // cannot happen on sanitised input; treat as empty rather than fail
  n = utf8proc_normalize_utf32(cps.data(), n, kNormalizeOptions);
  if (n < 0) n = 0;
  return size_t(n);
}

}  // namespace fastintent
