// End-to-end tests of `fastintent predict`: JSON and plain output, top-k, thresholds, stdin, bad
// and huge input.
#include <gtest/gtest.h>

#include "tests/cli_testing.h"

namespace fastintent::cli_testing {
namespace {

TEST_F(CliTest, PredictJsonShapeIsExact) {
  const std::string model = IntentModel();
  const Result r = Run({"predict", "-m", model, "--json", "will it snow tonight"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const json& j = lines[0];
  EXPECT_EQ(Keys(j), (std::set<std::string>{"text", "labels"})) << j.dump();
  EXPECT_EQ(j["text"], "will it snow tonight");
  ASSERT_TRUE(j["labels"].is_array());
  ASSERT_EQ(j["labels"].size(), 1u) << j.dump();  // --k defaults to 1
  EXPECT_EQ(Keys(j["labels"][0]), (std::set<std::string>{"label", "prob"}));
  EXPECT_EQ(j["labels"][0]["label"], "weather");
  EXPECT_TRUE(j["labels"][0]["prob"].is_number_float());
  EXPECT_GT(j["labels"][0]["prob"].get<double>(), 0.25);
  EXPECT_LE(j["labels"][0]["prob"].get<double>(), 1.0);
}

TEST_F(CliTest, PredictTopKBestFirst) {
  const std::string model = IntentModel();
  const Result r =
      Run({"predict", "-m", model, "--json", "--k", "3", "play some jazz tonight", "good morning"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["labels"][0]["label"], "music");
  EXPECT_EQ(lines[1]["labels"][0]["label"], "greeting");
  for (const json& j : lines) {
    ASSERT_EQ(j["labels"].size(), 3u) << j.dump();
    std::set<std::string> distinct;
    double sum = 0;
    for (size_t i = 0; i < 3; ++i) {
      distinct.insert(j["labels"][i]["label"].get<std::string>());
      sum += j["labels"][i]["prob"].get<double>();
      if (i > 0) {
        EXPECT_GE(j["labels"][i - 1]["prob"].get<double>(), j["labels"][i]["prob"].get<double>())
            << j.dump();
      }
    }
    EXPECT_EQ(distinct.size(), 3u);
    EXPECT_LT(sum, 1.0 + 1e-5);  // softmax: three of four probabilities
  }
  // More than the model has: every label once.
  const Result all = Run({"predict", "-m", model, "--json", "--k", "10", "hello"});
  ASSERT_EQ(all.code, 0);
  EXPECT_EQ(JsonLines(all.out).at(0)["labels"].size(), 4u);
}

TEST_F(CliTest, PredictThresholdZeroNeverRejects) {
  const std::string model = IntentModel();
  const std::vector<std::string> texts = {"will it snow", "play the radio and set an alarm",
                                          "qz hello xv"};
  // Softmax with label smoothing never reaches probability 1: threshold 1 rejects everything...
  std::vector<std::string> args = {"predict", "-m", model, "--json", "--threshold", "1"};
  args.insert(args.end(), texts.begin(), texts.end());
  Result r = Run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), texts.size());
  for (const json& j : lines) EXPECT_TRUE(j["labels"].empty()) << j.dump();
  // ...and threshold 0 rejects nothing.
  args[5] = "0";
  r = Run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), texts.size());
  for (const json& j : lines) EXPECT_EQ(j["labels"].size(), 1u) << j.dump();
  // Plain output of a rejection.
  r = Run({"predict", "-m", model, "--threshold", "1", "will it snow"});
  EXPECT_EQ(r.out, "(none)\n");
  // Out of range is a usage error.
  r = Run({"predict", "-m", model, "--threshold", "1.5", "hi"});
  EXPECT_NE(r.code, 0);
}

TEST_F(CliTest, PredictReadsStdinLinesWhenNoText) {
  const std::string model = IntentModel();
  const Result r =
      Run({"predict", "-m", model, "--json"}, "will it rain\r\nskip this song\ncancel my alarm\n");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0]["text"], "will it rain");  // CR stripped
  EXPECT_EQ(lines[0]["labels"][0]["label"], "weather");
  EXPECT_EQ(lines[1]["text"], "skip this song");
  EXPECT_EQ(lines[1]["labels"][0]["label"], "music");
  EXPECT_EQ(lines[2]["labels"][0]["label"], "alarm");
}

TEST_F(CliTest, PredictPlainOutput) {
  const std::string model = IntentModel();
  Result r = Run({"predict", "-m", model, "hi there", "set an alarm for six"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line1, line2;
  std::getline(in, line1);
  std::getline(in, line2);
  EXPECT_EQ(line1.rfind("greeting 0.", 0), 0u) << r.out;
  EXPECT_EQ(line1.size(), std::string("greeting 0.1234").size()) << r.out;
  EXPECT_EQ(line2.rfind("alarm 0.", 0), 0u) << r.out;
  r = Run({"predict", "-m", model, "--k", "2", "hi there"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("greeting 0.", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("  "), std::string::npos) << "two labels separated by two spaces: " << r.out;
}

TEST_F(CliTest, PredictEmptyLineIsReportedAndTheRestAnswered) {
  const std::string model = IntentModel();
  Result r = Run({"predict", "-m", model, "--json"}, "will it snow\n\nhello there\n");
  EXPECT_EQ(r.code, 2) << r.err;
  std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_FALSE(lines[0].contains("error"));
  EXPECT_EQ(lines[0]["labels"][0]["label"], "weather");
  ASSERT_TRUE(lines[1].contains("error")) << lines[1].dump();
  EXPECT_TRUE(lines[1]["error"].is_string());
  EXPECT_NE(lines[1]["error"].get<std::string>().find("empty"), std::string::npos)
      << lines[1].dump();
  EXPECT_EQ(lines[1]["text"], "");
  EXPECT_TRUE(lines[1]["labels"].empty());
  EXPECT_EQ(lines[2]["labels"][0]["label"], "greeting");

  r = Run({"predict", "-m", model}, "will it snow\n\nhello there\n");
  EXPECT_EQ(r.code, 2);
  std::istringstream in(r.out);
  std::string l1, l2, l3;
  std::getline(in, l1);
  std::getline(in, l2);
  std::getline(in, l3);
  EXPECT_EQ(l1.rfind("weather ", 0), 0u) << r.out;
  EXPECT_EQ(l2.rfind("(error: ", 0), 0u) << r.out;
  EXPECT_EQ(l3.rfind("greeting ", 0), 0u) << r.out;
}

TEST_F(CliTest, PredictInvalidUtf8IsAnswered) {
  const std::string model = IntentModel();
  const std::string input =
      "play some \xff\xfe jazz\n\xc3\x28 hello there\nwill it rain \xe2\x82\n";
  Result r = Run({"predict", "-m", model, "--json"}, input);
  EXPECT_EQ(r.code, 0) << r.err;
  const std::vector<json> lines = JsonLines(r.out);  // valid JSON (so valid UTF-8) throughout
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0]["labels"][0]["label"], "music");
  EXPECT_EQ(lines[1]["labels"][0]["label"], "greeting");
  EXPECT_EQ(lines[2]["labels"][0]["label"], "weather");
  for (const json& j : lines) EXPECT_TRUE(j["text"].is_string());
  r = Run({"predict", "-m", model}, input);
  EXPECT_EQ(r.code, 0) << r.err;
}

// A line of 1 MiB (kMaxTextBytes) is classified; one byte more is refused with a clear error on
// that line alone, and the lines around it are answered.
TEST_F(CliTest, PredictOneMegabyteLine) {
  const std::string model = IntentModel();
  std::string big;
  while (big.size() + 15 <= (1u << 20)) big += "play some jazz ";
  big.resize(1u << 20, ' ');
  Result r = Run({"predict", "-m", model, "--json"}, big + "\nhello\n");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["text"].get<std::string>().size(), big.size());
  EXPECT_EQ(lines[0]["labels"][0]["label"], "music");
  EXPECT_EQ(lines[1]["labels"][0]["label"], "greeting");
  // One 1 MB word.
  r = Run({"predict", "-m", model, "--json"}, std::string(1u << 20, 'x') + "\n");
  EXPECT_LE(r.code, 2) << r.err;
  EXPECT_EQ(JsonLines(r.out).size(), 1u);
  // Over the limit.
  r = Run({"predict", "-m", model, "--json"}, "hello\n" + big + "x\nplay some jazz\n");
  EXPECT_EQ(r.code, 2) << r.err;
  const std::vector<json> three = JsonLines(r.out);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[0]["labels"][0]["label"], "greeting");
  EXPECT_EQ(three[1]["labels"], json::array());
  EXPECT_EQ(three[1]["error"], "text too long: 1048577 bytes (at most 1048576)");
  EXPECT_EQ(three[2]["labels"][0]["label"], "music");
}

}  // namespace
}  // namespace fastintent::cli_testing
