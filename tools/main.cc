// `fastintent`: train, evaluate and run intent models from the command line.
// Exit codes: 0 success; 1 failure, usage errors included (message on stderr); 2 some input
// lines could not be classified (predict/route: each is reported, the rest are answered).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "fastintent/version.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"fastintent: intent classification and assistant command routing in microseconds"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "fastintent " FASTINTENT_VERSION_STRING);
  int exit_code = 0;
  fastintent::cli::AddTrain(app, &exit_code);
  fastintent::cli::AddEval(app, &exit_code);
  fastintent::cli::AddPredict(app, &exit_code);
  fastintent::cli::AddRoute(app, &exit_code);
  fastintent::cli::AddInspect(app, &exit_code);
  fastintent::cli::AddBench(app, &exit_code);
  fastintent::cli::AddServe(app, &exit_code);
  fastintent::cli::AddQuantize(app, &exit_code);
  fastintent::cli::AddFeaturize(app, &exit_code);
  fastintent::cli::AddExport(app, &exit_code);
  // CLI11 would say "A subcommand is required" for a misspelt one.
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "fastintent: unknown command '%s' (commands: %s)\n", argv[1],
                   names.c_str());
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
