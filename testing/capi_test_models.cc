// capi_test_models DIR: writes the model files the C API's tests (src/capi/capi_test.c) and the
// Python binding's tests load, trained in milliseconds so that they need no data files:
//   tiny.fim        the three-class keyword model (weather, music, alarm) with the component
//                   registry kTinyComponents in its metadata (weather depends on alarm)
//   tiny_plain.fim  the same classes without metadata (routing must fail)
//   tiny_other.fim  the same keywords under other label names (meteo, musique, reveil), with
//                   the registry renamed to match: a second model to swap in
#include <cstdio>
#include <filesystem>
#include <string>

#include "fastintent/model_io.h"
#include "testing/tiny_model.h"

namespace {

int Write(const std::vector<std::string>& labels, const std::string& metadata,
          const std::string& path) {
  auto model = fastintent::testing::TrainTinyKeywordModel(labels);
  if (!model.ok()) {
    std::fprintf(stderr, "capi_test_models: %s\n", model.status().ToString().c_str());
    return 1;
  }
  fastintent::Status s = fastintent::SaveModel(*model, path, metadata);
  if (!s.ok()) {
    std::fprintf(stderr, "capi_test_models: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

// kTinyComponents with every occurrence of `from` replaced by `to`.
std::string Renamed(std::string json,
                    const std::vector<std::pair<std::string, std::string>>& names) {
  for (const auto& [from, to] : names) {
    const std::string quoted = '"' + from + '"';
    for (size_t at = json.find(quoted); at != std::string::npos;
         at = json.find(quoted, at + to.size())) {
      json.replace(at + 1, from.size(), to);
    }
  }
  return json;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: capi_test_models DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string components = fastintent::testing::kTinyComponents;
  int failed = Write({"weather", "music", "alarm"}, components, dir + "/tiny.fim");
  failed |= Write({"weather", "music", "alarm"}, "", dir + "/tiny_plain.fim");
  failed |=
      Write({"meteo", "musique", "reveil"},
            Renamed(components, {{"weather", "meteo"}, {"music", "musique"}, {"alarm", "reveil"}}),
            dir + "/tiny_other.fim");
  return failed;
}
