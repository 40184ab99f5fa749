// Tests of the component registry (parsing and its errors) and of Route (dependencies,
// priority order, confidences, memory), including the assistant's real registry.
#include "router/router.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "model/network.h"

namespace fastintent {
namespace {

// Route only needs the model's labels, output kind and threshold: a model with no weights.
Model FakeModel(std::vector<std::string> labels, OutputKind kind, float threshold) {
  return Model(Featurizer(), Network(), std::move(labels), kind, threshold, "");
}

StatusOr<ComponentRegistry> ParseComponents(const std::string& components) {
  return ComponentRegistry::Parse("{\"components\": [" + components + "]}", "reg.json");
}

// Expects Parse to fail with InvalidArgument and a message naming the source and `what`.
void ExpectParseError(const std::string& json, const std::string& what) {
  StatusOr<ComponentRegistry> reg = InvalidArgument("not run");
  ASSERT_NO_THROW(reg = ComponentRegistry::Parse(json, "reg.json")) << json;
  ASSERT_FALSE(reg.ok()) << "accepted: " << json;
  EXPECT_EQ(reg.status().code(), StatusCode::kInvalidArgument);
  const std::string& msg = reg.status().message();
  EXPECT_EQ(msg.rfind("reg.json: ", 0), 0u) << msg;
  EXPECT_NE(msg.find(what), std::string::npos) << "lacks '" << what << "': " << msg;
}

std::string Comp(const std::string& name, const std::string& priority,
                 const std::string& deps = "") {
  return "{\"name\": \"" + name + "\", \"priority\": \"" + priority + "\", \"depends_on\": [" +
         deps + "]}";
}

TEST(RegistryTest, ParsesAllFields) {
  auto reg = ComponentRegistry::Parse(R"({"components": [
      {"name": "voice", "priority": "CORE", "memory_mb": 100, "load_ms": 80, "depends_on": [], "description": "speech"},
      {"name": "wake_word", "priority": "HIGH", "memory_mb": 120, "load_ms": 150, "depends_on": ["voice"]},
      {"name": "monitoring", "priority": "MEDIUM", "memory_mb": 30},
      {"name": "ml", "priority": "LOW"}]})",
                                      "reg.json");
  ASSERT_TRUE(reg.ok()) << reg.status().message();
  ASSERT_EQ(reg->components().size(), 4u);
  const Component* voice = reg->Find("voice");
  ASSERT_NE(voice, nullptr);
  EXPECT_EQ(voice->priority, Priority::kCore);
  EXPECT_EQ(voice->memory_mb, 100);
  EXPECT_EQ(voice->load_ms, 80);
  EXPECT_EQ(voice->description, "speech");
  EXPECT_TRUE(voice->depends_on.empty());
  const Component* wake = reg->Find("wake_word");
  ASSERT_NE(wake, nullptr);
  EXPECT_EQ(wake->priority, Priority::kHigh);
  EXPECT_EQ(wake->depends_on, std::vector<std::string>{"voice"});
  EXPECT_EQ(reg->Find("monitoring")->priority, Priority::kMedium);
  EXPECT_EQ(reg->Find("ml")->priority, Priority::kLow);
  EXPECT_EQ(reg->Find("ml")->memory_mb, 0);
  EXPECT_EQ(reg->Find("nope"), nullptr);
}

TEST(RegistryTest, ToJsonRoundTrips) {
  auto reg = ParseComponents(Comp("a", "CORE") + "," + Comp("b", "MEDIUM", "\"a\""));
  ASSERT_TRUE(reg.ok()) << reg.status().message();
  auto again = ComponentRegistry::Parse(reg->ToJson(), "round trip");
  ASSERT_TRUE(again.ok()) << again.status().message();
  ASSERT_EQ(again->components().size(), 2u);
  EXPECT_EQ(again->components()[0].name, "a");
  EXPECT_EQ(again->components()[1].name, "b");
  EXPECT_EQ(again->components()[1].priority, Priority::kMedium);
  EXPECT_EQ(again->components()[1].depends_on, std::vector<std::string>{"a"});
}

TEST(RegistryTest, PriorityNames) {
  EXPECT_STREQ(PriorityName(Priority::kCore), "CORE");
  EXPECT_STREQ(PriorityName(Priority::kHigh), "HIGH");
  EXPECT_STREQ(PriorityName(Priority::kMedium), "MEDIUM");
  EXPECT_STREQ(PriorityName(Priority::kLow), "LOW");
}

TEST(RegistryTest, ParseErrorsNameTheSourceAndTheProblem) {
  ExpectParseError("{\"components\": [", "malformed JSON");
  ExpectParseError("[]", "\"components\" array");
  ExpectParseError("{\"components\": {}}", "\"components\" array");
  ExpectParseError("{\"components\": [{\"priority\": \"CORE\"}]}", "\"name\"");
  ExpectParseError("{\"components\": [" + Comp("a", "URGENT") + "]}", "unknown priority 'URGENT'");
  ExpectParseError("{\"components\": [" + Comp("a", "core") + "]}", "unknown priority 'core'");
  ExpectParseError("{\"components\": [" + Comp("a", "CORE", "\"ghost\"") + "]}",
                   "depends on unknown 'ghost'");
  ExpectParseError("{\"components\": [" + Comp("a", "CORE") + "," + Comp("a", "LOW") + "]}",
                   "duplicate component 'a'");
  ExpectParseError("{\"components\": [" + Comp("a", "CORE", "\"a\"") + "]}", "cycle");
  ExpectParseError("{\"components\": [" + Comp("a", "CORE", "\"b\"") + "," +
                       Comp("b", "CORE", "\"c\"") + "," + Comp("c", "CORE", "\"a\"") + "]}",
                   "cycle");
  ExpectParseError("{\"components\": [{\"name\": \"a\", \"depends_on\": \"b\"}]}", "depends_on");
  ExpectParseError("{\"components\": [{\"name\": \"a\", \"depends_on\": [1]}]}", "depends_on");
}

TEST(RegistryTest, NonStringPriorityIsAnErrorNotAnException) {
  ExpectParseError("{\"components\": [{\"name\": \"a\", \"priority\": 1}]}", "priority");
}

TEST(RegistryTest, SharedDependencyIsNotACycle) {
  // A diamond: d <- b <- a, d <- c <- a.
  auto reg = ParseComponents(Comp("a", "LOW", "\"b\", \"c\"") + "," + Comp("b", "LOW", "\"d\"") +
                             "," + Comp("c", "LOW", "\"d\"") + "," + Comp("d", "CORE"));
  EXPECT_TRUE(reg.ok()) << reg.status().message();
}

// ---------------------------------------------------------------------------------------------
// Route

class RouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reg = ComponentRegistry::Parse(R"({"components": [
        {"name": "voice", "priority": "CORE", "memory_mb": 100},
        {"name": "vision", "priority": "HIGH", "memory_mb": 300},
        {"name": "wake_word", "priority": "HIGH", "memory_mb": 120, "depends_on": ["voice"]},
        {"name": "voice_unlock", "priority": "MEDIUM", "memory_mb": 80, "depends_on": ["voice"]},
        {"name": "ml", "priority": "LOW", "memory_mb": 200},
        {"name": "x", "priority": "LOW", "memory_mb": 1, "depends_on": ["y"]},
        {"name": "y", "priority": "MEDIUM", "memory_mb": 2, "depends_on": ["z"]},
        {"name": "z", "priority": "CORE", "memory_mb": 4}]})",
                                        "test registry");
    ASSERT_TRUE(reg.ok()) << reg.status().message();
    registry_ = std::move(*reg);
  }

  // Routes `probs` given by label name (missing labels get 0) with a sigmoid model over
  // `labels`.
  RouteResult RouteSigmoid(const std::vector<std::string>& labels,
                           const std::map<std::string, float>& probs, float threshold,
                           float model_threshold = 0.5f) {
    model_ = std::make_unique<Model>(FakeModel(labels, OutputKind::kSigmoid, model_threshold));
    std::vector<float> p(labels.size(), 0.0f);
    for (size_t i = 0; i < labels.size(); ++i)
      if (auto it = probs.find(labels[i]); it != probs.end()) p[i] = it->second;
    return Route(*model_, registry_, p, threshold);
  }

  static std::vector<std::string> Names(const RouteResult& r) {
    std::vector<std::string> names;
    for (const RoutedComponent& c : r.components) names.push_back(c.component->name);
    return names;
  }

  static const RoutedComponent* Get(const RouteResult& r, const std::string& name) {
    for (const RoutedComponent& c : r.components)
      if (c.component->name == name) return &c;
    return nullptr;
  }

  ComponentRegistry registry_;
  std::unique_ptr<Model> model_;
};

const std::vector<std::string> kLabels = {"ml",    "not_a_component", "vision",
                                          "voice", "voice_unlock",    "wake_word"};

TEST_F(RouteTest, DependenciesAddedAndOrderedByPriorityThenConfidence) {
  const RouteResult r = RouteSigmoid(kLabels,
                                     {{"wake_word", 0.9f},
                                      {"vision", 0.7f},
                                      {"ml", 0.8f},
                                      {"voice", 0.1f},
                                      {"not_a_component", 0.99f}},
                                     0.5f);
  EXPECT_EQ(Names(r), (std::vector<std::string>{"voice", "wake_word", "vision", "ml"}));
  const RoutedComponent* voice = Get(r, "voice");
  ASSERT_NE(voice, nullptr);
  EXPECT_TRUE(voice->dependency);
  EXPECT_FLOAT_EQ(voice->confidence, 0.1f);  // its own probability, not its dependant's
  EXPECT_FALSE(Get(r, "wake_word")->dependency);
  EXPECT_FLOAT_EQ(Get(r, "wake_word")->confidence, 0.9f);
  EXPECT_FLOAT_EQ(Get(r, "ml")->confidence, 0.8f);
  EXPECT_EQ(r.total_memory_mb, 100 + 120 + 300 + 200);
}

TEST_F(RouteTest, ConfidenceOrdersWithinAPriority) {
  const RouteResult r =
      RouteSigmoid(kLabels, {{"wake_word", 0.6f}, {"vision", 0.95f}, {"voice", 0.55f}}, 0.5f);
  EXPECT_EQ(Names(r), (std::vector<std::string>{"voice", "vision", "wake_word"}));
  // voice was predicted itself, so it is not (only) a dependency.
  EXPECT_FALSE(Get(r, "voice")->dependency);
  EXPECT_EQ(r.total_memory_mb, 100 + 300 + 120);
}

TEST_F(RouteTest, PredictedComponentIsNotADependencyWhateverTheLabelOrder) {
  // wake_word comes first in the model, so voice is first reached as its dependency, then
  // predicted in its own right.
  const RouteResult r =
      RouteSigmoid({"wake_word", "voice"}, {{"wake_word", 0.9f}, {"voice", 0.6f}}, 0.5f);
  EXPECT_EQ(Names(r), (std::vector<std::string>{"voice", "wake_word"}));
  EXPECT_FALSE(Get(r, "voice")->dependency);
  EXPECT_FLOAT_EQ(Get(r, "voice")->confidence, 0.6f);
  EXPECT_EQ(r.total_memory_mb, 220);  // counted once
}

TEST_F(RouteTest, SharedDependencyAddedOnce) {
  const RouteResult r = RouteSigmoid(kLabels, {{"wake_word", 0.9f}, {"voice_unlock", 0.8f}}, 0.5f);
  EXPECT_EQ(Names(r), (std::vector<std::string>{"voice", "wake_word", "voice_unlock"}));
  EXPECT_TRUE(Get(r, "voice")->dependency);
  EXPECT_FLOAT_EQ(Get(r, "voice")->confidence, 0.0f);
  EXPECT_EQ(r.total_memory_mb, 100 + 120 + 80);
}

TEST_F(RouteTest, TransitiveDependenciesAndDependencyOutsideTheModel) {
  // The model knows x but not y or z: they get confidence 0.
  const RouteResult r = RouteSigmoid({"vision", "x"}, {{"x", 0.7f}}, 0.5f);
  EXPECT_EQ(Names(r), (std::vector<std::string>{"z", "y", "x"}));
  EXPECT_TRUE(Get(r, "z")->dependency);
  EXPECT_TRUE(Get(r, "y")->dependency);
  EXPECT_FALSE(Get(r, "x")->dependency);
  EXPECT_FLOAT_EQ(Get(r, "z")->confidence, 0.0f);
  EXPECT_EQ(r.total_memory_mb, 7);
}

TEST_F(RouteTest, ThresholdIsInclusiveAndNegativeMeansTheModels) {
  const std::map<std::string, float> probs = {{"wake_word", 0.9f}, {"ml", 0.8f}, {"vision", 0.7f}};
  EXPECT_EQ(Names(RouteSigmoid(kLabels, probs, -1, /*model_threshold=*/0.75f)),
            (std::vector<std::string>{"voice", "wake_word", "ml"}));
  EXPECT_EQ(Names(RouteSigmoid(kLabels, probs, 0.7f)),
            (std::vector<std::string>{"voice", "wake_word", "vision", "ml"}));
  EXPECT_EQ(Names(RouteSigmoid(kLabels, probs, 0.95f)), std::vector<std::string>{});
}

TEST_F(RouteTest, NothingAboveThresholdRoutesNothing) {
  const RouteResult r = RouteSigmoid(kLabels, {{"vision", 0.2f}}, 0.5f);
  EXPECT_TRUE(r.components.empty());
  EXPECT_EQ(r.total_memory_mb, 0);
}

TEST_F(RouteTest, SoftmaxRoutesOnlyTheTopLabel) {
  Model m = FakeModel({"vision", "voice_unlock", "wake_word"}, OutputKind::kSoftmax, 0.4f);
  RouteResult r = Route(m, registry_, {0.35f, 0.2f, 0.45f}, -1);
  EXPECT_EQ(Names(r), (std::vector<std::string>{"voice", "wake_word"}));
  EXPECT_EQ(r.total_memory_mb, 220);
  // Top below the threshold: rejected, nothing routed.
  r = Route(m, registry_, {0.35f, 0.3f, 0.35f}, -1);
  EXPECT_TRUE(r.components.empty());
  r = Route(m, registry_, {0.35f, 0.3f, 0.35f}, 0.0f);
  EXPECT_EQ(r.components.size(), 1u);
  EXPECT_EQ(Names(r)[0], "vision");
}

// ---------------------------------------------------------------------------------------------
// The assistant's registry (data/assistant/components.json)

TEST(AssistantRegistryTest, ParsesWithNineComponentsAndVoiceDependencies) {
  const std::string path = std::string(FI_SOURCE_DIR) + "/data/assistant/components.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  auto reg = ComponentRegistry::Parse(ss.str(), path);
  ASSERT_TRUE(reg.ok()) << reg.status().message();
  ASSERT_EQ(reg->components().size(), 9u);
  const std::map<std::string, Priority> expected = {
      {"chatbots", Priority::kCore},        {"vision", Priority::kHigh},
      {"memory", Priority::kCore},          {"voice", Priority::kCore},
      {"ml_models", Priority::kLow},        {"monitoring", Priority::kMedium},
      {"voice_unlock", Priority::kMedium},  {"wake_word", Priority::kHigh},
      {"display_monitor", Priority::kCore},
  };
  for (const auto& [name, priority] : expected) {
    const Component* c = reg->Find(name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_EQ(c->priority, priority) << name;
    EXPECT_GT(c->memory_mb, 0) << name;
    EXPECT_GT(c->load_ms, 0) << name;
    EXPECT_FALSE(c->description.empty()) << name;
  }
  for (const char* dependant : {"voice_unlock", "wake_word", "display_monitor"})
    EXPECT_EQ(reg->Find(dependant)->depends_on, std::vector<std::string>{"voice"}) << dependant;
  for (const char* independent :
       {"chatbots", "vision", "memory", "voice", "ml_models", "monitoring"})
    EXPECT_TRUE(reg->Find(independent)->depends_on.empty()) << independent;

  // Routing "wake_word" alone brings in voice first (CORE before HIGH).
  std::vector<std::string> labels;
  for (const Component& c : reg->components()) labels.push_back(c.name);
  Model m = FakeModel(labels, OutputKind::kSigmoid, 0.5f);
  std::vector<float> probs(labels.size(), 0.01f);
  probs[size_t(m.LabelIndex("wake_word"))] = 0.97f;
  const RouteResult r = Route(m, *reg, probs, -1);
  ASSERT_EQ(r.components.size(), 2u);
  EXPECT_EQ(r.components[0].component->name, "voice");
  EXPECT_TRUE(r.components[0].dependency);
  EXPECT_EQ(r.components[1].component->name, "wake_word");
  EXPECT_EQ(r.total_memory_mb, reg->Find("voice")->memory_mb + reg->Find("wake_word")->memory_mb);
}

}  // namespace
}  // namespace fastintent
