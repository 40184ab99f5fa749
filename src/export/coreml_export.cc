#include "export/coreml_export.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "export/proto_wire.h"
#include "export/weights.h"
#include "model/network.h"

namespace fastintent {
namespace {

constexpr uint64_t kFloat32Array = 65568;  // ArrayFeatureType.ArrayDataType FLOAT32
constexpr int kSpecificationVersion = 4;

// FeatureDescription of a FLOAT32 multi-array of shape [n].
ProtoWriter ArrayFeature(const std::string& name, uint64_t n) {
  ProtoWriter array, type, f;
  array.Varint(1, n);  // shape (one dimension; unpacked repeated int64 is valid proto3)
  array.Varint(2, kFloat32Array);
  type.Message(5, array);  // multiArrayType
  f.Bytes(1, name);
  f.Message(3, type);
  return f;
}

ProtoWriter Layer(const std::string& name, const std::string& in, const std::string& out) {
  ProtoWriter l;
  l.Bytes(1, name);
  l.Bytes(2, in);
  l.Bytes(3, out);
  return l;
}

// innerProduct layer: y = W x + b with W row-major [out][in] (InnerProductLayerParams).
ProtoWriter InnerProduct(const FloatLayer& fl, const std::string& name, const std::string& in,
                         const std::string& out) {
  std::vector<float> w(size_t(fl.out) * fl.in);
  for (uint32_t o = 0; o < fl.out; ++o)
    for (uint32_t i = 0; i < fl.in; ++i)
      w[size_t(o) * fl.in + i] =
          fl.in_major ? fl.w[size_t(i) * fl.out + o] : fl.w[size_t(o) * fl.in + i];
  ProtoWriter weights, bias, params;
  weights.Bytes(1, FloatBytes(w.data(), w.size()));  // floatValue, packed
  bias.Bytes(1, FloatBytes(fl.b.data(), fl.b.size()));
  params.Varint(1, fl.in);   // inputChannels
  params.Varint(2, fl.out);  // outputChannels
  params.Varint(10, 1);      // hasBias
  params.Message(20, weights);
  params.Message(21, bias);
  ProtoWriter l = Layer(name, in, out);
  l.Message(140, params);
  return l;
}

// activation layer with the (empty) ActivationParams member `which` (ReLU 10, sigmoid 40).
ProtoWriter Activation(uint32_t which, const std::string& name, const std::string& in,
                       const std::string& out) {
  ProtoWriter empty, params;
  params.Message(which, empty);
  ProtoWriter l = Layer(name, in, out);
  l.Message(130, params);
  return l;
}

void UserDefined(ProtoWriter* metadata, const std::string& key, const std::string& value) {
  ProtoWriter e;
  e.Bytes(1, key);
  e.Bytes(2, value);
  metadata->Message(100, e);
}

}  // namespace

std::string CoreMlModelBytes(const Model& model, const std::string& metadata_json) {
  const Network& net = model.network();
  const std::vector<FloatLayer> layers = FloatLayers(net);
  const bool classifier = model.kind() == OutputKind::kSoftmax;

  ProtoWriter nn;
  std::string x = "features";
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string id = std::to_string(i);
    const bool last = i + 1 == layers.size();
    const std::string y = last ? "logits" : "z" + id;
    nn.Message(1, InnerProduct(layers[i], "dense" + id, x, y));
    if (!last) {
      nn.Message(1, Activation(10, "relu" + id, y, "h" + id));
      x = "h" + id;
    } else if (classifier) {
      ProtoWriter softmax_nd;
      softmax_nd.Varint(1, uint64_t(int64_t(-1)));  // axis
      ProtoWriter l = Layer("softmax", y, "probabilities");
      l.Message(950, softmax_nd);
      nn.Message(1, l);
    } else {
      nn.Message(1, Activation(40, "sigmoid", y, "probabilities"));
    }
  }
  nn.Varint(5, 1);  // arrayInputShapeMapping EXACT_ARRAY_MAPPING
  if (classifier) {
    ProtoWriter labels;
    for (const std::string& label : model.labels()) labels.Bytes(1, label);
    nn.Message(100, labels);         // stringClassLabels
    nn.Bytes(200, "probabilities");  // labelProbabilityLayerName
  }

  ProtoWriter desc;
  desc.Message(1, ArrayFeature("features", net.num_rows));
  if (classifier) {
    ProtoWriter string_type, label_type, label, dict, dict_type, probs;
    label_type.Message(3, string_type);  // stringType
    label.Bytes(1, "classLabel");
    label.Message(3, label_type);
    dict.Message(2, ProtoWriter());  // stringKeyType
    dict_type.Message(6, dict);      // dictionaryType
    probs.Bytes(1, "probabilities");
    probs.Message(3, dict_type);
    desc.Message(10, probs);
    desc.Message(10, label);
    desc.Bytes(11, "classLabel");     // predictedFeatureName
    desc.Bytes(12, "probabilities");  // predictedProbabilitiesName
  } else {
    desc.Message(10, ArrayFeature("probabilities", net.num_labels));
  }
  ProtoWriter meta;
  meta.Bytes(1,
             "fastintent intent classifier: input from `fastintent featurize` (the featuriser's "
             "weights per vocabulary row), output the label probabilities");
  meta.Bytes(2, "1");
  meta.Bytes(3, "fastintent");
  UserDefined(&meta, "labels", nlohmann::json(model.labels()).dump());
  UserDefined(&meta, "output", classifier ? "softmax" : "sigmoid");
  UserDefined(&meta, "precision",
              net.precision == Precision::kInt8 ? "int8 dequantised to float32" : "float32");
  const FeaturizerConfig& c = model.featurizer().config();
  const nlohmann::json settings = {
      {"num_buckets", c.num_buckets},
      {"word_ngrams", c.word_ngrams},
      {"char_min", c.char_min},
      {"char_max", c.char_max},
      {"char_tf", c.char_tf == CharTf::kPerToken ? "per_token" : "per_text"},
      {"vocabulary_rows", net.num_rows}};
  UserDefined(&meta, "featurizer", settings.dump());
  UserDefined(&meta, "input",
              "features[r] = sum of the featuriser's weights of vocabulary row r; build it with "
              "`fastintent featurize -m MODEL` or the C API");
  if (!metadata_json.empty()) UserDefined(&meta, "model_metadata", metadata_json);
  desc.Message(100, meta);

  ProtoWriter m;
  m.Varint(1, kSpecificationVersion);
  m.Message(2, desc);
  m.Message(classifier ? 403 : 500, nn);  // neuralNetworkClassifier / neuralNetwork
  return m.bytes();
}

}  // namespace fastintent
