// Shared by the CLI's subcommands: input iteration, flag validators, model loading, errors.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/json.h"
#include "fastintent/model.h"
#include "fastintent/status.h"
#include "train/dataset.h"

namespace fastintent::cli {

// The model used when -m is not given: $FASTINTENT_MODEL, else the built-in assistant model
// found at run time beside the binary: the first `models/assistant.fim` (a source tree, where
// the README's set-up command trains it) or `share/fastintent/models/assistant.fim` (an install
// prefix) in the binary's folder or one of its parents. When none exists, the source-tree path
// nearest the binary is returned, so the error names where the model was looked for.
std::string DefaultModelPath();

// Registers `--precision` (load-time precision: "stored", the default, keeps the file's
// weights; "int8" quantises a float32 file after loading, as `fastintent quantize` would).
void AddPrecisionOption(CLI::App* c, std::string* precision);

// Loads `path` (DefaultModelPath() when empty) in the precision `--precision` asked for.
StatusOr<std::shared_ptr<const Model>> LoadForInference(const std::string& path,
                                                        const std::string& precision,
                                                        std::string* metadata_json = nullptr);

// Calls fn(text) for each TEXT argument, or for each stdin line (without its newline) when
// there are none. Stops early when fn returns false.
void ForEachInput(const std::vector<std::string>& args,
                  const std::function<bool(const std::string&)>& fn);

// Checks a flag's value is a number in [lo, hi]. Unlike CLI::Range it refuses "nan", which
// compares false both ways and would slip through a range check.
CLI::Validator NumberIn(double lo, double hi);
// NumberIn(0, 1).
CLI::Validator Probability();

// Fails on the first label of `data` (read from `path`) that `m` does not know, naming the
// file and line: scoring data against a model trained on other labels is a mistake, not 0 %.
Status CheckLabelsKnown(const Model& m, const Dataset& data, const std::string& path);

// True when `a` and `b` both exist and are the same file (any names or links to it).
bool SameFile(const std::string& a, const std::string& b);

// Checks a path flag is not empty (`-m ""` is a mistake, not a request for the default model).
CLI::Validator NotEmpty();

// Prints "fastintent: <message>" to stderr and returns the exit code for failures (1).
int Fail(const std::string& message);

}  // namespace fastintent::cli
