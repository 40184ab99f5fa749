// `fastintent route [-m MODEL] [--json] [--threshold T] [TEXT...]`
#include <cstdio>
#include <nlohmann/json.hpp>

#include "fastintent/model_io.h"
#include "router/router.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace fastintent::cli {
namespace {

struct RouteArgs {
  std::string model;
  std::string precision = "stored";  // --precision
  std::vector<std::string> texts;
  bool json = false;
  float threshold = -1;
};

int Run(const RouteArgs& a) {
  const std::string path = a.model.empty() ? DefaultModelPath() : a.model;
  std::string meta;
  auto model = LoadForInference(path, a.precision, &meta);
  if (!model.ok()) {
    if (a.model.empty() && model.status().code() == StatusCode::kNotFound)
      return Fail(model.status().message() +
                  " (train the built-in model with the README's first command, or pass -m)");
    return Fail(model.status().message());
  }
  auto registry = ComponentRegistry::FromModelMetadata(meta, path);
  if (!registry.ok()) return Fail(registry.status().message());
  const Model& m = **model;
  Session session = m.NewSession();
  int code = 0;
  ForEachInput(a.texts, [&](const std::string& text) {
    Status s = m.Probabilities(text, &session);
    if (!s.ok()) {
      code = 2;
      if (a.json)
        std::printf("%s\n", DumpJson({{"text", text},
                                      {"components", nlohmann::json::array()},
                                      {"total_memory_mb", 0},
                                      {"error", s.message()}})
                                .c_str());
      else
        std::printf("%s\n  (error: %s)\n", DumpJson(text).c_str(), s.message().c_str());
      return true;
    }
    RouteResult r = Route(m, *registry, session.probs(), a.threshold);
    if (a.json) {
      nlohmann::json comps = nlohmann::json::array();
      for (const RoutedComponent& c : r.components) {
        comps.push_back({{"name", c.component->name},
                         {"priority", PriorityName(c.component->priority)},
                         {"confidence", c.confidence},
                         {"memory_mb", c.component->memory_mb},
                         {"load_ms", c.component->load_ms},
                         {"dependency", c.dependency}});
      }
      std::printf(
          "%s\n",
          DumpJson({{"text", text}, {"components", comps}, {"total_memory_mb", r.total_memory_mb}})
              .c_str());
      return true;
    }
    std::printf("%s\n", DumpJson(text).c_str());
    if (r.components.empty()) std::printf("  (no component needed)\n");
    for (const RoutedComponent& c : r.components) {
      std::printf("  %-16s %-6s  %5.1f%%  %4d MB%s\n", c.component->name.c_str(),
                  PriorityName(c.component->priority), 100 * c.confidence, c.component->memory_mb,
                  c.dependency ? "  (dependency)" : "");
    }
    if (!r.components.empty()) std::printf("  total %d MB\n", r.total_memory_mb);
    return true;
  });
  std::fflush(stdout);
  return code;
}

}  // namespace

void AddRoute(CLI::App& root, int* exit_code) {
  auto a = std::make_shared<RouteArgs>();
  CLI::App* c = root.add_subcommand(
      "route",
      "Print the assistant components each command needs, dependencies added, by priority");
  c->add_option("-m,--model", a->model,
                "Model with an embedded component registry (default: the built-in assistant model)")
      ->check(NotEmpty());
  AddPrecisionOption(c, &a->precision);
  c->add_option("text", a->texts, "Commands to route; reads stdin lines when none are given");
  c->add_flag("--json", a->json,
              "One JSON object per input: {\"text\", \"components\": [{\"name\", \"priority\", "
              "\"confidence\", \"memory_mb\", \"load_ms\", \"dependency\"}], \"total_memory_mb\"}");
  c->add_option("--threshold", a->threshold,
                "Per-component probability threshold (default: the model's calibrated one)")
      ->check(Probability());
  c->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace fastintent::cli
