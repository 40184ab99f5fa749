// End-to-end tests of `fastintent route`: components with their dependencies in priority order,
// plain output, errors.
#include <gtest/gtest.h>

#include "tests/cli_testing.h"

namespace fastintent::cli_testing {
namespace {

TEST_F(CliTest, RouteAddsDependenciesInPriorityOrder) {
  const std::string model = ComponentModel();
  const json registry =
      json::parse(ReadFile(std::string(FI_SOURCE_DIR) + "/data/assistant/components.json"));
  std::map<std::string, json> by_name;
  for (const json& c : registry["components"]) by_name[c["name"].get<std::string>()] = c;
  const std::map<std::string, int> rank = {{"CORE", 0}, {"HIGH", 1}, {"MEDIUM", 2}, {"LOW", 3}};

  const Result r = Run({"route", "-m", model, "--json", "--threshold", "0.5",
                        "change the wake word tonight", "read what's on my screen out loud"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  for (const json& j : lines) {
    EXPECT_EQ(Keys(j), (std::set<std::string>{"text", "components", "total_memory_mb"}))
        << j.dump();
    int total = 0, last_rank = -1;
    for (const json& c : j["components"]) {
      EXPECT_EQ(Keys(c), (std::set<std::string>{"name", "priority", "confidence", "memory_mb",
                                                "load_ms", "dependency"}))
          << c.dump();
      const json& reg = by_name.at(c["name"].get<std::string>());
      EXPECT_EQ(c["priority"], reg["priority"]);
      EXPECT_EQ(c["memory_mb"], reg["memory_mb"]);
      EXPECT_EQ(c["load_ms"], reg["load_ms"]);
      const int rk = rank.at(c["priority"].get<std::string>());
      EXPECT_GE(rk, last_rank) << "not in priority order: " << j.dump();
      last_rank = rk;
      total += c["memory_mb"].get<int>();
    }
    EXPECT_EQ(j["total_memory_mb"], total);
  }
  // "change the wake word": wake_word, with voice pulled in as a dependency and listed first.
  const json& wake = lines[0]["components"];
  ASSERT_EQ(wake.size(), 2u) << lines[0].dump();
  EXPECT_EQ(wake[0]["name"], "voice");
  EXPECT_EQ(wake[0]["dependency"], true);
  EXPECT_LT(wake[0]["confidence"].get<double>(), 0.5);  // its own probability
  EXPECT_EQ(wake[1]["name"], "wake_word");
  EXPECT_EQ(wake[1]["dependency"], false);
  EXPECT_GE(wake[1]["confidence"].get<double>(), 0.5);
  EXPECT_EQ(lines[0]["total_memory_mb"], 220);
  // Screen read aloud: voice (CORE) before vision (HIGH), both predicted.
  const json& both = lines[1]["components"];
  ASSERT_EQ(both.size(), 2u) << lines[1].dump();
  EXPECT_EQ(both[0]["name"], "voice");
  EXPECT_EQ(both[0]["dependency"], false);
  EXPECT_EQ(both[1]["name"], "vision");
}

TEST_F(CliTest, RoutePlainOutputAndErrors) {
  const std::string model = ComponentModel();
  Result r = Run({"route", "-m", model, "--threshold", "0.5"}, "change the wake word tonight\n\n");
  EXPECT_EQ(r.code, 2) << r.err;  // the empty line
  EXPECT_NE(r.out.find("\"change the wake word tonight\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(dependency)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total 220 MB"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(error: "), std::string::npos) << r.out;
  // The calibrated threshold works too.
  r = Run({"route", "-m", model, "--json", "never mind"});
  EXPECT_EQ(r.code, 0) << r.err;
  // An error line keeps the documented fields.
  r = Run({"route", "-m", model, "--json"}, "\n");
  EXPECT_EQ(r.code, 2);
  const json err = json::parse(r.out);
  EXPECT_EQ(err["total_memory_mb"], 0) << r.out;
  EXPECT_EQ(err["components"], json::array());
  EXPECT_TRUE(err["error"].is_string());
  // A model trained without --components cannot route.
  ExpectFailure(Run({"route", "-m", IntentModel(), "hello"}),
                {IntentModel(), "component registry"});
}

}  // namespace
}  // namespace fastintent::cli_testing
