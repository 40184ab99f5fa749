// Tests of the Open Inference Protocol codec (server/oip.h) on bytes, without HTTP: valid infer
// requests, every error it documents (exact messages, in the order they are checked) and the
// exact bytes of the infer response and the model metadata.
#include "server/oip.h"

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testing/tiny_model.h"

namespace fastintent::server {
namespace {

// Its labels sort as alarm (0), music (1), weather (2).
const std::shared_ptr<const Model>& TinyModel() {
  static const std::shared_ptr<const Model> m = [] {
    auto trained = fastintent::testing::TrainTinyKeywordModel({"weather", "music", "alarm"});
    EXPECT_TRUE(trained.ok()) << trained.status().message();
    return std::make_shared<const Model>(std::move(trained).value());
  }();
  return m;
}

// A body with one BYTES input of `shape` and `data` (JSON text), and `extra` members after it.
std::string Infer(const std::string& shape, const std::string& data,
                  const std::string& extra = "") {
  return R"({"inputs":[{"name":"text","datatype":"BYTES","shape":)" + shape + R"(,"data":)" + data +
         "}]" + extra + "}";
}

TEST(OipTest, ParsesAFlatInferRequestWithItsDefaults) {
  StatusOr<OipInferRequest> r = ParseOipInfer(Infer("[2]", R"(["rain today","play jazz"])"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->texts.texts, (std::vector<std::string>{"rain today", "play jazz"}));
  EXPECT_EQ(r->texts.k, 1);
  EXPECT_LT(r->texts.threshold, 0);
  EXPECT_FALSE(r->id.has_value());
  EXPECT_TRUE(r->outputs.label);
  EXPECT_TRUE(r->outputs.probability);
  EXPECT_FALSE(r->outputs.probabilities);
}

TEST(OipTest, ParsesIdParametersOutputsAndNestedData) {
  StatusOr<OipInferRequest> r =
      ParseOipInfer(Infer("[2,1]", R"([["a"],["b"]])",
                          R"(,"id":"req-7","parameters":{"k":3,"threshold":0.25},)"
                          R"("outputs":[{"name":"probabilities"}])"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->texts.texts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->id, "req-7");
  EXPECT_EQ(r->texts.k, 3);
  EXPECT_FLOAT_EQ(r->texts.threshold, 0.25f);
  EXPECT_FALSE(r->outputs.label);
  EXPECT_FALSE(r->outputs.probability);
  EXPECT_TRUE(r->outputs.probabilities);
  // "k" and "threshold" count only inside "parameters"; an empty "outputs" asks for none.
  r = ParseOipInfer(Infer("[1]", R"(["a"])", R"(,"k":0,"threshold":7,"outputs":[])"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->texts.k, 1);
  EXPECT_FALSE(r->outputs.label || r->outputs.probability || r->outputs.probabilities);
}

TEST(OipTest, DataMayNestAsDeepAsTheLimitAndNoDeeper) {
  auto nested = [](int depth) {
    return std::string(size_t(depth), '[') + "\"x\"" + std::string(size_t(depth), ']');
  };
  StatusOr<OipInferRequest> r = ParseOipInfer(Infer("[1]", nested(kOipMaxDataDepth)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->texts.texts, std::vector<std::string>{"x"});
  EXPECT_EQ(
      ParseOipInfer(Infer("[1]", nested(kOipMaxDataDepth + 1))).status().message(),
      "inputs[0].data must hold strings only (BYTES as JSON strings), nested at most 32 deep");
  // Far deeper than the stack would allow if the flattening recursed without a bound.
  EXPECT_FALSE(ParseOipInfer(Infer("[1]", nested(60000))).ok());
}

TEST(OipTest, EveryMalformedRequestGetsItsMessage) {
  const std::string one = R"(["a"])";
  const struct {
    std::string body;
    std::string message;
  } kCases[] = {
      {"{not json", "request body: malformed JSON at byte 3: invalid literal"},
      {R"({"id": 1e999})", "request body: malformed JSON: number overflow parsing '1e999'"},
      {"",
       "request body: malformed JSON at byte 1: unexpected end of input; expected '[', '{', or a "
       "literal"},
      {"[1,2]", "request body must be a JSON object"},
      {R"({"id":5})", "\"id\" must be a string"},
      {"{}", "\"inputs\" must be an array holding one input (the texts)"},
      {R"({"inputs":{}})", "\"inputs\" must be an array holding one input (the texts)"},
      {R"({"inputs":[]})", "\"inputs\" must be an array holding one input (the texts)"},
      {R"({"inputs":[{},{}]})", "\"inputs\" must be an array holding one input (the texts)"},
      {R"({"inputs":[1]})", "inputs[0] must be an object"},
      {R"({"inputs":[{}]})", "inputs[0].datatype must be \"BYTES\" (one UTF-8 string per text)"},
      {R"({"inputs":[{"datatype":"FP32","shape":[1],"data":[1.0]}]})",
       "inputs[0].datatype must be \"BYTES\" (one UTF-8 string per text)"},
      {R"({"inputs":[{"datatype":"BYTES"}]})",
       "inputs[0].shape must be a non-empty array of sizes"},
      {R"({"inputs":[{"datatype":"BYTES","shape":[]}]})",
       "inputs[0].shape must be a non-empty array of sizes"},
      {R"({"inputs":[{"datatype":"BYTES","shape":3}]})",
       "inputs[0].shape must be a non-empty array of sizes"},
      {R"({"inputs":[{"datatype":"BYTES","shape":[-1]}]})",
       "inputs[0].shape must hold non-negative integers"},
      {R"({"inputs":[{"datatype":"BYTES","shape":[1.5]}]})",
       "inputs[0].shape must hold non-negative integers"},
      {R"({"inputs":[{"datatype":"BYTES","shape":[1]}]})",
       "inputs[0].data must be an array of strings"},
      {R"({"inputs":[{"datatype":"BYTES","shape":[1],"data":"a"}]})",
       "inputs[0].data must be an array of strings"},
      {Infer("[2]", one), "inputs[0].data holds 1 strings but its shape says 2"},
      {Infer("[1]", "[3]"),
       "inputs[0].data must hold strings only (BYTES as JSON strings), nested at most 32 deep"},
      {Infer("[1]", "[null]"),
       "inputs[0].data must hold strings only (BYTES as JSON strings), nested at most 32 deep"},
      // Products that wrap around 2^64 (to 1, or to 0) must not match the data.
      {Infer("[3,12297829382473034411]", one),
       "inputs[0].shape: the product of its sizes overflows 64 bits"},
      {Infer("[4294967296,4294967296]", "[]"),
       "inputs[0].shape: the product of its sizes overflows 64 bits"},
      // A zero size makes the product 0, whatever the others: no texts.
      {Infer("[4294967296,4294967296,0]", "[]"), "no texts to classify"},
      {Infer("[2000,0]", "[]"), "no texts to classify"},
      {Infer("[1]", one, R"(,"parameters":[])"), "\"parameters\" must be an object"},
      {Infer("[1]", one, R"(,"outputs":{})"), "\"outputs\" must be an array"},
      {Infer("[1]", one, R"(,"outputs":["label"])"), "each output needs a \"name\""},
      {Infer("[1]", one, R"(,"outputs":[{"nam":"label"}])"), "each output needs a \"name\""},
      {Infer("[1]", one, R"(,"outputs":[{"name":3}])"), "each output needs a \"name\""},
      {Infer("[1]", one, R"(,"outputs":[{"name":"x"}])"),
       "unknown output 'x' (outputs: label, probability, probabilities)"},
      {Infer("[1]", one, R"(,"parameters":{"k":0})"), "\"k\" must be a positive integer"},
      {Infer("[1]", one, R"(,"parameters":{"k":100001})"), "\"k\" must be a positive integer"},
      {Infer("[1]", one, R"(,"parameters":{"k":2.0})"), "\"k\" must be a positive integer"},
      {Infer("[1]", one, R"(,"parameters":{"threshold":-0.1})"),
       "\"threshold\" must be a number in [0, 1]"},
      {Infer("[1]", one, R"(,"parameters":{"threshold":"0.5"})"),
       "\"threshold\" must be a number in [0, 1]"},
      // The order of the checks: the id before the inputs, "parameters" before "outputs", the
      // options before the count of texts.
      {R"({"id":1,"inputs":[]})", "\"id\" must be a string"},
      {Infer("[1]", one, R"(,"outputs":[{"name":"x"}],"parameters":5)"),
       "\"parameters\" must be an object"},
      {Infer("[0]", "[]", R"(,"parameters":{"k":0})"), "\"k\" must be a positive integer"},
  };
  for (const auto& c : kCases) {
    StatusOr<OipInferRequest> r = ParseOipInfer(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(r.status().message(), c.message) << c.body;
  }
}

// Results as the engine hands them over: classified, rejected by the threshold (no labels), and
// not classified (an empty text: no model, no probabilities).
std::vector<InferenceResult> ThreeResults() {
  std::vector<InferenceResult> results(3);
  results[0].model = TinyModel();
  results[0].labels = {{2, 0.75f}};
  results[0].probabilities = {0.125f, 0.125f, 0.75f};
  results[1].model = TinyModel();
  results[1].probabilities = {0.25f, 0.5f, 0.25f};
  results[2].status = InvalidArgument("empty text: nothing to classify");
  return results;
}

TEST(OipTest, WritesTheOutputsAskedForInTheirOrder) {
  OipInferRequest request;
  request.id = "r1";
  request.outputs = {true, true, true};
  EXPECT_EQ(WriteOipInferResponse("assistant", request, ThreeResults(), 3),
            R"({"id":"r1","model_name":"assistant","outputs":[)"
            R"({"data":["weather","",""],"datatype":"BYTES","name":"label","shape":[3]},)"
            R"({"data":[0.75,0.0,0.0],"datatype":"FP32","name":"probability","shape":[3]},)"
            R"({"data":[0.125,0.125,0.75,0.25,0.5,0.25,0.0,0.0,0.0],"datatype":"FP32",)"
            R"("name":"probabilities","shape":[3,3]}]})");
  // No id: none echoed. The default outputs; none at all.
  EXPECT_EQ(WriteOipInferResponse("m", OipInferRequest{}, ThreeResults(), 3),
            R"({"model_name":"m","outputs":[)"
            R"({"data":["weather","",""],"datatype":"BYTES","name":"label","shape":[3]},)"
            R"({"data":[0.75,0.0,0.0],"datatype":"FP32","name":"probability","shape":[3]}]})");
  request.id.reset();
  request.outputs = {false, false, false};
  EXPECT_EQ(WriteOipInferResponse("m", request, ThreeResults(), 3),
            R"({"model_name":"m","outputs":[]})");
  // The matrix keeps `num_labels` columns (those of the model served when the request came)
  // even for a result computed with fewer.
  request.outputs.probabilities = true;
  std::vector<InferenceResult> one(1);
  one[0].model = TinyModel();
  one[0].probabilities = {0.5f, 0.5f};
  EXPECT_EQ(WriteOipInferResponse("m", request, one, 3),
            R"({"model_name":"m","outputs":[)"
            R"({"data":[0.5,0.5,0.0],"datatype":"FP32","name":"probabilities","shape":[1,3]}]})");
}

TEST(OipTest, WritesTheModelMetadata) {
  const Model& m = *TinyModel();
  EXPECT_EQ(WriteOipModelMetadata("assistant", m, 7),
            R"({"inputs":[{"datatype":"BYTES","name":"text","shape":[-1]}],"name":"assistant",)"
            R"("outputs":[{"datatype":"BYTES","name":"label","shape":[-1]},)"
            R"({"datatype":"FP32","name":"probability","shape":[-1]},)"
            R"({"datatype":"FP32","name":"probabilities","shape":[-1,3]}],)"
            R"("parameters":{"labels":["alarm","music","weather"],"model_version":7,)"
            R"("output_kind":"softmax",)"
            R"("threshold":)" +
                nlohmann::json(m.threshold()).dump() +
                R"(},"platform":"fastintent","versions":[]})");
}

}  // namespace
}  // namespace fastintent::server
