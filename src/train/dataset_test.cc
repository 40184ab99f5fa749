// Tests of ReadDataset: the three input formats, their quoting and line-ending corner cases,
// and that every error names the file and the line at fault.
#include "train/dataset.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "text/featurizer.h"

namespace fastintent {
namespace {

using Labels = std::vector<std::string>;

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fi_dataset_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `content` byte for byte to dir/name and returns the path.
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Reads a file expected to be valid.
  Dataset Read(const std::string& name, const std::string& content) {
    auto ds = ReadDataset(Write(name, content));
    EXPECT_TRUE(ds.ok()) << ds.status().message();
    return ds.ok() ? *ds : Dataset{};
  }

  // Reads a file expected to fail; checks the message starts with "<path>:<line>: " and
  // contains `what`.
  void ExpectError(const std::string& name, const std::string& content, size_t line,
                   const std::string& what) {
    const std::string path = Write(name, content);
    auto ds = ReadDataset(path);
    ASSERT_FALSE(ds.ok()) << name << " was accepted";
    const std::string& msg = ds.status().message();
    const std::string prefix = path + ":" + std::to_string(line) + ": ";
    EXPECT_EQ(msg.rfind(prefix, 0), 0u)
        << "message does not start with '" << prefix << "': " << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "message lacks '" << what << "': " << msg;
    EXPECT_EQ(ds.status().code(), StatusCode::kInvalidArgument) << msg;
  }

  std::string dir_;
};

// ---------------------------------------------------------------------------------------------
// JSON Lines

TEST_F(DatasetTest, JsonlSingleLabelWithExtraFieldsBlankLinesAndCrlf) {
  const Dataset ds =
      Read("a.jsonl",
           "{\"text\": \"turn on the lights\", \"label\": \"lights\", \"id\": 7, \"meta\": {\"x\": "
           "[1]}}\r\n"
           "\r\n"
           "   \t \n"
           "{\"label\": \"music\", \"text\": \"play jazz\"}\r\n"
           "{\"text\": \"caf\\u00e9 \\\"quoted\\\"\", \"label\": \"food\"}");  // no final newline
  ASSERT_EQ(ds.examples.size(), 3u);
  EXPECT_FALSE(ds.multi_label);
  EXPECT_EQ(ds.examples[0].text, "turn on the lights");
  EXPECT_EQ(ds.examples[0].labels, Labels{"lights"});
  EXPECT_EQ(ds.examples[0].line, 1u);
  EXPECT_EQ(ds.examples[1].text, "play jazz");  // no '\r' left over
  EXPECT_EQ(ds.examples[1].labels, Labels{"music"});
  EXPECT_EQ(ds.examples[1].line, 4u);  // blank lines are skipped but still counted
  EXPECT_EQ(ds.examples[2].text, "caf\xc3\xa9 \"quoted\"");
  EXPECT_EQ(ds.examples[2].line, 5u);
}

TEST_F(DatasetTest, JsonlLabelsListIsMultiLabelAndMayBeEmpty) {
  const Dataset ds =
      Read("m.jsonl",
           "{\"text\": \"read my screen aloud\", \"labels\": [\"vision\", \"voice\"]}\n"
           "{\"text\": \"never mind\", \"labels\": []}\n"
           "{\"text\": \"free up ram\", \"labels\": [\"memory\"]}\n");
  ASSERT_EQ(ds.examples.size(), 3u);
  EXPECT_TRUE(ds.multi_label);
  EXPECT_EQ(ds.examples[0].labels, (Labels{"vision", "voice"}));
  EXPECT_TRUE(ds.examples[1].labels.empty());
  EXPECT_EQ(ds.examples[2].labels, Labels{"memory"});
}

TEST_F(DatasetTest, OneLabelsRowMakesTheWholeFileMultiLabelAndIsRemembered) {
  const Dataset ds = Read("mix.jsonl",
                          "{\"text\": \"a\", \"label\": \"x\"}\n"
                          "{\"text\": \"b\", \"labels\": [\"y\"]}\n");
  EXPECT_TRUE(ds.multi_label);
  EXPECT_EQ(ds.multi_label_line, 2u);  // `train` names it
  EXPECT_EQ(Read("single.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n").multi_label_line, 0u);
  EXPECT_EQ(Read("ft.txt", "__label__a one\n\n__label__a __label__b two\n").multi_label_line, 3u);
}

TEST_F(DatasetTest, JsonWithAByteOrderMarkIsSniffedToo) {
  const Dataset ds = Read("bom.txt", "\xEF\xBB\xBF{\"text\": \"hello\", \"label\": \"greet\"}\n");
  ASSERT_EQ(ds.examples.size(), 1u);
  EXPECT_EQ(ds.examples[0].labels, Labels{"greet"});
}

TEST_F(DatasetTest, JsonIsSniffedFromContentWithoutExtension) {
  const Dataset ds = Read("data.txt", "\n  {\"text\": \"hello\", \"label\": \"greet\"}\n");
  ASSERT_EQ(ds.examples.size(), 1u);
  EXPECT_EQ(ds.examples[0].text, "hello");
  EXPECT_EQ(ds.examples[0].labels, Labels{"greet"});
  EXPECT_EQ(ds.examples[0].line, 2u);
}

TEST_F(DatasetTest, JsonlErrorsNameFileAndLine) {
  const std::string ok = "{\"text\": \"fine\", \"label\": \"a\"}\n";
  ExpectError("e1.jsonl", ok + "\n{\"label\": \"a\"}\n", 3, "missing \"text\"");
  ExpectError("e2.jsonl", ok + "{\"text\": \"x\", \"label\": \"a\"\n", 2,
              "malformed JSON at byte 27: unexpected end of input");
  // A number beyond double's range (nlohmann reports it as out_of_range, not a parse error).
  ExpectError("e4.jsonl", "{\"text\": \"x\", \"label\": \"a\", \"score\": 1e999}\n", 1,
              "malformed JSON: number overflow parsing '1e999'");
  // Invalid UTF-8 is named as the cause, and the offending bytes are not echoed.
  ExpectError("e3.jsonl", "{\"text\": \"caf\xC3(\", \"label\": \"a\"}\n", 1,
              "malformed JSON at byte 15: invalid string: ill-formed UTF-8 byte");
  ExpectError("e3.jsonl", ok + ok + "[1, 2]\n", 3, "expected a JSON object");
  ExpectError("e4.jsonl", "{\"text\": 5, \"label\": \"a\"}\n", 1, "\"text\" is not a string");
  ExpectError("e5.jsonl", ok + "{\"text\": \"x\"}\n", 2, "missing \"label\" or \"labels\"");
  ExpectError("e6.jsonl", ok + "{\"text\": \"x\", \"label\": [\"a\"]}\n", 2,
              "\"label\" is not a string");
  ExpectError("e7.jsonl", ok + "{\"text\": \"x\", \"labels\": \"a\"}\n", 2,
              "\"labels\" is not an array");
  ExpectError("e8.jsonl", ok + "{\"text\": \"x\", \"labels\": [\"a\", 3]}\n", 2, "non-string");
  ExpectError("e9.jsonl", ok + "{\"text\": \"x\", \"label\": \"\"}\n", 2, "empty label");
  // Line numbers keep counting across CRLF and blank lines.
  ExpectError("e10.jsonl",
              ok + "\r\n\r\n" + ok + "{\"text\": \"x\", \"label\": \"a\"} trailing\r\n", 5,
              "malformed JSON");
}

TEST_F(DatasetTest, MissingFileIsNotFoundAndNamesThePath) {
  const std::string path = dir_ + "/does_not_exist.jsonl";
  auto ds = ReadDataset(path);
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().code(), StatusCode::kNotFound);
  EXPECT_NE(ds.status().message().find(path), std::string::npos) << ds.status().message();
}

TEST_F(DatasetTest, DirectoryIsAnErrorThatSaysSo) {
  auto ds = ReadDataset(dir_);
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ds.status().message(), dir_ + ": is a directory");
}

TEST_F(DatasetTest, EmptyFileIsAnEmptyDataset) {
  const Dataset ds = Read("empty.jsonl", "");
  EXPECT_TRUE(ds.examples.empty());
  // Blank lines only, format sniffed from content (found by dataset_fuzz: the sniffing read
  // past the end of a blank line).
  EXPECT_TRUE(Read("blank.txt", " ").examples.empty());
  EXPECT_TRUE(Read("blank2.txt", "\n \t\r\n  ").examples.empty());
}

// ---------------------------------------------------------------------------------------------
// CSV

TEST_F(DatasetTest, CsvQuotingAndHeaderInAnyOrder) {
  const Dataset ds = Read("a.csv",
                          "id,label,text,notes\n"
                          "1,weather,\"is it cold, or warm?\",x\n"
                          "2,quote,\"she said \"\"hi\"\" to me\",\n"
                          "3,plain,no quotes here,\"n, o\"\n");
  ASSERT_EQ(ds.examples.size(), 3u);
  EXPECT_FALSE(ds.multi_label);
  EXPECT_EQ(ds.examples[0].text, "is it cold, or warm?");
  EXPECT_EQ(ds.examples[0].labels, Labels{"weather"});
  EXPECT_EQ(ds.examples[0].line, 2u);
  EXPECT_EQ(ds.examples[1].text, "she said \"hi\" to me");
  EXPECT_EQ(ds.examples[1].labels, Labels{"quote"});
  EXPECT_EQ(ds.examples[2].text, "no quotes here");
  EXPECT_EQ(ds.examples[2].labels, Labels{"plain"});
  EXPECT_EQ(ds.examples[2].line, 4u);
}

TEST_F(DatasetTest, CsvMultiLineQuotedFieldKeepsLineNumbersRight) {
  const Dataset ds = Read("ml.csv",
                          "text,label\r\n"
                          "\"first line\r\n"
                          "\r\n"
                          "third line, with comma\",multi\r\n"
                          "after,single\r\n");
  ASSERT_EQ(ds.examples.size(), 2u);
  EXPECT_EQ(ds.examples[0].text, "first line\n\nthird line, with comma");
  EXPECT_EQ(ds.examples[0].labels, Labels{"multi"});
  EXPECT_EQ(ds.examples[0].line, 2u);  // the line the record starts on
  EXPECT_EQ(ds.examples[1].text, "after");
  EXPECT_EQ(ds.examples[1].labels, Labels{"single"});
  EXPECT_EQ(ds.examples[1].line, 5u);
}

TEST_F(DatasetTest, CsvErrorsNameFileAndLine) {
  ExpectError("h1.csv", "text,category\nhello,greet\n", 1, "\"text\" and \"label\"");
  ExpectError("h2.csv", "utterance,label\nhello,greet\n", 1, "\"text\" and \"label\"");
  ExpectError("f.csv", "text,label\nhello,greet\nonly one field\n", 3, "CSV fields");
  ExpectError("q.csv", "text,label\nhello,greet\n\"never closed,greet\nmore\n", 3, "unterminated");
  ExpectError("l.csv", "text,label\nhello,greet\nbye,\n", 3, "empty label");
  // A multi-line record before the error must not throw the count off.
  ExpectError("m.csv", "text,label\n\"a\nb\",x\nno label column\n", 4, "CSV fields");
  // An unquoted comma in the text would shift the label column: more fields than the header.
  ExpectError("c.csv", "text,label\nhello,greet\nwhat is the weather, please,weather\n", 3,
              "expected 2 CSV fields (as in the header), got 3");
  ExpectError("x.csv", "text,label\nhello,greet,extra\n", 2, "got 3");
  ExpectError("j.csv", "text,label\n\"hello\"x,greet\n", 2, "text after the closing quote");
}

TEST_F(DatasetTest, TextsOverTheLimitAreErrorsInEveryFormat) {
  const std::string at_limit(kMaxTextBytes, 'a'), over(kMaxTextBytes + 1, 'a');
  const Dataset ok = Read("ok.txt", "__label__x " + at_limit + "\n");
  ASSERT_EQ(ok.examples.size(), 1u);
  EXPECT_EQ(ok.examples[0].text.size(), kMaxTextBytes);
  const std::string what = "text too long: " + std::to_string(kMaxTextBytes + 1) +
                           " bytes (at most " + std::to_string(kMaxTextBytes) + ")";
  ExpectError("t.jsonl",
              "{\"text\":\"hi\",\"label\":\"x\"}\n{\"text\":\"" + over + "\",\"label\":\"x\"}\n", 2,
              what);
  ExpectError("t.csv", "text,label\n" + over + ",x\n", 2, what);
  ExpectError("t.txt", "__label__x " + over + "\n", 1, what);
}

// ---------------------------------------------------------------------------------------------
// fastText

TEST_F(DatasetTest, FastTextSingleAndMultipleLabels) {
  const Dataset single = Read("s.txt",
                              "__label__greet hello there\n"
                              "\n"
                              "__label__bye\tsee you later\r\n");
  ASSERT_EQ(single.examples.size(), 2u);
  EXPECT_FALSE(single.multi_label);
  EXPECT_EQ(single.examples[0].labels, Labels{"greet"});
  EXPECT_EQ(single.examples[0].text, "hello there");
  EXPECT_EQ(single.examples[1].labels, Labels{"bye"});
  EXPECT_EQ(single.examples[1].text, "see you later");
  EXPECT_EQ(single.examples[1].line, 3u);

  const Dataset multi =
      Read("m.ft", "__label__vision __label__voice  read my screen aloud\n__label__voice speak\n");
  ASSERT_EQ(multi.examples.size(), 2u);
  EXPECT_TRUE(multi.multi_label);
  EXPECT_EQ(multi.examples[0].labels, (Labels{"vision", "voice"}));
  EXPECT_EQ(multi.examples[0].text, "read my screen aloud");
}

TEST_F(DatasetTest, FastTextErrorsNameFileAndLine) {
  ExpectError("n.txt", "__label__a fine\nno label here\n", 2, "__label__");
  ExpectError("e.txt", "__label__a fine\n\n__label__ empty label\n", 3, "empty label");
}

}  // namespace
}  // namespace fastintent
