// End-to-end tests of What every subcommand shares: --help, usage errors, an unwritable stdout, bad
// thresholds and paths, non-UTF-8 labels and paths in JSON.
#include <gtest/gtest.h>

#include "tests/cli_testing.h"

namespace fastintent::cli_testing {
namespace {

TEST_F(CliTest, HelpOfEverySubcommandExitsZero) {
  for (const char* sub : {"train", "eval", "predict", "route", "inspect"}) {
    const Result r = Run({sub, "--help"});
    EXPECT_EQ(r.code, 0) << sub << ": " << r.err;
    EXPECT_NE(r.out.find(std::string("fastintent ") + sub), std::string::npos)
        << sub << ": " << r.out;
    EXPECT_NE(r.out.find("--help"), std::string::npos) << sub;
  }
  const Result top = Run({"--help"});
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("predict"), std::string::npos);
  EXPECT_NE(Run({}).code, 0);  // a subcommand is required
  EXPECT_NE(Run({"frobnicate"}).code, 0);
}

TEST_F(CliTest, UnwritableStandardOutputIsAFailure) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full here";
  const std::string model = IntentModel();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"predict", "-m", model, "--json", "hello"},
        std::vector<std::string>{"inspect", "-m", model}}) {
    std::string cmd = ShellQuote(FI_CLI);
    for (const std::string& a : args) cmd += " " + ShellQuote(a);
    cmd += " </dev/null >/dev/full 2>" + ShellQuote(Path("full.err"));
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status)) << cmd;
    EXPECT_EQ(WEXITSTATUS(status), 1) << cmd;
    EXPECT_NE(ReadFile(Path("full.err"))
                  .find("fastintent: cannot write to standard output: No space left on device"),
              std::string::npos)
        << ReadFile(Path("full.err"));
  }
}

// A threshold must be a number in [0, 1]: "nan" passes a plain range check (it compares false
// both ways), so it is refused by name; so is an empty model path.
TEST_F(CliTest, NanThresholdAndEmptyModelPathAreRejected) {
  const std::string model = IntentModel();
  for (const char* cmd : {"predict", "route", "eval"}) {
    std::vector<std::string> args = {cmd, "-m", model, "--threshold", "nan"};
    if (std::string(cmd) == "eval") args.push_back(Path("intents.jsonl"));
    const Result r = Run(args);
    EXPECT_NE(r.code, 0) << cmd;
    EXPECT_NE(r.err.find("expected a number in [0, 1], got 'nan'"), std::string::npos)
        << cmd << ": " << r.err;
  }
  const Result r = Run({"predict", "-m", "", "hello"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("must not be empty"), std::string::npos) << r.err;
}

// Labels and paths that are not UTF-8 are legal bytes: JSON output replaces them instead of
// aborting (inspect --json, and train's metadata with a non-UTF-8 data path, once did).
TEST_F(CliTest, NonUtf8LabelsAndPathsGiveValidJson) {
  std::string data;
  for (int i = 0; i < 20; ++i) {
    data += "__label__bad\xff\xfeutf w" + std::to_string(i) + " rain snow\n";
    data += "__label__good w" + std::to_string(i) + " song album\n";
    data += "__label__ctl\x01x w" + std::to_string(i) + " alarm clock\n";
  }
  const std::string path = Write("odd\xffname.txt", data);
  const std::string model = Path("odd.fim");
  Result r = Run(
      {"train", path, "-o", model, "--hidden", "8", "--epochs", "2", "--buckets", "65536", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"inspect", "--json", model});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["labels"][0], "bad\xEF\xBF\xBD\xEF\xBF\xBDutf");
  // Plain inspect shows a control character in a label escaped, never raw.
  r = Run({"inspect", model});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ctl\\x01x"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x01'), std::string::npos);
}

// Every usage error exits 1 like any failure (CLI11's own codes are 100+); --help exits 0; a
// misspelt command is named.
TEST_F(CliTest, UsageErrorsExitOne) {
  const std::string model = IntentModel();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"predict", "-m", model, "-k", "0", "hi"},
        std::vector<std::string>{"route", "--bogus", "x"},
        std::vector<std::string>{"quantize", model}, std::vector<std::string>{"inspect", ""},
        std::vector<std::string>{"quantize", "", "-o", Path("q.fim")},
        std::vector<std::string>{"bench", "-m", model, Path("intents.jsonl"), "--seconds", "nan"},
        std::vector<std::string>{}}) {
    const Result r = Run(args);
    EXPECT_EQ(r.code, 1) << ::testing::PrintToString(args) << ": " << r.err;
  }
  const Result r = Run({"nosuch"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown command 'nosuch'"), std::string::npos) << r.err;
  EXPECT_EQ(Run({"--help"}).code, 0);
}

// Data whose labels the model does not know is an error for bench as for eval, not 0 %.

}  // namespace
}  // namespace fastintent::cli_testing
