// `fastintent quantize [-m] MODEL -o OUT`: export a float32 model with int8 weights.
#include <sys/stat.h>

#include <cstdio>

#include "fastintent/model_io.h"
#include "model/network.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace fastintent::cli {
namespace {

struct QuantizeArgs {
  std::string model, out;
};

long long FileSize(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? (long long)st.st_size : -1;
}

int Run(const QuantizeArgs& a) {
  const std::string path = a.model.empty() ? DefaultModelPath() : a.model;
  // Writing over the input would lose the float32 model (the write is atomic, so it succeeds).
  if (SameFile(path, a.out)) return Fail(a.out + ": is the input model; refusing to overwrite it");
  const long long before = FileSize(path);
  std::string meta;
  auto model = LoadModel(path, &meta);
  if (!model.ok()) return Fail(model.status().message());
  if ((*model)->network().precision == Precision::kInt8)
    return Fail(path + " already has int8 weights");
  const Status saved = SaveModel(*QuantizeModel(**model), a.out, meta);
  if (!saved.ok()) return Fail(saved.message());
  const long long after = FileSize(a.out);
  std::fprintf(stderr,
               "fastintent: wrote %s with int8 weights: %.1f MB (from %.1f MB, %.2fx smaller)\n",
               a.out.c_str(), after / 1e6, before / 1e6, after > 0 ? double(before) / after : 0.0);
  return 0;
}

}  // namespace

void AddQuantize(CLI::App& root, int* exit_code) {
  auto a = std::make_shared<QuantizeArgs>();
  CLI::App* c = root.add_subcommand(
      "quantize",
      "Write a copy of a float32 model with int8 weights (one scale per row; about 4x smaller). "
      "Featuriser, labels, calibration and metadata are kept. Compare with `fastintent eval` "
      "before shipping it.");
  c->add_option("-m,--model,model", a->model,
                "float32 model file (default: the built-in assistant model)")
      ->check(NotEmpty());
  c->add_option("-o,--output", a->out, "Where to write the int8 model (atomically)")->required();
  c->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace fastintent::cli
