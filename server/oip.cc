#include "server/oip.h"

#include <nlohmann/json.hpp>

#include "common/json.h"

namespace fastintent::server {
namespace {

using json = nlohmann::json;

// Appends the strings of a (possibly nested) JSON array to `out`; false when it holds anything
// else or nests deeper than kOipMaxDataDepth, which also bounds the recursion against a body of
// 100,000 '['.
bool FlattenStrings(const json& j, std::vector<std::string>* out, int depth = 1) {
  if (depth > kOipMaxDataDepth) return false;
  for (const json& e : j) {
    if (e.is_array()) {
      if (!FlattenStrings(e, out, depth + 1)) return false;
    } else if (e.is_string()) {
      out->push_back(e.get<std::string>());
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

StatusOr<OipInferRequest> ParseOipInfer(std::string_view text) {
  json body;
  if (Status s = ParseJsonObject(text, &body); !s.ok()) return s;
  OipInferRequest request;
  if (body.contains("id")) {
    if (!body["id"].is_string()) return InvalidArgument("\"id\" must be a string");
    request.id = body["id"].get<std::string>();
  }
  if (!body.contains("inputs") || !body["inputs"].is_array() || body["inputs"].size() != 1) {
    return InvalidArgument("\"inputs\" must be an array holding one input (the texts)");
  }
  const json& in = body["inputs"][0];
  if (!in.is_object()) return InvalidArgument("inputs[0] must be an object");
  if (!in.contains("datatype") || in["datatype"] != "BYTES") {
    return InvalidArgument("inputs[0].datatype must be \"BYTES\" (one UTF-8 string per text)");
  }
  if (!in.contains("shape") || !in["shape"].is_array() || in["shape"].empty()) {
    return InvalidArgument("inputs[0].shape must be a non-empty array of sizes");
  }
  // The product of the sizes, checked for overflow: a product wrapped around 2^64 could match the
  // data by accident.
  uint64_t elements = 1;
  bool overflow = false, zero = false;  // a zero size makes the product 0 whatever the rest
  for (const json& d : in["shape"]) {
    if (!d.is_number_unsigned())
      return InvalidArgument("inputs[0].shape must hold non-negative integers");
    zero |= d.get<uint64_t>() == 0;
    overflow |= __builtin_mul_overflow(elements, d.get<uint64_t>(), &elements);
  }
  if (zero) {
    elements = 0;
  } else if (overflow) {
    return InvalidArgument("inputs[0].shape: the product of its sizes overflows 64 bits");
  }
  if (!in.contains("data") || !in["data"].is_array()) {
    return InvalidArgument("inputs[0].data must be an array of strings");
  }
  std::vector<std::string>& texts = request.texts.texts;
  if (!FlattenStrings(in["data"], &texts)) {
    return InvalidArgument(
        "inputs[0].data must hold strings only (BYTES as JSON strings), nested at most " +
        std::to_string(kOipMaxDataDepth) + " deep");
  }
  if (texts.size() != elements) {
    return InvalidArgument("inputs[0].data holds " + std::to_string(texts.size()) +
                           " strings but its shape says " + std::to_string(elements));
  }
  const json* params = nullptr;
  if (body.contains("parameters")) {
    if (!body["parameters"].is_object()) return InvalidArgument("\"parameters\" must be an object");
    params = &body["parameters"];
  }
  if (body.contains("outputs")) {
    if (!body["outputs"].is_array()) return InvalidArgument("\"outputs\" must be an array");
    request.outputs = OipOutputs{false, false, false};
    for (const json& o : body["outputs"]) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) {
        return InvalidArgument("each output needs a \"name\"");
      }
      const std::string n = o["name"];
      if (n == "label") {
        request.outputs.label = true;
      } else if (n == "probability") {
        request.outputs.probability = true;
      } else if (n == "probabilities") {
        request.outputs.probabilities = true;
      } else {
        return InvalidArgument("unknown output '" + n +
                               "' (outputs: label, probability, probabilities)");
      }
    }
  }
  if (Status s = FinishTextsRequest(params, &request.texts); !s.ok()) return s;
  return request;
}

std::string WriteOipInferResponse(const std::string& model_name, const OipInferRequest& request,
                                  const std::vector<InferenceResult>& results, size_t num_labels) {
  const size_t n = results.size();
  json outputs = json::array();
  if (request.outputs.label) {
    json data = json::array();
    for (const InferenceResult& r : results) {
      data.push_back(r.labels.empty() ? std::string() : r.model->labels()[r.labels[0].label]);
    }
    outputs.push_back(
        {{"name", "label"}, {"datatype", "BYTES"}, {"shape", {n}}, {"data", std::move(data)}});
  }
  if (request.outputs.probability) {
    json data = json::array();
    for (const InferenceResult& r : results)
      data.push_back(r.labels.empty() ? 0.0f : r.labels[0].prob);
    outputs.push_back(
        {{"name", "probability"}, {"datatype", "FP32"}, {"shape", {n}}, {"data", std::move(data)}});
  }
  if (request.outputs.probabilities) {
    json data = json::array();
    for (const InferenceResult& r : results) {
      for (size_t j = 0; j < num_labels; ++j)
        data.push_back(j < r.probabilities.size() ? r.probabilities[j] : 0.0f);
    }
    outputs.push_back({{"name", "probabilities"},
                       {"datatype", "FP32"},
                       {"shape", {n, num_labels}},
                       {"data", std::move(data)}});
  }
  json res = {{"model_name", model_name}, {"outputs", std::move(outputs)}};
  if (request.id) res["id"] = *request.id;
  return DumpJson(res);
}

std::string WriteOipModelMetadata(const std::string& model_name, const Model& model,
                                  uint64_t model_version) {
  return DumpJson(
      {{"name", model_name},
       {"versions", json::array()},
       {"platform", "fastintent"},
       {"inputs", json::array({{{"name", "text"}, {"datatype", "BYTES"}, {"shape", {-1}}}})},
       {"outputs", json::array({{{"name", "label"}, {"datatype", "BYTES"}, {"shape", {-1}}},
                                {{"name", "probability"}, {"datatype", "FP32"}, {"shape", {-1}}},
                                {{"name", "probabilities"},
                                 {"datatype", "FP32"},
                                 {"shape", {-1, int64_t(model.labels().size())}}}})},
       {"parameters",
        {{"labels", model.labels()},
         {"output_kind", model.kind() == OutputKind::kSoftmax ? "softmax" : "sigmoid"},
         {"threshold", model.threshold()},
         {"model_version", model_version}}}});
}

}  // namespace fastintent::server
