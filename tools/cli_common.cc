#include "tools/cli_common.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "fastintent/model_io.h"
#include "model/network.h"

namespace fastintent::cli {

namespace {

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The folder of the running binary ("" when /proc/self/exe cannot be read).
std::string BinaryDir() {
  std::string buf(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "";
  buf.resize(size_t(n));
  const size_t slash = buf.rfind('/');
  return slash == std::string::npos ? "" : buf.substr(0, slash);
}

}  // namespace

std::string DefaultModelPath() {
  if (const char* env = std::getenv("FASTINTENT_MODEL"); env && *env) return env;
  const std::string bin = BinaryDir();
  std::string first_guess;
  for (std::string dir = bin; !dir.empty();) {
    for (const char* rel : {"/models/assistant.fim", "/share/fastintent/models/assistant.fim"}) {
      if (IsFile(dir + rel)) return dir + rel;
    }
    // The source tree the binary was built in (models/ not trained yet): named in the error.
    if (first_guess.empty() && IsFile(dir + "/CMakeLists.txt") && IsFile(dir + "/README.md"))
      first_guess = dir + "/models/assistant.fim";
    const size_t slash = dir.rfind('/');
    dir = slash == std::string::npos || slash == 0 ? "" : dir.substr(0, slash);
  }
  return first_guess.empty() ? "models/assistant.fim" : first_guess;
}

void ForEachInput(const std::vector<std::string>& args,
                  const std::function<bool(const std::string&)>& fn) {
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
  c->add_option(
       "--precision", *precision,
       "Weights to run with: 'stored' (as in the file) or 'int8' (quantise a float32 file on load)")
      ->check(CLI::IsMember({"stored", "int8"}))
      ->capture_default_str();
}

StatusOr<std::shared_ptr<const Model>> LoadForInference(const std::string& path,
                                                        const std::string& precision,
                                                        std::string* metadata_json) {
  auto model = LoadModel(path.empty() ? DefaultModelPath() : path, metadata_json);
  if (!model.ok() || precision != "int8" || (*model)->network().precision == Precision::kInt8)
    return model;
  return QuantizeModel(**model);
}

CLI::Validator NumberIn(double lo, double hi) {
  std::ostringstream range;
  range << "[" << lo << ", " << hi << "]";
  return CLI::Validator(
      [lo, hi, range = range.str()](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end == s.c_str() || *end != '\0' || !(v >= lo && v <= hi))
          return "expected a number in " + range + ", got '" + s + "'";
        return "";
      },
      range.str());
}

CLI::Validator Probability() { return NumberIn(0.0, 1.0); }

Status CheckLabelsKnown(const Model& m, const Dataset& data, const std::string& path) {
  for (const Example& ex : data.examples)
    for (const std::string& l : ex.labels)
      if (m.LabelIndex(l) < 0)
        // NOLINTNEXTLINE(performance-inefficient-string-concatenation): an error message, once.
        return InvalidArgument(path + ":" + std::to_string(ex.line) + ": label '" + l +
                               "' is not one the model knows (" +
                               std::to_string(m.labels().size()) +
                               " labels; see `fastintent inspect`)");
  return Status::Ok();
}

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

CLI::Validator NotEmpty() {
  return CLI::Validator(
      [](std::string& s) -> std::string { return s.empty() ? "must not be empty" : ""; }, "PATH");
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "fastintent: %s\n", message.c_str());
  return 1;
}

}  // namespace fastintent::cli
