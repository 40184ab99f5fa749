// The layer rule, enforced: every project `#include "..."` in the tree is checked against the
// table of allowed edges below (in the manner of Chromium's checkdeps). The build gives each
// target the include roots include/ and src/, so the compiler alone would accept an upward
// include; this test fails on one, naming the file, the line and the edge.
//
// A file's layer is its folder (src/<layer>/, server/, tools/, ...; include/fastintent/ is the
// layer "public"); an include's layer is its first path component ("model/network.h" ->
// model, "fastintent/engine.h" -> public). Includes of other libraries ("gtest/gtest.h",
// "hwy/highway.h") are not project layers and are not checked. Tests beside the code
// (*_test.cc) may also use the test helpers in testing/.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace fs = std::filesystem;

namespace {

// Which layers each layer may include (itself always included). Keep in step with the layer
// chain in the README and docs/architecture.md.
const std::map<std::string, std::set<std::string>>& AllowedEdges() {
  static const std::map<std::string, std::set<std::string>> edges = {
      {"public", {}},
      {"common", {"public"}},
      {"kernels", {"public", "common"}},
      {"text", {"public", "common"}},
      {"model", {"public", "common", "kernels", "text"}},
      {"train", {"public", "common", "kernels", "text", "model"}},
      {"router", {"public", "common", "text", "model"}},
      {"engine", {"public", "common", "kernels", "text", "model"}},
      {"export", {"public", "common", "text", "model"}},
      // capi_train.cc (libfastintent_train) includes train; the capi_exports test keeps the
      // trainer and OpenMP out of libfastintent.so itself.
      {"capi", {"public", "common", "text", "model", "train", "router", "engine"}},
      {"server", {"public", "common", "text", "model", "router", "engine"}},
      {"tools",
       {"public", "common", "kernels", "text", "model", "train", "router", "engine", "server",
        "export"}},
      {"testing", {"public", "common", "text", "model", "train"}},
      {"bench", {"public", "common", "kernels", "text", "model", "train", "router", "engine"}},
      {"examples", {"public"}},
      {"fuzz",
       {"public", "common", "kernels", "text", "model", "train", "router", "engine", "server",
        "testing"}},
      {"tests",
       {"public", "common", "kernels", "text", "model", "train", "router", "engine", "server",
        "testing"}},
  };
  return edges;
}

// The layer of a source file from its path relative to the root ("" when not a layer's file).
std::string LayerOfFile(const std::string& rel) {
  if (rel.rfind("include/fastintent/", 0) == 0) return "public";
  if (rel.rfind("src/", 0) == 0) {
    const size_t slash = rel.find('/', 4);
    return slash == std::string::npos ? "" : rel.substr(4, slash - 4);
  }
  const size_t slash = rel.find('/');
  if (slash == std::string::npos) return "";
  const std::string top = rel.substr(0, slash);
  return AllowedEdges().count(top) ? top : "";
}

// The layer an include path names ("" for other libraries' headers).
std::string LayerOfInclude(const std::string& path) {
  const size_t slash = path.find('/');
  if (slash == std::string::npos) return "";
  const std::string top = path.substr(0, slash);
  if (top == "fastintent") return "public";
  return AllowedEdges().count(top) ? top : "";
}

bool IsTestFile(const std::string& rel) {
  const std::string name = fs::path(rel).filename().string();
  return name.size() > 8 && name.compare(name.size() - 8, 8, "_test.cc") == 0;
}

// Every violation under `root` (the folders that hold layers), as "file:line: ...".
std::vector<std::string> CheckIncludes(const fs::path& root) {
  static const std::regex kInclude(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<std::string> problems;
  for (const char* top :
       {"include", "src", "server", "tools", "testing", "bench", "examples", "fuzz", "tests"}) {
    if (!fs::is_directory(root / top)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / top)) {
      if (!entry.is_regular_file()) continue;
      const std::string ext = entry.path().extension().string();
      if (ext != ".h" && ext != ".cc" && ext != ".c" && ext != ".hpp") continue;
      const std::string rel = fs::relative(entry.path(), root).generic_string();
      const std::string from = LayerOfFile(rel);
      if (from.empty()) {
        problems.push_back(rel + ": not in any layer (add its folder to the table)");
        continue;
      }
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        std::smatch m;
        if (!std::regex_search(line, m, kInclude)) continue;
        const std::string to = LayerOfInclude(m[1]);
        if (to.empty() || to == from) continue;
        if (AllowedEdges().at(from).count(to)) continue;
        if (to == "testing" && IsTestFile(rel)) continue;
        std::string problem = rel + ":" + std::to_string(n);
        problem += ": layer '" + from + "' may not include '";
        problem += std::string(m[1]) + "' (layer '" + to + "')";
        problems.push_back(std::move(problem));
      }
    }
  }
  return problems;
}

TEST(LayersTest, EveryIncludeFollowsTheTable) {
  const std::vector<std::string> problems = CheckIncludes(FI_SOURCE_DIR);
  std::string all;
  for (const std::string& p : problems) all += p + "\n";
  EXPECT_TRUE(problems.empty()) << all;
}

// The checker itself: a tree with one upward include and one allowed one must report exactly
// the upward one.
TEST(LayersTest, ReportsAnUpwardInclude) {
  const fs::path root = fs::temp_directory_path() / ("fi_layers_" + std::to_string(::getpid()));
  fs::create_directories(root / "src/text");
  fs::create_directories(root / "src/engine");
  std::ofstream(root / "src/text/bad.cc")
      << "#include \"text/featurizer.h\"\n#include \"model/network.h\"\n";
  std::ofstream(root / "src/engine/ok.cc")
      << "#include \"model/network.h\"\n#include <vector>\n#include \"gtest/gtest.h\"\n";
  const std::vector<std::string> problems = CheckIncludes(root);
  fs::remove_all(root);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0],
            "src/text/bad.cc:2: layer 'text' may not include 'model/network.h' (layer 'model')");
}

TEST(LayersTest, TestHelpersOnlyFromTests) {
  const fs::path root = fs::temp_directory_path() / ("fi_layers_t_" + std::to_string(::getpid()));
  fs::create_directories(root / "src/engine");
  std::ofstream(root / "src/engine/engine_test.cc") << "#include \"testing/tiny_model.h\"\n";
  std::ofstream(root / "src/engine/engine.cc") << "#include \"testing/tiny_model.h\"\n";
  const std::vector<std::string> problems = CheckIncludes(root);
  fs::remove_all(root);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("src/engine/engine.cc:1:"), std::string::npos) << problems[0];
}

}  // namespace
