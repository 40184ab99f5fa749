// Tests of the /v1/classify and /v1/route codec (server/v1_api.h) on bytes, without HTTP: valid
// requests, every error it documents (exact messages, in the order they are checked) and the
// exact bytes of both responses.
#include "server/v1_api.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "testing/tiny_model.h"

namespace fastintent::server {
namespace {

// Its labels sort as alarm (0), music (1), weather (2); softmax.
const std::shared_ptr<const Model>& TinyModel() {
  static const std::shared_ptr<const Model> m = [] {
    auto trained = fastintent::testing::TrainTinyKeywordModel({"weather", "music", "alarm"});
    EXPECT_TRUE(trained.ok()) << trained.status().message();
    return std::make_shared<const Model>(std::move(trained).value());
  }();
  return m;
}

// weather (HIGH, 10 MB) depends on alarm (CORE, 5 MB); music is LOW, 20 MB.
ComponentRegistry TinyRegistry() {
  auto r = ComponentRegistry::FromModelMetadata(fastintent::testing::kTinyComponents, "tiny.fim");
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(r).value();
}

TEST(V1ApiTest, ParsesOneTextOrSeveral) {
  StatusOr<V1TextsRequest> r = ParseV1Texts(R"({"text":"rain today"})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->single);
  EXPECT_EQ(r->texts.texts, std::vector<std::string>{"rain today"});
  EXPECT_EQ(r->texts.k, 1);
  EXPECT_LT(r->texts.threshold, 0);

  r = ParseV1Texts(R"({"texts":["a",""],"k":100000,"threshold":1})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->single);
  EXPECT_EQ(r->texts.texts,
            (std::vector<std::string>{"a", ""}));  // an empty text is the engine's to judge
  EXPECT_EQ(r->texts.k, 100000);
  EXPECT_FLOAT_EQ(r->texts.threshold, 1.0f);
  // Options count only at the top level here; a "parameters" object is ignored.
  r = ParseV1Texts(R"({"text":"a","parameters":{"k":0},"threshold":0})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->texts.k, 1);
  EXPECT_FLOAT_EQ(r->texts.threshold, 0.0f);
}

TEST(V1ApiTest, EveryMalformedRequestGetsItsMessage) {
  const struct {
    std::string body;
    std::string message;
  } kCases[] = {
      {"{not json", "request body: malformed JSON at byte 3: invalid literal"},
      {"[]", "request body must be a JSON object"},
      {"{}", "give either \"text\" (a string) or \"texts\" (an array of strings)"},
      {R"({"text":"a","texts":["b"]})",
       "give either \"text\" (a string) or \"texts\" (an array of strings)"},
      {R"({"text":5})", "\"text\" must be a string"},
      {R"({"text":null})", "\"text\" must be a string"},
      {R"({"texts":"a"})", "\"texts\" must be an array of strings"},
      {R"({"texts":["a",1]})", "\"texts\" must hold strings only"},
      {R"({"texts":[["a"]]})", "\"texts\" must hold strings only"},
      {R"({"texts":[]})", "no texts to classify"},
      {R"({"text":"a","k":0})", "\"k\" must be a positive integer"},
      {R"({"text":"a","k":100001})", "\"k\" must be a positive integer"},
      {R"({"text":"a","k":-3})", "\"k\" must be a positive integer"},
      {R"({"text":"a","k":18446744073709551615})", "\"k\" must be a positive integer"},
      {R"({"text":"a","k":1.0})", "\"k\" must be a positive integer"},
      {R"({"text":"a","k":"2"})", "\"k\" must be a positive integer"},
      {R"({"text":"a","threshold":-0.1})", "\"threshold\" must be a number in [0, 1]"},
      {R"({"text":"a","threshold":1.01})", "\"threshold\" must be a number in [0, 1]"},
      {R"({"text":"a","threshold":"0.5"})", "\"threshold\" must be a number in [0, 1]"},
      // The order of the checks: the texts' types first, then the options, then their count.
      {R"({"text":5,"k":0})", "\"text\" must be a string"},
      {R"({"texts":[],"k":0})", "\"k\" must be a positive integer"},
      {R"({"texts":[],"k":1,"threshold":2})", "\"threshold\" must be a number in [0, 1]"},
  };
  for (const auto& c : kCases) {
    StatusOr<V1TextsRequest> r = ParseV1Texts(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(r.status().message(), c.message) << c.body;
  }
}

// A classified result with every probability (alarm, music, weather) and its top-k labels.
InferenceResult Classified(std::vector<float> probs, std::vector<LabelScore> labels) {
  InferenceResult r;
  r.model = TinyModel();
  r.probabilities = std::move(probs);
  r.labels = std::move(labels);
  return r;
}

InferenceResult Unclassified() {
  InferenceResult r;
  r.status = InvalidArgument("empty text: nothing to classify");
  return r;
}

TEST(V1ApiTest, WritesClassifyItems) {
  V1TextsRequest single;
  single.single = true;
  EXPECT_EQ(
      WriteV1Classify(single, {Classified({0.25f, 0.125f, 0.625f}, {{2, 0.625f}, {0, 0.25f}})}),
      R"({"labels":[{"label":"weather","prob":0.625},{"label":"alarm","prob":0.25}]})");
  // Rejected by the threshold: no labels, no error.
  EXPECT_EQ(WriteV1Classify(single, {Classified({0.25f, 0.125f, 0.625f}, {})}), R"({"labels":[]})");
  EXPECT_EQ(WriteV1Classify(single, {Unclassified()}),
            R"({"error":"empty text: nothing to classify","labels":[]})");
  const V1TextsRequest several;
  EXPECT_EQ(WriteV1Classify(several, {Classified({0.5f, 0.25f, 0.25f}, {{0, 0.5f}}), Unclassified(),
                                      Classified({0.125f, 0.75f, 0.125f}, {{1, 0.75f}})}),
            R"({"results":[{"labels":[{"label":"alarm","prob":0.5}]},)"
            R"({"error":"empty text: nothing to classify","labels":[]},)"
            R"({"labels":[{"label":"music","prob":0.75}]}]})");
}

TEST(V1ApiTest, WritesRoutedItemsAtTheRequestsThreshold) {
  const ComponentRegistry registry = TinyRegistry();
  V1TextsRequest single;
  single.single = true;
  single.texts.threshold = 0.5f;
  // weather is the best label and reaches 0.5; it pulls in alarm (its dependency, with alarm's
  // own probability), which as CORE comes first.
  const std::string weather_and_alarm =
      R"({"components":[)"
      R"({"confidence":0.25,"dependency":true,"load_ms":1,"memory_mb":5,"name":"alarm",)"
      R"("priority":"CORE"},)"
      R"({"confidence":0.625,"dependency":false,"load_ms":1,"memory_mb":10,"name":"weather",)"
      R"("priority":"HIGH"}],)"
      R"("total_memory_mb":15})";
  EXPECT_EQ(WriteV1Route(single, {Classified({0.25f, 0.125f, 0.625f}, {{2, 0.625f}})}, registry),
            weather_and_alarm);
  single.texts.threshold = 0.75f;
  EXPECT_EQ(WriteV1Route(single, {Classified({0.25f, 0.125f, 0.625f}, {})}, registry),
            R"({"components":[],"total_memory_mb":0})");
  // A text that was not classified keeps the fields of a routed item.
  V1TextsRequest several;
  several.texts.threshold = 0.5f;
  EXPECT_EQ(
      WriteV1Route(several,
                   {Classified({0.25f, 0.125f, 0.625f}, {{2, 0.625f}}), Unclassified(),
                    Classified({0.125f, 0.75f, 0.125f}, {{1, 0.75f}})},
                   registry),
      R"({"results":[)" + weather_and_alarm +
          R"(,{"components":[],"error":"empty text: nothing to classify","total_memory_mb":0},)"
          R"({"components":[{"confidence":0.75,"dependency":false,"load_ms":1,"memory_mb":20,)"
          R"("name":"music","priority":"LOW"}],)"
          R"("total_memory_mb":20}]})");
}

// After a reload the registry may be the next model's: labels it does not know are not routed.
TEST(V1ApiTest, LabelsThatAreNotComponentsAreNotRouted) {
  auto music_only = ComponentRegistry::Parse(
      R"({"components":[{"name":"music","priority":"LOW","memory_mb":20,"load_ms":1,)"
      R"("depends_on":[],"description":""}]})",
      "registry.json");
  ASSERT_TRUE(music_only.ok()) << music_only.status().message();
  V1TextsRequest single;
  single.single = true;
  single.texts.threshold = 0.5f;
  EXPECT_EQ(WriteV1Route(single, {Classified({0.25f, 0.125f, 0.625f}, {{2, 0.625f}})}, *music_only),
            R"({"components":[],"total_memory_mb":0})");
}

}  // namespace
}  // namespace fastintent::server
