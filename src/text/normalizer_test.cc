// Golden tests of the normaliser (docs/model-format.md, "Normalisation"). What Normalize produces
// is part of the model file format (tokenizer id 1): if one of these expectations has to change,
// every saved model's features change with it, and the format's tokenizer id must be bumped
// instead.
#include "text/normalizer.h"

#include <utf8proc.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace fastintent {
namespace {

const char kFffd[] = "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER in UTF-8

// Sanitises `in` and returns the text to normalise (the input itself when it was valid).
std::string Sanitized(const std::string& in, bool* was_valid = nullptr) {
  std::string out = "<untouched>";
  const bool valid = SanitizeUtf8(in, &out);
  if (was_valid) *was_valid = valid;
  if (valid) {
    EXPECT_EQ(out, "<untouched>") << "SanitizeUtf8 must not write `out` for valid input";
    return in;
  }
  return out;
}

// n copies of U+FFFD.
std::string Fffd(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += kFffd;
  return s;
}

// Strict, independent UTF-8 validator (Unicode 15, table 3-7): true when `s` is well-formed.
bool IsWellFormedUtf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    const unsigned c = p[i];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
      len = 1;
    else if (c >= 0xC2 && c <= 0xDF)
      len = 2;
    else if (c == 0xE0) {
      len = 3;
      lo = 0xA0;
    } else if (c == 0xED) {
      len = 3;
      hi = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF)
      len = 3;
    else if (c == 0xF0) {
      len = 4;
      lo = 0x90;
    } else if (c == 0xF4) {
      len = 4;
      hi = 0x8F;
    } else if (c >= 0xF1 && c <= 0xF3)
      len = 4;
    else
      return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const unsigned b = p[i + k];
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += len;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// SanitizeUtf8: each byte that does not begin a well-formed sequence becomes one U+FFFD.

TEST(SanitizeUtf8Test, ValidInputIsReportedValidAndOutIsUntouched) {
  for (const std::string& s :
       {std::string(""), std::string("plain ascii"), std::string("caf\xC3\xA9 \xE2\x82\xAC"),
        std::string("\xF0\x9F\x98\x80"), std::string("\xF4\x8F\xBF\xBF"),  // U+10FFFF
        std::string("\xEF\xBF\xBF"),                                       // U+FFFF
        std::string("\xEF\xBF\xBD"),                                       // U+FFFD itself
        std::string("nul\0inside", 10)}) {
    bool valid = false;
    EXPECT_EQ(Sanitized(s, &valid), s);
    EXPECT_TRUE(valid) << s;
  }
}

TEST(SanitizeUtf8Test, ReplacementGoldens) {
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      // Stray bytes.
      {"\xFF", Fffd(1)},
      {"\xFE\xFF", Fffd(2)},
      {"\x80", Fffd(1)},  // lone continuation byte
      {"a\x80\x80z", "a" + Fffd(2) + "z"},
      // Truncated multi-byte sequences: each byte of the fragment is replaced.
      {"\xC3", Fffd(1)},
      {"x\xE2\x82y", "x" + Fffd(2) + "y"},
      {"\xE2\x82", Fffd(2)},
      {"\xF0\x9F\x98", Fffd(3)},
      {"ok \xF0\x9F\x98", "ok " + Fffd(3)},
      {"\xE2\x28\xA1", Fffd(1) + "(" + Fffd(1)},  // bad second byte: '(' survives
      // Overlong encodings.
      {"\xC0\x80", Fffd(2)},  // U+0000 in two bytes
      {"\xC0\xAF", Fffd(2)},  // '/' in two bytes
      {"\xC1\xBF", Fffd(2)},
      {"\xE0\x80\xAF", Fffd(3)},
      {"\xE0\x9F\xBF", Fffd(3)},  // U+07FF in three bytes
      {"\xF0\x80\x80\xAF", Fffd(4)},
      {"\xF0\x8F\xBF\xBF", Fffd(4)},  // U+FFFF in four bytes
      // UTF-16 surrogates encoded in UTF-8 (CESU-8 style).
      {"\xED\xA0\x80", Fffd(3)},              // U+D800
      {"\xED\xBF\xBF", Fffd(3)},              // U+DFFF
      {"\xED\xA0\xBD\xED\xB8\x80", Fffd(6)},  // a surrogate pair for U+1F600
      // Beyond U+10FFFF, and bytes that can never appear.
      {"\xF4\x90\x80\x80", Fffd(4)},
      {"\xF5\x80\x80\x80", Fffd(4)},
      {"\xF8\x88\x80\x80\x80", Fffd(5)},
      // Valid text around the damage is kept byte for byte.
      {"h\xC3\xA9llo\xFFw\xC3\xB6rld", "h\xC3\xA9llo" + Fffd(1) + "w\xC3\xB6rld"},
      {"\xE2\x82\xAC\xE2\x82\xE2\x82\xAC", "\xE2\x82\xAC" + Fffd(2) + "\xE2\x82\xAC"},
  };
  for (const Case& c : cases) {
    bool valid = true;
    const std::string got = Sanitized(c.in, &valid);
    EXPECT_FALSE(valid) << testing::PrintToString(c.in);
    EXPECT_EQ(got, c.out) << testing::PrintToString(c.in);
    EXPECT_TRUE(IsWellFormedUtf8(got));
  }
}

TEST(SanitizeUtf8Test, RandomBytesAlwaysGiveWellFormedUtf8) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 2000; ++iter) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = char(rng());
    bool valid = false;
    const std::string out = Sanitized(s, &valid);
    ASSERT_EQ(valid, IsWellFormedUtf8(s)) << testing::PrintToString(s);
    ASSERT_TRUE(IsWellFormedUtf8(out)) << testing::PrintToString(s);
  }
}

// Normalize(text), encoded as UTF-8.
std::string Normalized(std::string_view text) {
  std::string sanitized;
  std::vector<int32_t> cps;
  const size_t n = Normalize(text, &sanitized, &cps);
  EXPECT_LE(n, cps.size());
  std::string out;
  for (size_t i = 0; i < n; ++i) AppendUtf8(cps[i], &out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Normalize: SanitizeUtf8, then NFKC with full case folding, default-ignorables removed.

TEST(NormalizeTest, UnicodeTablesAreTheOnesTheFormatWasFrozenWith) {
  // Tokenizer id 1 is defined with utf8proc's Unicode 15.0 tables (Debian 12's utf8proc 2.8).
  // Another Unicode version changes the categories of some code points and so the features of
  // texts containing them: treat a failure here as a format change, not as a test to update.
  EXPECT_STREQ(utf8proc_unicode_version(), "15.0.0");
}

TEST(NormalizeTest, FullCaseFolding) {
  EXPECT_EQ(Normalized("Stra\xC3\x9F"
                       "e"),
            "strasse");  // ß -> ss
  EXPECT_EQ(Normalized("STRASSE"), "strasse");
  EXPECT_EQ(Normalized("\xCE\xA3\xCE\x91\xCE\xA3"), "\xCF\x83\xCE\xB1\xCF\x83");  // ΣΑΣ -> σασ
  EXPECT_EQ(Normalized("\xCF\x82"), "\xCF\x83");                                  // final ς -> σ
  EXPECT_EQ(Normalized("\xC4\xB0stanbul"), "i\xCC\x87stanbul");       // İ -> i + U+0307
  EXPECT_EQ(Normalized("\xC7\x85 \xC7\x84"), "d\xC5\xBE d\xC5\xBE");  // ǅ Ǆ -> dž
}

TEST(NormalizeTest, NfkcCompatibilityForms) {
  EXPECT_EQ(Normalized("\xEF\xAC\x81nancial \xEF\xAC\x80"), "financial ff");  // ﬁ ﬀ
  // Full-width Latin and digits; the ideographic space becomes U+0020.
  EXPECT_EQ(
      Normalized(
          "\xEF\xBC\xA8\xEF\xBC\xA5\xEF\xBC\xAC\xEF\xBC\xAC\xEF\xBC\xAF\xE3\x80\x80"
          "\xEF\xBD\x97\xEF\xBD\x8F\xEF\xBD\x92\xEF\xBD\x8C\xEF\xBD\x84\xEF\xBC\x91\xEF\xBC\x92"),
      "hello world12");
  // Composition: decomposed and precomposed é give the same code point.
  EXPECT_EQ(Normalized("cafe\xCC\x81 caf\xC3\xA9"), "caf\xC3\xA9 caf\xC3\xA9");
  EXPECT_EQ(Normalized("\xE2\x84\xAB"), "\xC3\xA5");  // ANGSTROM SIGN -> å
  EXPECT_EQ(Normalized("k\xE2\x84\xAA"), "kk");       // KELVIN SIGN -> k
  EXPECT_EQ(Normalized("\xE2\x85\xAB"), "xii");       // Roman numeral XII
  // Half-width katakana ｶ + ﾞ compose to ガ; ㌀ expands to アパート.
  EXPECT_EQ(Normalized("\xEF\xBD\xB6\xEF\xBE\x9E"), "\xE3\x82\xAC");
  EXPECT_EQ(Normalized("\xE3\x8C\x80"), "\xE3\x82\xA2\xE3\x83\x91\xE3\x83\xBC\xE3\x83\x88");
  // ½ -> 1 U+2044 2; ² -> 2.
  EXPECT_EQ(Normalized("\xC2\xBD \xC2\xB2"),
            "1\xE2\x81\x84"
            "2 2");
  // Fullwidth apostrophe U+FF07 becomes U+0027.
  EXPECT_EQ(Normalized("A\xEF\xBC\x87"
                       "B"),
            "a'b");
}

TEST(NormalizeTest, DefaultIgnorablesAreRemoved) {
  // SOFT HYPHEN and ZERO WIDTH SPACE vanish, so their neighbours meet.
  EXPECT_EQ(Normalized("soft\xC2\xAD"
                       "hyphen zero\xE2\x80\x8Bwidth"),
            "softhyphen zerowidth");
  // ZERO WIDTH JOINER inside an emoji sequence.
  EXPECT_EQ(Normalized("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"),
            "\xF0\x9F\x91\xA8\xF0\x9F\x91\xA9");
}

TEST(NormalizeTest, ControlsAndNoncharactersAreKept) {
  EXPECT_EQ(Normalized(std::string("x\0y", 3)), std::string("x\0y", 3));
  EXPECT_EQ(Normalized("\t\n\r\x01"), "\t\n\r\x01");
  EXPECT_EQ(Normalized("\xEF\xBF\xBF"), "\xEF\xBF\xBF");  // U+FFFF
}

TEST(NormalizeTest, InvalidUtf8IsReplacedFirst) {
  EXPECT_EQ(Normalized("x\xE2\x82y"), "x" + Fffd(2) + "y");
  EXPECT_EQ(Normalized("\xED\xA0\x80"), Fffd(3));
  EXPECT_EQ(Normalized("\xFF"
                       "ABC"),
            Fffd(1) + "abc");
}

// ASCII text takes a fast path (FoldAscii per byte) instead of utf8proc. Every ASCII byte, alone
// and followed by U+00A0 NO-BREAK SPACE (NFKC: U+0020), which sends the text through utf8proc,
// must give the same code points.
TEST(NormalizeTest, AsciiFastPathMatchesUtf8proc) {
  for (int b = 0; b < 0x80; ++b) {
    const std::string ascii(1, char(b));
    ASSERT_TRUE(IsAscii(ascii));
    EXPECT_EQ(Normalized(ascii), std::string(1, char(FoldAscii(b)))) << b;
    EXPECT_EQ(Normalized(ascii + "\xC2\xA0"), Normalized(ascii) + " ") << b;
  }
  const std::string text = "What's UP, Doc? 100% C++ <ok>";
  EXPECT_EQ(Normalized(text + "\xC2\xA0"), Normalized(text) + " ");
  EXPECT_EQ(Normalized(text), "what's up, doc? 100% c++ <ok>");
  EXPECT_FALSE(IsAscii("caf\xC3\xA9"));
  EXPECT_FALSE(IsAscii(std::string(17, 'a') + "\x80"));
  EXPECT_TRUE(IsAscii(""));
}

TEST(NormalizeTest, ExpansionLargerThanTheInitialBuffer) {
  // U+FDFA (3 bytes) expands to 18 code points under NFKC: four Arabic words.
  const std::string one = "\xEF\xB7\xBA";
  const std::string expansion =
      "\xD8\xB5\xD9\x84\xD9\x89 \xD8\xA7\xD9\x84\xD9\x84\xD9\x87 "
      "\xD8\xB9\xD9\x84\xD9\x8A\xD9\x87 \xD9\x88\xD8\xB3\xD9\x84\xD9\x85";
  EXPECT_EQ(Normalized(one), expansion);
  std::string many, want;
  for (int i = 0; i < 20000; ++i) {  // 80 KB in, 380 K code points out
    many += one + " ";
    want += expansion + " ";
  }
  std::string sanitized;
  std::vector<int32_t> cps;
  EXPECT_EQ(Normalize(many, &sanitized, &cps), 20000u * 19);
  EXPECT_EQ(Normalized(many), want);
}

TEST(NormalizeTest, ReusedBuffersGiveTheSameResult) {
  std::string sanitized;
  std::vector<int32_t> cps;
  const std::vector<std::string> texts = {
      "What's up?", std::string(5000, 'X') + " \xFF tail", "a", "bad \xFF", "", "\xEF\xB7\xBA",
      "What's up?"};
  for (const std::string& t : texts) {
    const size_t before = cps.size();
    const size_t n = Normalize(t, &sanitized, &cps);
    std::string got;
    for (size_t i = 0; i < n; ++i) AppendUtf8(cps[i], &got);
    EXPECT_EQ(got, Normalized(t)) << t.substr(0, 40);
    EXPECT_GE(cps.size(), before) << "the code point buffer is never shrunk";
  }
}

TEST(AppendUtf8Test, EncodesEveryLength) {
  std::string s;
  AppendUtf8('A', &s);
  AppendUtf8(0xE9, &s);
  AppendUtf8(0x20AC, &s);
  AppendUtf8(0x1F600, &s);
  EXPECT_EQ(s, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace fastintent
