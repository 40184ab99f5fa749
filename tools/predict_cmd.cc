// `fastintent predict -m MODEL [--json] [--k K] [--threshold T] [TEXT...]`
#include <cstdio>
#include <nlohmann/json.hpp>

#include "fastintent/model_io.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace fastintent::cli {
namespace {

struct PredictArgs {
  std::string model;
  std::string precision = "stored";  // --precision
  std::vector<std::string> texts;
  bool json = false;
  int k = 1;
  float threshold = -1;
};

int Run(const PredictArgs& a) {
  auto model = LoadForInference(a.model, a.precision);
  if (!model.ok()) return Fail(model.status().message());
  const Model& m = **model;
  Session session = m.NewSession();
  std::vector<LabelScore> top;
  int code = 0;
  ForEachInput(a.texts, [&](const std::string& text) {
    Status s = m.Probabilities(text, &session);
    if (!s.ok()) {
      code = 2;
      if (a.json) {
        std::printf("%s\n", DumpJson(nlohmann::json({{"text", text},
                                                     {"labels", nlohmann::json::array()},
                                                     {"error", s.message()}}))
                                .c_str());
      } else {
        std::printf("(error: %s)\n", s.message().c_str());
      }
      return true;
    }
    m.Decide(session.probs(), a.k, a.threshold, &top);
    if (a.json) {
      nlohmann::json labels = nlohmann::json::array();
      for (const LabelScore& l : top)
        labels.push_back({{"label", m.labels()[l.label]}, {"prob", l.prob}});
      std::printf("%s\n", DumpJson(nlohmann::json({{"text", text}, {"labels", labels}})).c_str());
    } else if (top.empty()) {
      std::printf("(none)\n");
    } else {
      for (size_t i = 0; i < top.size(); ++i)
        std::printf("%s%s %.4f", i ? "  " : "", m.labels()[top[i].label].c_str(), top[i].prob);
      std::printf("\n");
    }
    return true;
  });
  std::fflush(stdout);
  return code;
}

}  // namespace

void AddPredict(CLI::App& root, int* exit_code) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App* c = root.add_subcommand(
      "predict", "Print the top labels of each text (arguments, or stdin lines)");
  c->add_option("-m,--model", a->model, "Model file (default: the built-in assistant model)")
      ->check(NotEmpty());
  AddPrecisionOption(c, &a->precision);
  c->add_option("text", a->texts, "Texts to classify; reads stdin lines when none are given");
  c->add_flag(
      "--json", a->json,
      "One JSON object per input: {\"text\", \"labels\": [{\"label\", \"prob\"}...]}, best first");
  c->add_option("-k,--k", a->k, "How many labels to print at most")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  c->add_option("--threshold", a->threshold,
                "Rejection threshold on the top probability (multi-label: per-label threshold); "
                "0 disables rejection; default: the model's calibrated threshold")
      ->check(Probability());
  c->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace fastintent::cli
