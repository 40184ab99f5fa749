#include "export/onnx_export.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "export/proto_wire.h"
#include "export/weights.h"
#include "model/network.h"

namespace fastintent {
namespace {

// onnx.proto field numbers (../shared/specs/formats.md, section 2).
constexpr int kFloat = 1;  // TensorProto.DataType FLOAT

ProtoWriter Tensor(const std::string& name, const std::vector<int64_t>& dims,
                   const std::vector<float>& data) {
  ProtoWriter t;
  for (int64_t d : dims) t.Varint(1, uint64_t(d));   // dims
  t.Varint(2, kFloat);                               // data_type
  t.Bytes(8, name);                                  // name
  t.Bytes(9, FloatBytes(data.data(), data.size()));  // raw_data
  return t;
}

// ValueInfoProto of a FLOAT [N, cols] tensor, N symbolic.
ProtoWriter ValueInfo(const std::string& name, int64_t cols) {
  ProtoWriter n_dim, c_dim, shape, tensor, type, v;
  n_dim.Bytes(2, "N");  // dim_param
  c_dim.Varint(1, uint64_t(cols));
  shape.Message(1, n_dim);
  shape.Message(1, c_dim);
  tensor.Varint(1, kFloat);  // elem_type
  tensor.Message(2, shape);
  type.Message(1, tensor);  // tensor_type
  v.Bytes(1, name);
  v.Message(2, type);
  return v;
}

ProtoWriter Node(const std::string& op, const std::vector<std::string>& inputs,
                 const std::string& output, const std::string& name) {
  ProtoWriter n;
  for (const std::string& in : inputs) n.Bytes(1, in);
  n.Bytes(2, output);
  n.Bytes(3, name);
  n.Bytes(4, op);
  return n;
}

void IntAttribute(ProtoWriter* node, const std::string& name, int64_t value) {
  ProtoWriter a;
  a.Bytes(1, name);
  a.Varint(3, uint64_t(value));  // i
  a.Varint(20, 2);               // type INT
  node->Message(5, a);
}

void Metadata(ProtoWriter* model, const std::string& key, const std::string& value) {
  ProtoWriter e;
  e.Bytes(1, key);
  e.Bytes(2, value);
  model->Message(14, e);
}

}  // namespace

std::string OnnxModelBytes(const Model& model, const std::string& metadata_json) {
  const Network& net = model.network();
  const std::vector<FloatLayer> layers = FloatLayers(net);
  ProtoWriter graph;
  std::string x = "features";
  for (size_t i = 0; i < layers.size(); ++i) {
    const FloatLayer& l = layers[i];
    const std::string id = std::to_string(i);
    const bool last = i + 1 == layers.size();
    const std::string w = "W" + id, b = "b" + id, y = last ? "logits" : "z" + id;
    const std::vector<int64_t> dims =
        l.in_major ? std::vector<int64_t>{l.in, l.out} : std::vector<int64_t>{l.out, l.in};
    graph.Message(5, Tensor(w, dims, l.w));  // initializer
    graph.Message(5, Tensor(b, {l.out}, l.b));
    ProtoWriter gemm = Node("Gemm", {x, w, b}, y, "dense" + id);
    if (!l.in_major) IntAttribute(&gemm, "transB", 1);
    graph.Message(1, gemm);
    if (!last) {
      graph.Message(1, Node("Relu", {y}, "h" + id, "relu" + id));
      x = "h" + id;
    } else if (model.kind() == OutputKind::kSoftmax) {
      ProtoWriter softmax = Node("Softmax", {y}, "probabilities", "softmax");
      IntAttribute(&softmax, "axis", -1);
      graph.Message(1, softmax);
    } else {
      graph.Message(1, Node("Sigmoid", {y}, "probabilities", "sigmoid"));
    }
  }
  graph.Bytes(2, "fastintent");                                   // name
  graph.Message(11, ValueInfo("features", net.num_rows));         // input
  graph.Message(12, ValueInfo("probabilities", net.num_labels));  // output

  ProtoWriter m;
  m.Varint(1, 8);  // ir_version
  m.Bytes(2, "fastintent");
  m.Message(7, graph);
  ProtoWriter opset;
  opset.Bytes(1, "");
  opset.Varint(2, 13);
  m.Message(8, opset);
  Metadata(&m, "labels", nlohmann::json(model.labels()).dump());
  Metadata(&m, "output", model.kind() == OutputKind::kSoftmax ? "softmax" : "sigmoid");
  Metadata(&m, "precision",
           net.precision == Precision::kInt8 ? "int8 dequantised to float32" : "float32");
  const FeaturizerConfig& c = model.featurizer().config();
  nlohmann::json settings = {{"num_buckets", c.num_buckets},
                             {"word_ngrams", c.word_ngrams},
                             {"char_min", c.char_min},
                             {"char_max", c.char_max},
                             {"char_tf", c.char_tf == CharTf::kPerToken ? "per_token" : "per_text"},
                             {"vocabulary_rows", net.num_rows}};
  Metadata(&m, "featurizer", settings.dump());
  if (!metadata_json.empty()) Metadata(&m, "model_metadata", metadata_json);
  Metadata(&m, "input",
           "features[r] = sum of the featuriser's weights of vocabulary row r; build it with "
           "`fastintent featurize -m MODEL` or the C API");
  return m.bytes();
}

}  // namespace fastintent
