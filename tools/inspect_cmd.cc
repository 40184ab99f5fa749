// `fastintent inspect [-m] MODEL [--json]`
#include <sys/stat.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "fastintent/model_io.h"
#include "model/network.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace fastintent::cli {
namespace {

struct InspectArgs {
  std::string model;
  bool json = false;
};

int Run(const InspectArgs& a) {
  const std::string path = a.model.empty() ? DefaultModelPath() : a.model;
  std::string meta;
  auto model = LoadModel(path, &meta);
  if (!model.ok()) return Fail(model.status().message());
  const Model& m = **model;
  const FeaturizerConfig& c = m.featurizer().config();
  struct stat st {};
  stat(path.c_str(), &st);
  nlohmann::json hidden = m.network().hidden;
  nlohmann::json j = {
      {"file", path},
      {"file_bytes", st.st_size},
      {"format_version", kModelFormatVersion},
      {"output", m.kind() == OutputKind::kSoftmax ? "softmax" : "sigmoid"},
      {"labels", m.labels()},
      {"oos_label", m.oos_label()},
      {"threshold", m.threshold()},
      {"hidden", hidden},
      {"precision", PrecisionName(m.network().precision)},
      {"vocabulary_rows", m.network().num_rows},
      {"parameters", m.network().ParameterCount()},
      {"featurizer",
       {{"num_buckets", c.num_buckets},
        {"word_ngrams", c.word_ngrams},
        {"char_min", c.char_min},
        {"char_max", c.char_max},
        {"min_df", c.min_df},
        {"char_tf", CharTfName(c.char_tf)}}},
      {"frequent_tokens", m.frequent_tokens().size()},
      {"precomputed_token_sums", m.token_table_size()},
  };
  auto mj = nlohmann::json::parse(meta, nullptr, false);
  if (!meta.empty() && !mj.is_discarded()) j["metadata"] = mj;
  if (a.json) {
    std::printf("%s\n", DumpJson(j, 2).c_str());
    return 0;
  }
  std::printf("file            %s (%lld bytes, format version %u)\n", path.c_str(),
              (long long)st.st_size, kModelFormatVersion);
  std::printf(
      "output          %s over %zu labels%s\n", j["output"].get<std::string>().c_str(),
      m.labels().size(),
      m.oos_label().empty() ? "" : (" (out-of-scope label '" + m.oos_label() + "')").c_str());
  std::printf("threshold       %.4f\n", m.threshold());
  std::printf("network         %u vocabulary rows -> %s -> %u, %zu parameters, %s weights\n",
              m.network().num_rows, DumpJson(hidden).c_str(), m.network().num_labels,
              m.network().ParameterCount(), PrecisionName(m.network().precision));
  std::printf(
      "featurizer      %u buckets, word 1..%u-grams, char %u..%u-grams counted per %s, min_df %u\n",
      c.num_buckets, c.word_ngrams, c.char_min, c.char_max, CharTfName(c.char_tf), c.min_df);
  std::printf("tokens          %zu frequent tokens listed, %zu with precomputed first-layer sums\n",
              m.frequent_tokens().size(), m.token_table_size());
  if (j.contains("metadata")) std::printf("metadata        %s\n", DumpJson(j["metadata"]).c_str());
  std::printf("labels         ");
  for (const std::string& l : m.labels()) {
    // Labels are any bytes: control characters are shown as \xNN so they cannot drive the
    // terminal.
    std::string shown;
    for (const char ch : l) {
      const unsigned char u = static_cast<unsigned char>(ch);
      if (u < 0x20 || u == 0x7f) {
        char esc[5];
        std::snprintf(esc, sizeof esc, "\\x%02x", u);
        shown += esc;
      } else {
        shown += ch;
      }
    }
    std::printf(" %s", shown.c_str());
  }
  std::printf("\n");
  return 0;
}

}  // namespace

void AddInspect(CLI::App& root, int* exit_code) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* c = root.add_subcommand(
      "inspect", "Describe a model file: shapes, labels, featuriser, calibration, metadata");
  c->add_option("-m,--model,model", a->model, "Model file (default: the built-in assistant model)")
      ->check(NotEmpty());
  c->add_flag("--json", a->json, "Print as JSON");
  c->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace fastintent::cli
