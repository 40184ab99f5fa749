// End-to-end tests of `fastintent eval`: JSON fields, plain output, unclassifiable texts, unknown
// labels, multi-label metrics.
#include <gtest/gtest.h>

#include "tests/cli_testing.h"

namespace fastintent::cli_testing {
namespace {

TEST_F(CliTest, EvalJsonFields) {
  const std::string model = IntentModel();
  const std::string data = Path("intents.jsonl");
  const Result r = Run({"eval", "-m", model, data, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["examples"], 120);
  const double accuracy = j["accuracy"].get<double>();
  EXPECT_GE(accuracy, 0.9);
  EXPECT_LE(accuracy, 1.0);
  EXPECT_GT(j["macro_f1"].get<double>(), 0.85);
  EXPECT_EQ(j["unclassifiable"], 0);
  EXPECT_FALSE(j.contains("micro_f1"));  // multi-label only
  ASSERT_TRUE(j["per_label"].is_array());
  ASSERT_EQ(j["per_label"].size(), 4u);
  double right = 0;
  int support = 0;
  std::set<std::string> labels;
  for (const json& l : j["per_label"]) {
    EXPECT_EQ(Keys(l), (std::set<std::string>{"label", "precision", "recall", "f1", "support"}))
        << l.dump();
    labels.insert(l["label"].get<std::string>());
    EXPECT_EQ(l["support"], 30);
    support += l["support"].get<int>();
    right += l["recall"].get<double>() * l["support"].get<double>();
  }
  EXPECT_EQ(labels, (std::set<std::string>{"weather", "music", "alarm", "greeting"}));
  EXPECT_EQ(support, 120);
  EXPECT_NEAR(accuracy, right / 120, 1e-9);  // single-label accuracy = sum of true positives / n
  ASSERT_TRUE(j.contains("calibrated"));
  EXPECT_TRUE(j["calibrated"].contains("accuracy"));
  EXPECT_TRUE(j["calibrated"].contains("threshold"));
}

TEST_F(CliTest, EvalPlainAndUnclassifiable) {
  const std::string model = IntentModel();
  const std::string data = Write("eval.jsonl",
                                 "{\"text\": \"will it snow\", \"label\": \"weather\"}\n"
                                 "{\"text\": \"\", \"label\": \"music\"}\n");
  Result r = Run({"eval", "-m", model, data});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("accuracy 50.00%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 texts had no known feature"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("precision"), std::string::npos) << r.out;
  r = Run({"eval", "-m", model, data, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["unclassifiable"], 1);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.5);
}

TEST_F(CliTest, EvalUnknownLabelNamesFileLineAndLabel) {
  const std::string model = IntentModel();
  const std::string data = Write("eval.jsonl",
                                 "{\"text\": \"will it snow\", \"label\": \"weather\"}\n"
                                 "{\"text\": \"make pasta\", \"label\": \"cooking\"}\n");
  ExpectFailure(Run({"eval", "-m", model, data}), {data + ":2:", "'cooking'"});
}

TEST_F(CliTest, MultiLabelEvalHasExactMatchAndMicroF1) {
  const std::string model = ComponentModel();
  const Result r = Run({"eval", "-m", model, Path("components.jsonl"), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["examples"], 180);
  EXPECT_TRUE(j.contains("exact_match"));
  EXPECT_TRUE(j.contains("micro_f1"));
  EXPECT_GT(j["micro_f1"].get<double>(), 0.8);
  EXPECT_EQ(j["oos_examples"], 30);  // the empty-set commands
}

}  // namespace
}  // namespace fastintent::cli_testing
