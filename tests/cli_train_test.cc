// End-to-end tests of `fastintent train`: input formats (JSONL, CSV, fastText), character TF per
// text, errors naming file and line, validation data, refusing to overwrite inputs, component
// registries.
#include <gtest/gtest.h>

#include "tests/cli_testing.h"

namespace fastintent::cli_testing {
namespace {

TEST_F(CliTest, CharTfTextTrainsAPerTextModel) {
  const std::string data = Write("intents.jsonl", ToJsonl(IntentRows(), false));
  std::vector<std::string> args = TrainArgs(data, Path("per-text.fim"));
  args.insert(args.end(), {"--char-tf", "text"});
  Result r = Run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"inspect", "--json", Path("per-text.fim")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["featurizer"]["char_tf"], "text");
  EXPECT_EQ(json::parse(r.out)["frequent_tokens"], 0);
  r = Run({"predict", "-m", Path("per-text.fim"), "--threshold", "0", "will it snow tonight"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find(' ')), "weather") << r.out;
  args = TrainArgs(data, Path("bad.fim"));
  args.insert(args.end(), {"--char-tf", "word"});
  EXPECT_NE(Run(args).code, 0);
}

TEST_F(CliTest, CsvAndFastTextTrainTheSameTask) {
  const std::string eval_data = Write("eval.jsonl", ToJsonl(IntentRows(), false));
  for (const auto& [name, content] : std::vector<std::pair<std::string, std::string>>{
           {"intents.csv", ToCsv(IntentRows())}, {"intents.txt", ToFastText(IntentRows())}}) {
    const std::string model = Path(name + ".fim");
    Result r = Run(TrainArgs(Write(name, content), model));
    ASSERT_EQ(r.code, 0) << name << ": " << r.err;
    r = Run({"eval", "-m", model, eval_data, "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_GE(j["accuracy"].get<double>(), 0.9) << name;
    EXPECT_EQ(j["per_label"].size(), 4u) << name;
  }
  // A multi-label fastText file trains a sigmoid model (fastText cannot express an empty set).
  std::vector<Row> multi;
  for (const Row& row : ComponentRows())
    if (!row.labels.empty()) multi.push_back(row);
  Result r = Run(TrainArgs(Write("multi.txt", ToFastText(multi)), Path("multi.fim")));
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"inspect", "--json", Path("multi.fim")});
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(json::parse(r.out)["output"], "sigmoid");
}

TEST_F(CliTest, TrainingFileErrorsNameFileAndLine) {
  std::string good = ToJsonl(IntentRows(), false);
  const std::string missing = Write("missing.jsonl",
                                    "{\"text\": \"hi\", \"label\": \"greeting\"}\n\n"
                                    "{\"label\": \"music\", \"txt\": \"play\"}\n" +
                                        good);
  ExpectFailure(Run(TrainArgs(missing, Path("m1.fim"))), {missing + ":3: missing \"text\""});
  EXPECT_FALSE(std::filesystem::exists(Path("m1.fim")));

  const std::string malformed =
      Write("malformed.jsonl", good + "{\"text\": \"hi\", \"label\": \"greeting\",}\n");
  ExpectFailure(Run(TrainArgs(malformed, Path("m2.fim"))), {malformed + ":121:", "malformed JSON"});

  const std::string csv = Write("bad.csv", "text,label\n\"hello, there\",greeting\njust text\n");
  ExpectFailure(Run(TrainArgs(csv, Path("m3.fim"))), {csv + ":3:"});

  const std::string ft = Write("bad.txt", "__label__greeting hello\nhello without label\n");
  ExpectFailure(Run(TrainArgs(ft, Path("m4.fim"))), {ft + ":2:", "__label__"});

  ExpectFailure(Run(TrainArgs(Path("nope.jsonl"), Path("m5.fim"))),
                {Path("nope.jsonl"), "cannot open"});

  const std::string one = Write(
      "one.jsonl",
      "{\"text\": \"hi\", \"label\": \"greeting\"}\n{\"text\": \"yo\", \"label\": \"greeting\"}\n");
  ExpectFailure(Run(TrainArgs(one, Path("m6.fim"))), {one, "at least 2 labels"});

  std::vector<std::string> args = TrainArgs(Write("intents.jsonl", good), Path("m7.fim"));
  auto dropout = std::find(args.begin(), args.end(), "--dropout");
  ASSERT_NE(dropout, args.end());
  dropout[1] = "1";
  ExpectFailure(Run(args), {"dropout"});
  EXPECT_FALSE(std::filesystem::exists(Path("m7.fim")));
  EXPECT_NE(
      Run({"train", Path("intents.jsonl"), "-o", Path("m8.fim"), "--hidden", "16,x", "-q"}).code,
      0);
}

TEST_F(CliTest, ValidationLabelUnknownToTrainingNamesTheValidationFile) {
  const std::string train = Write("train.jsonl", ToJsonl(IntentRows(), false));
  const std::string valid = Write("valid.jsonl",
                                  "{\"text\": \"will it snow\", \"label\": \"weather\"}\n"
                                  "{\"text\": \"make pasta\", \"label\": \"cooking\"}\n");
  ExpectFailure(Run(TrainArgs(train, Path("m.fim"), valid)), {valid + ":2:", "'cooking'"});
}

// `-o` naming an input (directly or through a link) is refused and the input survives; a FIFO
// is not replaced by a file.
TEST_F(CliTest, TrainRefusesToOverwriteItsInputsOrSpecialFiles) {
  const std::string data = Write("train.jsonl", ToJsonl(IntentRows(), false));
  const std::string before = ReadFile(data);
  ExpectFailure(Run(TrainArgs(data, data)), {data + ": is the input file " + data});
  std::filesystem::create_symlink(data, Path("alias.jsonl"));
  ExpectFailure(Run(TrainArgs(data, Path("alias.jsonl"))), {"is the input file"});
  const std::string valid = Write("valid.jsonl", ToJsonl(IntentRows(), false));
  ExpectFailure(Run(TrainArgs(data, valid, valid)), {valid + ": is the input file " + valid});
  EXPECT_EQ(ReadFile(data), before);
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0644), 0);
  ExpectFailure(Run(TrainArgs(data, Path("fifo"))), {"not a regular file"});
  EXPECT_TRUE(std::filesystem::is_fifo(Path("fifo")));
}

// Output that cannot be written (a full disk) fails the command instead of exiting 0.

TEST_F(CliTest, EmptyValidationAndEvaluationDataAreErrors) {
  const std::string train = Write("train.jsonl", ToJsonl(IntentRows(), false));
  const std::string empty = Write("empty.jsonl", ""), blank = Write("blank.csv", "text,label\n\n");
  ExpectFailure(Run(TrainArgs(train, Path("m.fim"), empty)), {empty + ": no examples"});
  EXPECT_FALSE(std::filesystem::exists(Path("m.fim")));
  const std::string model = IntentModel();
  ExpectFailure(Run({"eval", "-m", model, empty}), {empty + ": no examples"});
  ExpectFailure(Run({"eval", "-m", model, blank}), {blank + ": no examples"});
  ExpectFailure(Run({"eval", "-m", model, Path("")}), {"is a directory"});
}

TEST_F(CliTest, BadComponentRegistryIsAnErrorNotACrash) {
  const std::string train = Write("c.jsonl", ToJsonl(ComponentRows(), true));
  const std::string cycle =
      Write("cycle.json",
            R"({"components": [{"name": "voice", "priority": "CORE", "depends_on": ["vision"]},
      {"name": "vision", "priority": "HIGH", "depends_on": ["voice"]}]})");
  std::vector<std::string> args = TrainArgs(train, Path("m.fim"));
  args.push_back("--components");
  args.push_back(cycle);
  ExpectFailure(Run(args), {cycle, "cycle"});

  const std::string numeric =
      Write("numeric.json", R"({"components": [{"name": "voice", "priority": 1}]})");
  args.back() = numeric;
  ExpectFailure(Run(args), {numeric, "priority"});
}

}  // namespace
}  // namespace fastintent::cli_testing
