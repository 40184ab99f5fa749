// `fastintent featurize [-m MODEL] [TEXT...]`: the input of the exported network (ONNX, Core ML)
// for each text, as JSON lines {"text", "indices", "values", "size"} (export/dense_input.h).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "export/dense_input.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace fastintent::cli {
namespace {

struct FeaturizeArgs {
  std::string model;
  std::vector<std::string> texts;
};

int Run(const FeaturizeArgs& a) {
  // The stored precision: the input does not depend on the weights' precision.
  auto model = LoadForInference(a.model, "stored");
  if (!model.ok()) return Fail(model.status().message());
  int code = 0;
  ForEachInput(a.texts, [&](const std::string& text) {
    StatusOr<DenseInput> x = FeaturizeDense(**model, text);
    nlohmann::json line = {{"text", text}};
    if (!x.ok()) {
      // One line per input keeps the output aligned with the input; the failure is reported.
      line["error"] = x.status().message();
      code = 1;
    } else {
      line["indices"] = x->indices;
      line["values"] = x->values;
      line["size"] = x->size;
    }
    std::puts(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return true;
  });
  return code;
}

}  // namespace

void AddFeaturize(CLI::App& root, int* exit_code) {
  auto a = std::make_shared<FeaturizeArgs>();
  CLI::App* c = root.add_subcommand(
      "featurize",
      "Print each text's input to the exported network (`fastintent export`) as JSON lines "
      "{\"text\", \"indices\", \"values\", \"size\"}: the non-zero entries of a dense FLOAT vector "
      "of `size` (the model's vocabulary rows). Texts from the arguments, else one per stdin "
      "line. A text with no known feature gets {\"text\", \"error\"} and the exit code is 1.");
  c->add_option("-m,--model", a->model, "Model file (default: the built-in assistant model)")
      ->check(NotEmpty());
  c->add_option("text", a->texts, "Texts (default: one per stdin line)");
  c->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace fastintent::cli
