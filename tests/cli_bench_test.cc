// End-to-end tests of `fastintent bench`: refuses unknown labels; its JSON report's fields, checked
// against eval.
#include <gtest/gtest.h>

#include "tests/cli_testing.h"

namespace fastintent::cli_testing {
namespace {

TEST_F(CliTest, BenchRefusesDataWithUnknownLabels) {
  const std::string data =
      Write("other.jsonl", "{\"text\": \"make pasta\", \"label\": \"cooking\"}\n");
  ExpectFailure(Run({"bench", "-m", IntentModel(), data, "--seconds", "0.05"}),
                {data + ":1: label 'cooking' is not one the model knows"});
}

// bench --json reports fastintent's own figures (peers live in bench/): every field present and
// consistent, accuracy as eval counts it with rejection off.
TEST_F(CliTest, BenchJsonReportsFastintentFigures) {
  const std::string model = IntentModel();
  std::vector<Row> rows = IntentRows();
  for (size_t i = 0; i < 12; ++i) rows[i].labels = {"greeting"};  // wrong gold: accuracy < 1
  const std::string data = Write("mislabelled.jsonl", ToJsonl(rows, false));
  const Result r = Run({"bench", "-m", model, data, "--json", "--seconds", "0.05"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  for (const char* key :
       {"accuracy", "featurize_p50_us", "single_p50_us", "single_p90_us", "single_p99_us",
        "single_mean_us", "batch_per_s_1t", "batch_per_s_2t", "peak_rss_mb", "timer_overhead_ns"})
    ASSERT_TRUE(j.contains(key) && j[key].is_number()) << key << " in " << r.out;
  EXPECT_FALSE(j.contains("peers")) << r.out;
  EXPECT_FALSE(j.contains("arithmetic")) << r.out;
  EXPECT_EQ(j["model"], model);
  EXPECT_EQ(j["data"], data);
  EXPECT_EQ(j["examples"], rows.size());
  EXPECT_EQ(j["precision"], "float32");
  EXPECT_FALSE(j["simd_target"].get<std::string>().empty());

  const Result e = Run({"eval", "-m", model, data, "--json"});
  ASSERT_EQ(e.code, 0) << e.err;
  const double accuracy = json::parse(e.out)["accuracy"].get<double>();
  EXPECT_LT(accuracy, 1.0);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), accuracy);

  EXPECT_GT(j["featurize_p50_us"].get<double>(), 0);
  EXPECT_LE(j["single_p50_us"].get<double>(), j["single_p90_us"].get<double>());
  EXPECT_LE(j["single_p90_us"].get<double>(), j["single_p99_us"].get<double>());
  EXPECT_GT(j["batch_per_s_1t"].get<double>(), 0);
  EXPECT_GT(j["batch_per_s_2t"].get<double>(), 0);
  EXPECT_GT(j["peak_rss_mb"].get<double>(), 0);
}

// quantize -o INPUT would replace the float32 model: refused, and the input survives.

}  // namespace
}  // namespace fastintent::cli_testing
