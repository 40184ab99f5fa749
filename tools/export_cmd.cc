// `fastintent export --format onnx|coreml [-m] MODEL -o OUT`: the model's network in another
// runtime's format. The exported network takes `fastintent featurize`'s output (docs/export.md).
#include <cstdio>

#include "common/byte_io.h"
#include "export/coreml_export.h"
#include "export/onnx_export.h"
#include "fastintent/model_io.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace fastintent::cli {
namespace {

struct ExportArgs {
  std::string model, out, format;
};

int Run(const ExportArgs& a) {
  const std::string path = a.model.empty() ? DefaultModelPath() : a.model;
  if (SameFile(path, a.out)) return Fail(a.out + ": is the input model; refusing to overwrite it");
  std::string meta;
  auto model = LoadModel(path, &meta);
  if (!model.ok()) return Fail(model.status().message());
  const std::string bytes =
      a.format == "onnx" ? OnnxModelBytes(**model, meta) : CoreMlModelBytes(**model, meta);
  // Atomic: a failed write leaves no partial file behind.
  const Status written = WriteFileAtomically(a.out, bytes);
  if (!written.ok()) return Fail(written.message());
  std::fprintf(stderr, "fastintent: wrote %s (%s, %zu bytes)\n", a.out.c_str(), a.format.c_str(),
               bytes.size());
  return 0;
}

}  // namespace

void AddExport(CLI::App& root, int* exit_code) {
  auto a = std::make_shared<ExportArgs>();
  CLI::App* c = root.add_subcommand(
      "export",
      "Write the model's network for another runtime. onnx: ONNX IR 8, opset 13; input "
      "\"features\" FLOAT [N, vocabulary rows] (from `fastintent featurize`), output "
      "\"probabilities\" FLOAT [N, labels]; labels and featuriser settings in metadata_props. "
      "coreml: a NeuralNetwork .mlmodel, specification version 4, with the same input "
      "(FLOAT32 multi-array [vocabulary rows]); single-label models are classifiers (outputs "
      "\"classLabel\" and the dictionary \"probabilities\"), multi-label ones output "
      "\"probabilities\" FLOAT32 [labels]. int8 models are written dequantised to float32.");
  c->add_option("-m,--model,model", a->model, "Model file (default: the built-in assistant model)")
      ->check(NotEmpty());
  c->add_option("--format", a->format, "Output format")
      ->required()
      ->check(CLI::IsMember({"onnx", "coreml"}));
  c->add_option("-o,--output", a->out, "Where to write the exported model (atomically)")
      ->required();
  c->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace fastintent::cli
