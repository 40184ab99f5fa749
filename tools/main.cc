// `fastintent`: train, evaluate and run intent models from the command line.
// Exit codes: 0 success; 1 failure, usage errors included (message on stderr); 2 some input
// lines could not be classified (predict/route: each is reported, the rest are answered).
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include "fastintent/model_io.h"
#include "tools/commands.h"

namespace fastintent::cli {

std::string DefaultModelPath() {
  if (const char* env = std::getenv("FASTINTENT_MODEL"); env && *env) return env;
  return FI_DEFAULT_MODEL;
}

void ForEachInput(const std::vector<std::string>& args, const std::function<bool(const std::string&)>& fn) {
  if (!args.empty()) {
    for (const std::string& a : args)
      if (!fn(a)) return;
    return;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!fn(line)) return;
  }
}

void AddPrecisionOption(CLI::App* c, std::string* precision) {
  c->add_option("--precision", *precision,
                "Weights to run with: 'stored' (as in the file) or 'int8' (quantise a float32 file on load)")
      ->check(CLI::IsMember({"stored", "int8"}))
      ->capture_default_str();
}

StatusOr<std::shared_ptr<const Model>> LoadForInference(const std::string& path,
                                                        const std::string& precision,
                                                        std::string* metadata_json) {
  auto model = LoadModel(path.empty() ? DefaultModelPath() : path, metadata_json);
  if (!model.ok() || precision != "int8" || (*model)->network().precision == Precision::kInt8) return model;
  return QuantizeModel(**model);
}

CLI::Validator NumberIn(double lo, double hi) {
  std::ostringstream range;
  range << "[" << lo << ", " << hi << "]";
  return CLI::Validator(
      [lo, hi, range = range.str()](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end == s.c_str() || *end != '\0' || !(v >= lo && v <= hi)) return "expected a number in " + range + ", got '" + s + "'";
        return "";
      },
      range.str());
}

CLI::Validator Probability() { return NumberIn(0.0, 1.0); }

Status CheckLabelsKnown(const Model& m, const Dataset& data, const std::string& path) {
  for (const Example& ex : data.examples)
    for (const std::string& l : ex.labels)
      if (m.LabelIndex(l) < 0)
        return InvalidArgument(path + ":" + std::to_string(ex.line) + ": label '" + l + "' is not one the model knows (" +
                               std::to_string(m.labels().size()) + " labels; see `fastintent inspect`)");
  return Status::Ok();
}

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

CLI::Validator NotEmpty() {
  return CLI::Validator([](std::string& s) -> std::string { return s.empty() ? "must not be empty" : ""; }, "PATH");
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "fastintent: %s\n", message.c_str());
  return 1;
}

}  // namespace fastintent::cli

int main(int argc, char** argv) {
  CLI::App app{"fastintent: intent classification and assistant command routing in microseconds"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "fastintent 0.1.0");
  int exit_code = 0;
  fastintent::cli::AddTrain(app, &exit_code);
  fastintent::cli::AddEval(app, &exit_code);
  fastintent::cli::AddPredict(app, &exit_code);
  fastintent::cli::AddRoute(app, &exit_code);
  fastintent::cli::AddInspect(app, &exit_code);
  fastintent::cli::AddBench(app, &exit_code);
  fastintent::cli::AddServe(app, &exit_code);
  fastintent::cli::AddQuantize(app, &exit_code);
  // CLI11 would say "A subcommand is required" for a misspelt one.
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "fastintent: unknown command '%s' (commands: %s)\n", argv[1], names.c_str());
      return 1;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error is a failure, exit 1 (not CLI11's 1xx).
    return app.exit(e) == 0 ? 0 : 1;
  }
  // Output lost to a full disk or a closed pipe is a failure, never a silent success.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "fastintent: cannot write to standard output: %s\n", std::strerror(errno));
    return 1;
  }
  return exit_code;
}
