// Subcommands of the `fastintent` CLI, one file each (tools/<name>_cmd.cc). Each Add* registers
// one subcommand on `root` with its flags (documented in its --help) and sets *exit_code when it
// runs. What several subcommands share is in tools/cli_common.h.
#pragma once

#include <CLI/CLI.hpp>

namespace fastintent::cli {

void AddTrain(CLI::App& root, int* exit_code);
void AddEval(CLI::App& root, int* exit_code);
void AddPredict(CLI::App& root, int* exit_code);
void AddRoute(CLI::App& root, int* exit_code);
void AddInspect(CLI::App& root, int* exit_code);
void AddBench(CLI::App& root, int* exit_code);
void AddServe(CLI::App& root, int* exit_code);
void AddQuantize(CLI::App& root, int* exit_code);
void AddFeaturize(CLI::App& root, int* exit_code);
void AddExport(CLI::App& root, int* exit_code);

}  // namespace fastintent::cli
