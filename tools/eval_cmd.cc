// `fastintent eval -m MODEL DATA [--json] [--threshold T]`
#include <cstdio>
#include <nlohmann/json.hpp>

#include "fastintent/model_io.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "train/dataset.h"
#include "train/metrics.h"

namespace fastintent::cli {
namespace {

struct EvalArgs {
  std::string model, data;
  std::string precision = "stored";  // --precision
  bool json = false;
  float threshold = -1;
};

nlohmann::json ToJson(const Metrics& m) {
  nlohmann::json j = {{"examples", m.examples}, {"accuracy", m.accuracy}, {"macro_f1", m.macro_f1}};
  if (m.multi_label) {
    j["exact_match"] = m.accuracy;
    j["micro_f1"] = m.micro_f1;
  }
  if (m.has_oos) {
    j["in_scope_examples"] = m.in_scope_examples;
    j["oos_examples"] = m.oos_examples;
    j["in_scope_accuracy"] = m.in_scope_accuracy;
    j["oos_recall"] = m.oos_recall;
  }
  nlohmann::json per = nlohmann::json::array();
  for (const LabelMetrics& l : m.per_label)
    per.push_back({{"label", l.label},
                   {"precision", l.precision},
                   {"recall", l.recall},
                   {"f1", l.f1},
                   {"support", l.support}});
  j["per_label"] = per;
  return j;
}

void PrintSummary(const char* title, const Metrics& m) {
  std::printf("%s\n", title);
  if (m.multi_label) {
    std::printf("  exact match %.2f%%  micro-F1 %.2f%%  macro-F1 %.2f%%  (%zu examples)\n",
                100 * m.accuracy, 100 * m.micro_f1, 100 * m.macro_f1, m.examples);
  } else {
    std::printf("  accuracy %.2f%%  macro-F1 %.2f%%  (%zu examples)\n", 100 * m.accuracy,
                100 * m.macro_f1, m.examples);
  }
  if (m.has_oos)
    std::printf("  in-scope accuracy %.2f%% (%zu)  out-of-scope recall %.2f%% (%zu)\n",
                100 * m.in_scope_accuracy, m.in_scope_examples, 100 * m.oos_recall, m.oos_examples);
}

int Run(const EvalArgs& a) {
  auto model = LoadForInference(a.model, a.precision);
  if (!model.ok()) return Fail(model.status().message());
  const Model& m = **model;
  auto data = ReadDataset(a.data);
  if (!data.ok()) return Fail(data.status().message());
  if (data->examples.empty()) return Fail(a.data + ": no examples");
  if (Status s = CheckLabelsKnown(m, *data, a.data); !s.ok()) return Fail(s.message());
  const bool multi = m.kind() == OutputKind::kSigmoid;
  const float threshold = a.threshold >= 0 ? a.threshold : m.threshold();
  const int oos = m.oos_label().empty() ? -1 : m.LabelIndex(m.oos_label());
  MetricsBuilder open(m.labels(), multi, oos), calibrated(m.labels(), multi, oos);
  Session session = m.NewSession();
  std::vector<LabelScore> top;
  std::vector<uint32_t> gold, pred_open, pred_cal;
  size_t unclassifiable = 0;
  for (const Example& ex : data->examples) {
    gold.clear();
    for (const std::string& l : ex.labels)
      gold.push_back(uint32_t(m.LabelIndex(l)));  // known: checked above
    pred_open.clear();
    pred_cal.clear();
    if (m.Probabilities(ex.text, &session).ok()) {
      m.Decide(session.probs(), multi ? int(m.labels().size()) : 1, multi ? threshold : 0.0f, &top);
      for (const LabelScore& s : top) pred_open.push_back(s.label);
      m.Decide(session.probs(), multi ? int(m.labels().size()) : 1, threshold, &top);
      for (const LabelScore& s : top) pred_cal.push_back(s.label);
    } else {
      ++unclassifiable;  // counted as rejected: no label
    }
    open.Add(gold, pred_open);
    calibrated.Add(gold, pred_cal);
  }
  const Metrics mo = open.Compute(), mc = calibrated.Compute();
  if (a.json) {
    nlohmann::json j = ToJson(multi ? mc : mo);
    j["threshold"] = multi ? threshold : 0.0f;
    j["unclassifiable"] = unclassifiable;
    if (!multi) {
      j["calibrated"] = ToJson(mc);
      j["calibrated"]["threshold"] = threshold;
      j["calibrated"].erase("per_label");
    }
    std::printf("%s\n", DumpJson(j, 2).c_str());
    return 0;
  }
  if (multi) {
    char title[128];
    std::snprintf(title, sizeof title, "per-label threshold %.3f:", threshold);
    PrintSummary(title, mc);
  } else {
    PrintSummary("rejection off (threshold 0):", mo);
    char title[128];
    std::snprintf(title, sizeof title, "with rejection (threshold %.4f):", threshold);
    PrintSummary(title, mc);
  }
  if (unclassifiable)
    std::printf("  %zu texts had no known feature (counted as rejected)\n", unclassifiable);
  std::printf("\n%-32s %9s %9s %9s %8s\n", "label", "precision", "recall", "f1", "support");
  for (const LabelMetrics& l : (multi ? mc : mo).per_label)
    std::printf("%-32s %8.2f%% %8.2f%% %8.2f%% %8zu\n", l.label.c_str(), 100 * l.precision,
                100 * l.recall, 100 * l.f1, l.support);
  return 0;
}

}  // namespace

void AddEval(CLI::App& root, int* exit_code) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* c = root.add_subcommand(
      "eval", "Score a model on labelled data: accuracy, macro-F1, per-label P/R/F1, out-of-scope");
  c->add_option("-m,--model", a->model, "Model file (default: the built-in assistant model)")
      ->check(NotEmpty());
  AddPrecisionOption(c, &a->precision);
  c->add_option("data", a->data, "Labelled data in any format `train` reads")->required();
  c->add_flag("--json", a->json, "Print the metrics as one JSON object");
  c->add_option("--threshold", a->threshold,
                "Rejection threshold for the calibrated figures (default: the model's)")
      ->check(Probability());
  c->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace fastintent::cli
