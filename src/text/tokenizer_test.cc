// Golden tests of the tokenizer (docs/model-format.md, "Tokenisation"). What Tokenize produces
// is part of the model file format (tokenizer id 1): if one of these expectations has to change,
// every saved model's features change with it, and the format's tokenizer id must be bumped
// instead.
#include "text/tokenizer.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "text/normalizer.h"

namespace fastintent {
namespace {

using Tokens = std::vector<std::string>;

const char kFffd[] = "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER in UTF-8

TEST(TokenizeTest, LowercasesAndSplitsOnSpacesAndPunctuation) {
  EXPECT_EQ(TokenizeToStrings("Hello, World!"), (Tokens{"hello", "world"}));
  EXPECT_EQ(TokenizeToStrings("  set an alarm\tfor 7am\n"),
            (Tokens{"set", "an", "alarm", "for", "7am"}));
  EXPECT_EQ(
      TokenizeToStrings("hello, world! (ok) a-b a_b a.b a/b \"q\" #tag @user"),
      (Tokens{"hello", "world", "ok", "a", "b", "a", "b", "a", "b", "a", "b", "q", "tag", "user"}));
  EXPECT_EQ(TokenizeToStrings("3.14 e-mail"), (Tokens{"3", "14", "e", "mail"}));
  // '%' is punctuation (Po), not a symbol: dropped.
  EXPECT_EQ(TokenizeToStrings("100%"), (Tokens{"100"}));
}

TEST(TokenizeTest, ApostrophesInsideWordsAreDropped) {
  EXPECT_EQ(TokenizeToStrings("what's"), (Tokens{"whats"}));
  EXPECT_EQ(TokenizeToStrings("What\xE2\x80\x99s up"), (Tokens{"whats", "up"}));  // U+2019
  EXPECT_EQ(TokenizeToStrings("rock'n'roll"), (Tokens{"rocknroll"}));
  EXPECT_EQ(TokenizeToStrings("l'\xC3\xA9t\xC3\xA9"), (Tokens{"l\xC3\xA9t\xC3\xA9"}));
  EXPECT_EQ(TokenizeToStrings("50\xE2\x80\x99s"), (Tokens{"50s"}));
  // Fullwidth apostrophe U+FF07 becomes U+0027 under NFKC, then is dropped.
  EXPECT_EQ(TokenizeToStrings("A\xEF\xBC\x87"
                              "B"),
            (Tokens{"ab"}));
  // Only between word characters: at the edges, or doubled, it separates.
  EXPECT_EQ(TokenizeToStrings("its' 'tis"), (Tokens{"its", "tis"}));
  EXPECT_EQ(TokenizeToStrings("don''t"), (Tokens{"don", "t"}));
  EXPECT_EQ(TokenizeToStrings("a\xE2\x80\x99\xE2\x80\x99"
                              "b"),
            (Tokens{"a", "b"}));
  EXPECT_EQ(TokenizeToStrings("'quoted'"), (Tokens{"quoted"}));
  // U+2018 is an opening quote, not an apostrophe.
  EXPECT_EQ(TokenizeToStrings("it\xE2\x80\x98s"), (Tokens{"it", "s"}));
  // U+02BC MODIFIER LETTER APOSTROPHE is a letter (Lm): kept inside the word.
  EXPECT_EQ(TokenizeToStrings("don\xCA\xBCt"), (Tokens{"don\xCA\xBCt"}));
}

// Normalisation comes first (normalizer_test pins it): what it produces is tokenized like any text.
TEST(TokenizeTest, TokenizesTheNormalisedText) {
  EXPECT_EQ(TokenizeToStrings("Stra\xC3\x9F"
                              "e STRASSE"),
            (Tokens{"strasse", "strasse"}));
  // ﬁ; full-width "HI", an ideographic space and a full-width "1".
  EXPECT_EQ(TokenizeToStrings("\xEF\xAC\x81nancial "
                              "\xEF\xBC\xA8\xEF\xBC\xA9\xE3\x80\x80\xEF\xBC\x91"),
            (Tokens{"financial", "hi", "1"}));
  // ½ -> 1 U+2044 2; the fraction slash is a math symbol, so it is a token of its own.
  EXPECT_EQ(TokenizeToStrings("\xC2\xBD \xC2\xB2"), (Tokens{"1", "\xE2\x81\x84", "2", "2"}));
  // Default-ignorables vanish and join their neighbours; between two emoji, the ZERO WIDTH
  // JOINER leaves two symbols.
  EXPECT_EQ(TokenizeToStrings("soft\xC2\xAD"
                              "hyphen zero\xE2\x80\x8Bwidth"),
            (Tokens{"softhyphen", "zerowidth"}));
  EXPECT_EQ(TokenizeToStrings("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"),
            (Tokens{"\xF0\x9F\x91\xA8", "\xF0\x9F\x91\xA9"}));
}

TEST(TokenizeTest, SymbolsAreOneCodePointTokens) {
  EXPECT_EQ(TokenizeToStrings("$5 + 3% = \xE2\x82\xAC"),
            (Tokens{"$", "5", "+", "3", "=", "\xE2\x82\xAC"}));
  EXPECT_EQ(TokenizeToStrings("I \xF0\x9F\x98\x80 emoji"),
            (Tokens{"i", "\xF0\x9F\x98\x80", "emoji"}));
  EXPECT_EQ(TokenizeToStrings("\xF0\x9F\x98\x80\xF0\x9F\x98\x80"),
            (Tokens{"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"}));
  EXPECT_EQ(TokenizeToStrings("C++"), (Tokens{"c", "+", "+"}));
  EXPECT_EQ(TokenizeToStrings("^`~|<>"), (Tokens{"^", "`", "~", "|", "<", ">"}));
  EXPECT_EQ(TokenizeToStrings("5$"), (Tokens{"5", "$"}));
}

TEST(TokenizeTest, LettersMarksAndNumbersOfAnyScriptAreWordCharacters) {
  EXPECT_EQ(
      TokenizeToStrings(
          "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88"),
      (Tokens{
          "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88"}));
  EXPECT_EQ(TokenizeToStrings("\xCC\x81"
                              "a"),
            (Tokens{"\xCC\x81"
                    "a"}));  // a leading combining mark
  EXPECT_EQ(TokenizeToStrings("\xD9\xA3\xD9\xA4"),
            (Tokens{"\xD9\xA3\xD9\xA4"}));  // Arabic-Indic digits ٣٤
}

TEST(TokenizeTest, ControlsUnassignedAndPrivateUseSeparate) {
  EXPECT_EQ(TokenizeToStrings(std::string("x\0y", 3)), (Tokens{"x", "y"}));
  EXPECT_EQ(TokenizeToStrings("\t\n\r\x01"), Tokens{});
  EXPECT_EQ(TokenizeToStrings("a\xCD\xB8"
                              "b"),
            (Tokens{"a", "b"}));  // U+0378 unassigned
  EXPECT_EQ(TokenizeToStrings("a\xEE\x80\x80"
                              "b"),
            (Tokens{"a", "b"}));                           // U+E000 private use
  EXPECT_EQ(TokenizeToStrings("\xEF\xBF\xBF"), Tokens{});  // U+FFFF noncharacter
}

TEST(TokenizeTest, InvalidUtf8BecomesReplacementSymbols) {
  // U+FFFD is a symbol (So): each replaced byte is a token of its own.
  EXPECT_EQ(TokenizeToStrings("bad \xFF\xFE bytes"), (Tokens{"bad", kFffd, kFffd, "bytes"}));
  EXPECT_EQ(TokenizeToStrings("x\xE2\x82y"), (Tokens{"x", kFffd, kFffd, "y"}));
  EXPECT_EQ(TokenizeToStrings("\xED\xA0\x80"), (Tokens{kFffd, kFffd, kFffd}));
  EXPECT_EQ(TokenizeToStrings("\xC0\x80"), (Tokens{kFffd, kFffd}));
  // An invalid byte inside a word splits it.
  EXPECT_EQ(TokenizeToStrings("wo\x80rd"), (Tokens{"wo", kFffd, "rd"}));
}

TEST(TokenizeTest, EmptyAndBlankTextGiveNoTokens) {
  EXPECT_EQ(TokenizeToStrings(""), Tokens{});
  EXPECT_EQ(TokenizeToStrings("   "), Tokens{});
  EXPECT_EQ(TokenizeToStrings("?!.,;:"), Tokens{});
  TokenizerScratch s;
  Tokenize("", &s);
  EXPECT_TRUE(s.tokens.empty());
}

TEST(TokenizeTest, TokenSpansIndexTheNormalisedCodePoints) {
  TokenizerScratch s;
  Tokenize("Hi, \xC3\x89T\xC3\x89!", &s);  // "Hi, ÉTÉ!"
  ASSERT_EQ(s.tokens.size(), 2u);
  EXPECT_EQ(s.tokens[0].begin, 0u);
  EXPECT_EQ(s.tokens[0].end, 2u);
  EXPECT_EQ(s.tokens[1].begin, 2u);  // spans are compacted: separators are not kept
  EXPECT_EQ(s.tokens[1].end, 5u);
  const std::vector<int32_t> expected = {'h', 'i', 0xE9, 't', 0xE9};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(s.codepoints[i], expected[i]) << i;
}

TEST(TokenizeTest, ScratchReuseGivesTheSameTokens) {
  TokenizerScratch s;
  auto tokens_of = [&](const std::string& text) {
    Tokenize(text, &s);
    Tokens out;
    for (const TokenSpan& t : s.tokens) {
      std::string w;
      for (uint32_t i = t.begin; i < t.end; ++i) AppendUtf8(s.codepoints[i], &w);
      out.push_back(w);
    }
    return out;
  };
  const std::string long_text = std::string(5000, 'x') + " \xFF tail";
  const std::vector<std::string> texts = {"What's up?", long_text,      "a",         "bad \xFF",
                                          "",           "\xEF\xB7\xBA", "What's up?"};
  for (const std::string& t : texts)
    EXPECT_EQ(tokens_of(t), TokenizeToStrings(t)) << t.substr(0, 40);
}

TEST(TokenizeTest, ExpandingTextLargerThanTheInitialBuffer) {
  // U+FDFA (3 bytes) expands to 18 code points under NFKC: four Arabic words.
  const std::string one = "\xEF\xB7\xBA";
  const Tokens words = {"\xD8\xB5\xD9\x84\xD9\x89", "\xD8\xA7\xD9\x84\xD9\x84\xD9\x87",
                        "\xD8\xB9\xD9\x84\xD9\x8A\xD9\x87", "\xD9\x88\xD8\xB3\xD9\x84\xD9\x85"};
  EXPECT_EQ(TokenizeToStrings(one), words);
  // The expansion has no space at its ends: two copies back to back share a word.
  EXPECT_EQ(TokenizeToStrings(one + one).size(), 7u);
  // Back to back, the last word of one copy and the first of the next would merge: separate them.
  std::string many;
  for (int i = 0; i < 20000; ++i) many += one + " ";  // 80 KB in, 380 K code points out
  const Tokens t = TokenizeToStrings(many);
  ASSERT_EQ(t.size(), 4u * 20000);
  for (size_t i = 0; i < t.size(); ++i) ASSERT_EQ(t[i], words[i % 4]) << i;
}

TEST(TokenizeTest, OneMegabyteText) {
  const std::string unit = "Hello world, what's up? ";
  std::string text;
  while (text.size() < (1u << 20)) text += unit;
  const size_t reps = text.size() / unit.size();
  const Tokens t = TokenizeToStrings(text);
  ASSERT_EQ(t.size(), 4 * reps);
  const Tokens expected = {"hello", "world", "whats", "up"};
  for (size_t i = 0; i < t.size(); ++i) ASSERT_EQ(t[i], expected[i % 4]) << i;

  // One 1 MB word.
  const Tokens word = TokenizeToStrings(std::string(1u << 20, 'A'));
  ASSERT_EQ(word.size(), 1u);
  EXPECT_EQ(word[0], std::string(1u << 20, 'a'));
}

TEST(TokenizeTest, OneMegabyteOfRandomBytesNeverCrashes) {
  std::mt19937 rng(1234);
  std::string text(1u << 20, '\0');
  for (char& c : text) c = char(rng());
  const Tokens t = TokenizeToStrings(text);
  EXPECT_FALSE(t.empty());
  for (const std::string& tok : t) {
    ASSERT_FALSE(tok.empty());
    std::string unused;
    ASSERT_TRUE(SanitizeUtf8(tok, &unused)) << "not UTF-8: " << testing::PrintToString(tok);
    ASSERT_EQ(TokenizeToStrings(tok), Tokens{tok}) << "a token must re-tokenise to itself";
  }
}

TEST(TokenizeTest, RandomShortByteStringsNeverCrash) {
  std::mt19937 rng(99);
  TokenizerScratch s;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text(rng() % 24, '\0');
    // Bias towards bytes that form (or almost form) multi-byte sequences and symbols.
    for (char& c : text) {
      const uint32_t r = rng();
      c = char((r & 3) == 0   ? 0x80 | (r >> 8 & 0x3F)
               : (r & 3) == 1 ? 0xC0 | (r >> 8 & 0x3F)
                              : r >> 8);
    }
    Tokenize(text, &s);
    for (const TokenSpan& t : s.tokens) {
      ASSERT_LT(t.begin, t.end);
      ASSERT_LE(t.end, s.codepoints.size());
    }
  }
}

// TokenizeAscii against Tokenize on every ASCII class in every position: random strings over an
// alphabet of letters of both cases, digits, apostrophes, symbols, punctuation, spaces and
// controls, with one pair of scratches reused throughout (long texts first, then short).
TEST(TokenizeAsciiTest, SameTokensAsTokenize) {
  const std::string alphabet = "aZq09'''  \t\n$<>+^`|~=.,!?-_()\"#%&*/:;@[]{}\x01\x7F";
  std::mt19937 rng(7);
  TokenizerScratch ref, fast;
  std::string bytes;
  std::vector<uint32_t> off;
  std::vector<std::string> texts = {"",
                                    " ",
                                    "what's",
                                    "'s",
                                    "s'",
                                    "don't's",
                                    "a''b",
                                    "x'$",
                                    "$'x",
                                    "Hello, World!",
                                    std::string(70, 'A') + "'s"};
  for (int i = 0; i < 20000; ++i) {
    std::string t(i < 100 ? 200 + rng() % 300 : rng() % 20, ' ');
    for (char& c : t) c = alphabet[rng() % alphabet.size()];
    texts.push_back(t);
  }
  for (const std::string& text : texts) {
    ASSERT_TRUE(IsAscii(text));
    Tokenize(text, &ref);
    ASSERT_TRUE(TokenizeAscii(text, &fast, &bytes, &off));
    ASSERT_EQ(off.size(), ref.tokens.size() + 1) << text;
    ASSERT_EQ(fast.tokens.size(), ref.tokens.size()) << text;
    for (size_t k = 0; k < ref.tokens.size(); ++k) {
      std::string want;
      for (uint32_t i = ref.tokens[k].begin; i < ref.tokens[k].end; ++i)
        AppendUtf8(ref.codepoints[i], &want);
      ASSERT_EQ(bytes.substr(off[k], off[k + 1] - off[k]), want) << text;
      ASSERT_EQ(fast.tokens[k].begin, off[k]);
      ASSERT_EQ(fast.tokens[k].end, off[k + 1]);
    }
  }
  EXPECT_FALSE(IsAscii("caf\xC3\xA9"));
  for (const char* text : {"caf\xC3\xA9", "\xFF", "ok \x80", "\xC3\xA9t\xC3\xA9"})
    EXPECT_FALSE(TokenizeAscii(text, &fast, &bytes, &off)) << text;
}

}  // namespace
}  // namespace fastintent
