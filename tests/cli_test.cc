// End-to-end tests of the `fastintent` CLI: each test runs the built binary (FI_CLI) on small
// synthetic data written to a fresh temporary directory, and checks exit codes, stdout (often
// parsed as JSON) and the wording of errors on stderr.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Synthetic data

struct Row {
  std::string text;
  std::vector<std::string> labels;
};

// Ten phrasings per intent, each in three frames: 4 intents x 30 varied lines.
const std::vector<std::pair<std::string, std::vector<std::string>>> kIntents = {
    {"weather",
     {"what's the weather", "will it rain", "show the forecast", "is it going to be sunny",
      "how cold is it outside", "do i need an umbrella", "will it snow", "how windy is it",
      "give me the weather report", "is it humid"}},
    {"music",
     {"play some jazz", "put on my playlist", "skip this song", "play the new album",
      "shuffle my music", "play something relaxing", "turn the music up", "next track",
      "play the radio", "who sings this song"}},
    {"alarm",
     {"set an alarm", "wake me up early", "snooze the alarm", "cancel my alarm",
      "set an alarm for six", "change my wake up time", "turn off the alarm",
      "alarm at seven thirty", "ring an alarm", "delete all alarms"}},
    {"greeting",
     {"hello", "hi there", "good morning", "hey buddy", "greetings", "howdy partner",
      "hello again friend", "hi how are you", "good evening", "hey there pal"}},
};
const std::vector<std::string> kFrames = {"%", "% tonight", "please % now"};

std::string Frame(const std::string& frame, const std::string& phrase) {
  std::string s = frame;
  s.replace(s.find('%'), 1, phrase);
  return s;
}

std::vector<Row> IntentRows() {
  std::vector<Row> rows;
  for (const std::string& frame : kFrames)
    for (const auto& [label, phrases] : kIntents)
      for (const std::string& p : phrases) rows.push_back({Frame(frame, p), {label}});
  return rows;
}

// Multi-label commands for assistant components (names from data/assistant/components.json).
// wake_word commands never need voice, so a routed voice must come from the dependency.
std::vector<Row> ComponentRows() {
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> groups = {
      {{"wake_word"},
       {"change the wake word", "turn off the hey jarvis trigger",
        "make the wake word more sensitive", "disable hands free activation",
        "the wake word keeps triggering by itself", "set my wake phrase to computer",
        "pause the wake word during meetings", "why didn't the wake word respond",
        "lower the wake word sensitivity", "enable the wake word again"}},
      {{"voice"},
       {"read this aloud", "speak a little slower", "change your speaking voice", "say it out loud",
        "use a british accent", "talk louder", "read my messages out loud", "transcribe what i say",
        "switch the microphone", "start dictation"}},
      {{"vision"},
       {"take a screenshot", "what is on my screen", "describe this window", "record my screen",
        "explain the error on screen", "capture the active window",
        "what app is open on the screen", "look at my screen", "watch this window for changes",
        "summarize the page on my screen"}},
      {{"memory"},
       {"free up some ram", "how much memory is in use", "close apps hogging memory",
        "check memory pressure", "is my ram full", "show memory usage", "clear the swap",
        "which app uses the most memory", "purge inactive memory", "memory is almost full"}},
      {{"vision", "voice"},
       {"read what's on my screen out loud", "describe my screen aloud",
        "say what this window shows", "read the error on screen to me out loud",
        "speak the text in this window", "read the page on my screen aloud",
        "tell me out loud what app is open", "narrate what you see on the screen",
        "read the screenshot aloud", "say the title of this window out loud"}},
      {{},
       {"never mind", "cancel that", "thanks that's all", "ok", "um", "good night", "asdfgh",
        "stop", "forget it", "no thanks"}},
  };
  std::vector<Row> rows;
  for (const std::string& frame : kFrames)
    for (const auto& [labels, phrases] : groups)
      for (const std::string& p : phrases) rows.push_back({Frame(frame, p), labels});
  return rows;
}

std::string ToJsonl(const std::vector<Row>& rows, bool multi) {
  std::string s;
  for (const Row& r : rows) {
    json j = {{"text", r.text}};
    if (multi)
      j["labels"] = r.labels;
    else
      j["label"] = r.labels.at(0);
    s += j.dump() + "\n";
  }
  return s;
}

std::string CsvField(const std::string& f) {
  std::string q = "\"";
  for (char c : f) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Columns in an unusual order, texts quoted (with commas and quotes added to some).
std::string ToCsv(const std::vector<Row>& rows) {
  std::string s = "label,text\r\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string text = rows[i].text;
    if (i % 3 == 1) text += ", ok";
    if (i % 5 == 2) text = "\"" + text + "\"";
    s += rows[i].labels.at(0) + "," + CsvField(text) + "\r\n";
  }
  return s;
}

std::string ToFastText(const std::vector<Row>& rows) {
  std::string s;
  for (const Row& r : rows) {
    for (const std::string& l : r.labels) s += "__label__" + l + " ";
    s += r.text + "\n";
  }
  return s;
}

// CRC-32C (Castagnoli), bit by bit: an independent check of the model file's checksums.
uint32_t Crc32c(const std::string& bytes) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

uint32_t GetU32(const std::string& s, size_t off) {
  return uint32_t(uint8_t(s[off])) | uint32_t(uint8_t(s[off + 1])) << 8 |
         uint32_t(uint8_t(s[off + 2])) << 16 | uint32_t(uint8_t(s[off + 3])) << 24;
}

void PutU32(std::string* s, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[off + size_t(i)] = char((v >> (8 * i)) & 0xFF);
}

// A section of a model file (docs/model-format.md): u32 name length, name, u64 payload length,
// payload, u32 CRC-32C. The header is 8 magic bytes, u32 version, u32 section count, u32 CRC.
struct Section {
  std::string name;
  size_t payload = 0;  // offset of the payload
  size_t length = 0;
};

std::vector<Section> Sections(const std::string& file) {
  std::vector<Section> out;
  const uint32_t count = GetU32(file, 12);
  size_t off = 20;
  for (uint32_t i = 0; i < count && off + 4 <= file.size(); ++i) {
    Section s;
    const uint32_t name_len = GetU32(file, off);
    if (off + 4 + name_len + 8 > file.size()) break;
    s.name = file.substr(off + 4, name_len);
    off += 4 + name_len;
    s.length = size_t(GetU32(file, off)) | size_t(GetU32(file, off + 4)) << 32;
    s.payload = off + 8;
    off = s.payload + s.length + 4;
    out.push_back(s);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running the binary

struct Result {
  int code = -1;
  std::string out, err;
};

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<json> JsonLines(const std::string& out) {
  std::vector<json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line.substr(0, 200);
    lines.push_back(j);
  }
  return lines;
}

std::set<std::string> Keys(const json& j) {
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  return keys;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fi_cli_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  // FI_CLI_TEST_KEEP=1 keeps the files of each test for a post-mortem.
  void TearDown() override {
    if (const char* keep = std::getenv("FI_CLI_TEST_KEEP"); keep && *keep == '1') {
      std::printf("kept %s\n", dir_.c_str());
      return;
    }
    std::filesystem::remove_all(dir_);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string Write(const std::string& name, const std::string& content) {
    std::ofstream(Path(name), std::ios::binary) << content;
    return Path(name);
  }

  // Runs `fastintent args...` with `input` on stdin. A crash, a sanitizer report or an
  // uncaught exception fails the test whatever the caller expects.
  Result Run(const std::vector<std::string>& args, const std::string& input = "") {
    const std::string n = std::to_string(runs_++);
    const std::string in = Write("stdin." + n, input), out = Path("stdout." + n),
                      err = Path("stderr." + n);
    std::string cmd = ShellQuote(FI_CLI);
    for (const std::string& a : args) cmd += " " + ShellQuote(a);
    cmd += " <" + ShellQuote(in) + " >" + ShellQuote(out) + " 2>" + ShellQuote(err);
    const int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    EXPECT_LT(r.code, 128) << "killed by a signal: `" << cmd << "`:\n" << r.err.substr(0, 2000);
    for (const char* bad : {"Sanitizer", "runtime error:", "terminate called", "Segmentation"})
      EXPECT_EQ(r.err.find(bad), std::string::npos) << "`" << cmd << "`:\n"
                                                    << r.err.substr(0, 2000);
    return r;
  }

  // Expects a clean failure: exit code 1 and one "fastintent: ..." message holding every
  // string in `parts`.
  void ExpectFailure(const Result& r, const std::vector<std::string>& parts) {
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("fastintent: ", 0), 0u) << r.err;
    for (const std::string& p : parts)
      EXPECT_NE(r.err.find(p), std::string::npos) << "stderr lacks '" << p << "': " << r.err;
  }

  // Small and quick. Early stopping keeps the first epoch with the best validation accuracy,
  // so the whole training file validates (a 10% carve of 120 lines reaches 100% while the
  // model is still unsure); `valid` overrides that.
  static std::vector<std::string> TrainArgs(const std::string& data, const std::string& model,
                                            const std::string& valid = "") {
    return {"train",     data,  "-o",        model,   "--valid",    valid.empty() ? data : valid,
            "--hidden",  "16",  "--epochs",  "8",     "--patience", "2",
            "--threads", "2",   "--buckets", "65536", "--lr",       "0.1",
            "--dropout", "0.1", "-q"};
  }

  // Trains the 4-intent single-label model once per test; returns its path.
  std::string IntentModel() {
    if (intent_model_.empty()) {
      const std::string data = Write("intents.jsonl", ToJsonl(IntentRows(), false));
      const Result r = Run(TrainArgs(data, Path("intents.fim")));
      EXPECT_EQ(r.code, 0) << r.err;
      intent_model_ = Path("intents.fim");
    }
    return intent_model_;
  }

  // Trains a multi-label model over assistant components with the real registry embedded.
  std::string ComponentModel() {
    const std::string data = Write("components.jsonl", ToJsonl(ComponentRows(), true));
    std::vector<std::string> args = TrainArgs(data, Path("components.fim"));
    args.push_back("--components");
    args.push_back(std::string(FI_SOURCE_DIR) + "/data/assistant/components.json");
    const Result r = Run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return Path("components.fim");
  }

  std::string dir_;
  std::string intent_model_;
  int runs_ = 0;
};

// ---------------------------------------------------------------------------------------------
// predict

TEST_F(CliTest, PredictJsonShapeIsExact) {
  const std::string model = IntentModel();
  const Result r = Run({"predict", "-m", model, "--json", "will it snow tonight"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const json& j = lines[0];
  EXPECT_EQ(Keys(j), (std::set<std::string>{"text", "labels"})) << j.dump();
  EXPECT_EQ(j["text"], "will it snow tonight");
  ASSERT_TRUE(j["labels"].is_array());
  ASSERT_EQ(j["labels"].size(), 1u) << j.dump();  // --k defaults to 1
  EXPECT_EQ(Keys(j["labels"][0]), (std::set<std::string>{"label", "prob"}));
  EXPECT_EQ(j["labels"][0]["label"], "weather");
  EXPECT_TRUE(j["labels"][0]["prob"].is_number_float());
  EXPECT_GT(j["labels"][0]["prob"].get<double>(), 0.25);
  EXPECT_LE(j["labels"][0]["prob"].get<double>(), 1.0);
}

TEST_F(CliTest, PredictTopKBestFirst) {
  const std::string model = IntentModel();
  const Result r =
      Run({"predict", "-m", model, "--json", "--k", "3", "play some jazz tonight", "good morning"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["labels"][0]["label"], "music");
  EXPECT_EQ(lines[1]["labels"][0]["label"], "greeting");
  for (const json& j : lines) {
    ASSERT_EQ(j["labels"].size(), 3u) << j.dump();
    std::set<std::string> distinct;
    double sum = 0;
    for (size_t i = 0; i < 3; ++i) {
      distinct.insert(j["labels"][i]["label"].get<std::string>());
      sum += j["labels"][i]["prob"].get<double>();
      if (i > 0) {
        EXPECT_GE(j["labels"][i - 1]["prob"].get<double>(), j["labels"][i]["prob"].get<double>())
            << j.dump();
      }
    }
    EXPECT_EQ(distinct.size(), 3u);
    EXPECT_LT(sum, 1.0 + 1e-5);  // softmax: three of four probabilities
  }
  // More than the model has: every label once.
  const Result all = Run({"predict", "-m", model, "--json", "--k", "10", "hello"});
  ASSERT_EQ(all.code, 0);
  EXPECT_EQ(JsonLines(all.out).at(0)["labels"].size(), 4u);
}

TEST_F(CliTest, PredictThresholdZeroNeverRejects) {
  const std::string model = IntentModel();
  const std::vector<std::string> texts = {"will it snow", "play the radio and set an alarm",
                                          "qz hello xv"};
  // Softmax with label smoothing never reaches probability 1: threshold 1 rejects everything...
  std::vector<std::string> args = {"predict", "-m", model, "--json", "--threshold", "1"};
  args.insert(args.end(), texts.begin(), texts.end());
  Result r = Run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), texts.size());
  for (const json& j : lines) EXPECT_TRUE(j["labels"].empty()) << j.dump();
  // ...and threshold 0 rejects nothing.
  args[5] = "0";
  r = Run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), texts.size());
  for (const json& j : lines) EXPECT_EQ(j["labels"].size(), 1u) << j.dump();
  // Plain output of a rejection.
  r = Run({"predict", "-m", model, "--threshold", "1", "will it snow"});
  EXPECT_EQ(r.out, "(none)\n");
  // Out of range is a usage error.
  r = Run({"predict", "-m", model, "--threshold", "1.5", "hi"});
  EXPECT_NE(r.code, 0);
}

TEST_F(CliTest, PredictReadsStdinLinesWhenNoText) {
  const std::string model = IntentModel();
  const Result r =
      Run({"predict", "-m", model, "--json"}, "will it rain\r\nskip this song\ncancel my alarm\n");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0]["text"], "will it rain");  // CR stripped
  EXPECT_EQ(lines[0]["labels"][0]["label"], "weather");
  EXPECT_EQ(lines[1]["text"], "skip this song");
  EXPECT_EQ(lines[1]["labels"][0]["label"], "music");
  EXPECT_EQ(lines[2]["labels"][0]["label"], "alarm");
}

TEST_F(CliTest, PredictPlainOutput) {
  const std::string model = IntentModel();
  Result r = Run({"predict", "-m", model, "hi there", "set an alarm for six"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line1, line2;
  std::getline(in, line1);
  std::getline(in, line2);
  EXPECT_EQ(line1.rfind("greeting 0.", 0), 0u) << r.out;
  EXPECT_EQ(line1.size(), std::string("greeting 0.1234").size()) << r.out;
  EXPECT_EQ(line2.rfind("alarm 0.", 0), 0u) << r.out;
  r = Run({"predict", "-m", model, "--k", "2", "hi there"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("greeting 0.", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("  "), std::string::npos) << "two labels separated by two spaces: " << r.out;
}

TEST_F(CliTest, PredictEmptyLineIsReportedAndTheRestAnswered) {
  const std::string model = IntentModel();
  Result r = Run({"predict", "-m", model, "--json"}, "will it snow\n\nhello there\n");
  EXPECT_EQ(r.code, 2) << r.err;
  std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_FALSE(lines[0].contains("error"));
  EXPECT_EQ(lines[0]["labels"][0]["label"], "weather");
  ASSERT_TRUE(lines[1].contains("error")) << lines[1].dump();
  EXPECT_TRUE(lines[1]["error"].is_string());
  EXPECT_NE(lines[1]["error"].get<std::string>().find("empty"), std::string::npos)
      << lines[1].dump();
  EXPECT_EQ(lines[1]["text"], "");
  EXPECT_TRUE(lines[1]["labels"].empty());
  EXPECT_EQ(lines[2]["labels"][0]["label"], "greeting");

  r = Run({"predict", "-m", model}, "will it snow\n\nhello there\n");
  EXPECT_EQ(r.code, 2);
  std::istringstream in(r.out);
  std::string l1, l2, l3;
  std::getline(in, l1);
  std::getline(in, l2);
  std::getline(in, l3);
  EXPECT_EQ(l1.rfind("weather ", 0), 0u) << r.out;
  EXPECT_EQ(l2.rfind("(error: ", 0), 0u) << r.out;
  EXPECT_EQ(l3.rfind("greeting ", 0), 0u) << r.out;
}

TEST_F(CliTest, PredictInvalidUtf8IsAnswered) {
  const std::string model = IntentModel();
  const std::string input =
      "play some \xff\xfe jazz\n\xc3\x28 hello there\nwill it rain \xe2\x82\n";
  Result r = Run({"predict", "-m", model, "--json"}, input);
  EXPECT_EQ(r.code, 0) << r.err;
  const std::vector<json> lines = JsonLines(r.out);  // valid JSON (so valid UTF-8) throughout
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0]["labels"][0]["label"], "music");
  EXPECT_EQ(lines[1]["labels"][0]["label"], "greeting");
  EXPECT_EQ(lines[2]["labels"][0]["label"], "weather");
  for (const json& j : lines) EXPECT_TRUE(j["text"].is_string());
  r = Run({"predict", "-m", model}, input);
  EXPECT_EQ(r.code, 0) << r.err;
}

// A line of 1 MiB (kMaxTextBytes) is classified; one byte more is refused with a clear error on
// that line alone, and the lines around it are answered.
TEST_F(CliTest, PredictOneMegabyteLine) {
  const std::string model = IntentModel();
  std::string big;
  while (big.size() + 15 <= (1u << 20)) big += "play some jazz ";
  big.resize(1u << 20, ' ');
  Result r = Run({"predict", "-m", model, "--json"}, big + "\nhello\n");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["text"].get<std::string>().size(), big.size());
  EXPECT_EQ(lines[0]["labels"][0]["label"], "music");
  EXPECT_EQ(lines[1]["labels"][0]["label"], "greeting");
  // One 1 MB word.
  r = Run({"predict", "-m", model, "--json"}, std::string(1u << 20, 'x') + "\n");
  EXPECT_LE(r.code, 2) << r.err;
  EXPECT_EQ(JsonLines(r.out).size(), 1u);
  // Over the limit.
  r = Run({"predict", "-m", model, "--json"}, "hello\n" + big + "x\nplay some jazz\n");
  EXPECT_EQ(r.code, 2) << r.err;
  const std::vector<json> three = JsonLines(r.out);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[0]["labels"][0]["label"], "greeting");
  EXPECT_EQ(three[1]["labels"], json::array());
  EXPECT_EQ(three[1]["error"], "text too long: 1048577 bytes (at most 1048576)");
  EXPECT_EQ(three[2]["labels"][0]["label"], "music");
}

// ---------------------------------------------------------------------------------------------
// eval, inspect

TEST_F(CliTest, EvalJsonFields) {
  const std::string model = IntentModel();
  const std::string data = Path("intents.jsonl");
  const Result r = Run({"eval", "-m", model, data, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["examples"], 120);
  const double accuracy = j["accuracy"].get<double>();
  EXPECT_GE(accuracy, 0.9);
  EXPECT_LE(accuracy, 1.0);
  EXPECT_GT(j["macro_f1"].get<double>(), 0.85);
  EXPECT_EQ(j["unclassifiable"], 0);
  EXPECT_FALSE(j.contains("micro_f1"));  // multi-label only
  ASSERT_TRUE(j["per_label"].is_array());
  ASSERT_EQ(j["per_label"].size(), 4u);
  double right = 0;
  int support = 0;
  std::set<std::string> labels;
  for (const json& l : j["per_label"]) {
    EXPECT_EQ(Keys(l), (std::set<std::string>{"label", "precision", "recall", "f1", "support"}))
        << l.dump();
    labels.insert(l["label"].get<std::string>());
    EXPECT_EQ(l["support"], 30);
    support += l["support"].get<int>();
    right += l["recall"].get<double>() * l["support"].get<double>();
  }
  EXPECT_EQ(labels, (std::set<std::string>{"weather", "music", "alarm", "greeting"}));
  EXPECT_EQ(support, 120);
  EXPECT_NEAR(accuracy, right / 120, 1e-9);  // single-label accuracy = sum of true positives / n
  ASSERT_TRUE(j.contains("calibrated"));
  EXPECT_TRUE(j["calibrated"].contains("accuracy"));
  EXPECT_TRUE(j["calibrated"].contains("threshold"));
}

TEST_F(CliTest, EvalPlainAndUnclassifiable) {
  const std::string model = IntentModel();
  const std::string data = Write("eval.jsonl",
                                 "{\"text\": \"will it snow\", \"label\": \"weather\"}\n"
                                 "{\"text\": \"\", \"label\": \"music\"}\n");
  Result r = Run({"eval", "-m", model, data});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("accuracy 50.00%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 texts had no known feature"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("precision"), std::string::npos) << r.out;
  r = Run({"eval", "-m", model, data, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["unclassifiable"], 1);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.5);
}

TEST_F(CliTest, EvalUnknownLabelNamesFileLineAndLabel) {
  const std::string model = IntentModel();
  const std::string data = Write("eval.jsonl",
                                 "{\"text\": \"will it snow\", \"label\": \"weather\"}\n"
                                 "{\"text\": \"make pasta\", \"label\": \"cooking\"}\n");
  ExpectFailure(Run({"eval", "-m", model, data}), {data + ":2:", "'cooking'"});
}

TEST_F(CliTest, Inspect) {
  const std::string model = IntentModel();
  Result r = Run({"inspect", model});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("softmax over 4 labels"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("alarm greeting music weather"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("65536 buckets"), std::string::npos) << r.out;

  r = Run({"inspect", "-m", model, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["output"], "softmax");
  EXPECT_EQ(j["labels"], json({"alarm", "greeting", "music", "weather"}));
  EXPECT_EQ(j["hidden"], json({16}));
  EXPECT_EQ(j["format_version"], 1);
  EXPECT_EQ(j["file_bytes"].get<uintmax_t>(), std::filesystem::file_size(model));
  EXPECT_EQ(j["featurizer"]["num_buckets"], 65536);
  EXPECT_EQ(j["featurizer"]["char_tf"], "token");  // the default
  EXPECT_GT(j["frequent_tokens"].get<int>(), 10);  // words seen twice in intents.jsonl
  EXPECT_GT(j["precomputed_token_sums"].get<int>(), 10);
  EXPECT_LE(j["precomputed_token_sums"].get<int>(), j["frequent_tokens"].get<int>());
  EXPECT_GT(j["vocabulary_rows"].get<int>(), 50);
  EXPECT_GT(j["parameters"].get<int>(), 16 * 50);
  EXPECT_EQ(j["metadata"]["seed"], 1);
  EXPECT_EQ(j["metadata"]["threads"], 2);
  EXPECT_EQ(j["metadata"]["train_examples"], 120);
  EXPECT_EQ(j["metadata"]["valid_examples"], 120);
  EXPECT_EQ(j["metadata"]["trained_on"], Path("intents.jsonl"));
}

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

TEST_F(CliTest, QuantizeExportsAnInt8ModelThatAnswersLikeTheFloatOne) {
  const std::string model = IntentModel();
  const std::string q = Path("intents-int8.fim");
  Result r = Run({"quantize", model, "-o", q});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("with int8 weights"), std::string::npos) << r.err;
  EXPECT_LT(std::filesystem::file_size(q) * 2, std::filesystem::file_size(model));
  r = Run({"inspect", "--json", q});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["precision"], "int8");
  EXPECT_EQ(json::parse(r.out)["metadata"]["seed"], 1);  // metadata kept
  // The same labels from the exported file, from quantising on load, and (here) from float.
  const std::string texts = "will it snow tonight\nplay some jazz\nwake me at six\nhello there\n";
  const Result exported = Run({"predict", "-m", q, "--threshold", "0"}, texts);
  const Result on_load =
      Run({"predict", "-m", model, "--precision", "int8", "--threshold", "0"}, texts);
  const Result as_float = Run({"predict", "-m", model, "--threshold", "0"}, texts);
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_EQ(exported.out, on_load.out);
  const auto labels = [](const std::string& out) {  // first word of each line: the label
    std::istringstream in(out);
    std::string line, l;
    while (std::getline(in, line)) l += line.substr(0, line.find(' ')) + ",";
    return l;
  };
  EXPECT_EQ(labels(exported.out), labels(as_float.out)) << exported.out << as_float.out;
  // Errors: quantising twice, a bad --precision.
  ExpectFailure(Run({"quantize", q, "-o", Path("twice.fim")}), {"already has int8 weights"});
  r = Run({"predict", "-m", model, "--precision", "int4", "hi"});
  EXPECT_NE(r.code, 0);
}

// ---------------------------------------------------------------------------------------------
// route

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

TEST_F(CliTest, MultiLabelEvalHasExactMatchAndMicroF1) {
  const std::string model = ComponentModel();
  const Result r = Run({"eval", "-m", model, Path("components.jsonl"), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["examples"], 180);
  EXPECT_TRUE(j.contains("exact_match"));
  EXPECT_TRUE(j.contains("micro_f1"));
  EXPECT_GT(j["micro_f1"].get<double>(), 0.8);
  EXPECT_EQ(j["oos_examples"], 30);  // the empty-set commands
}

// ---------------------------------------------------------------------------------------------
// help

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

// ---------------------------------------------------------------------------------------------
// training input formats and errors

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
TEST_F(CliTest, BenchRefusesDataWithUnknownLabels) {
  const std::string data =
      Write("other.jsonl", "{\"text\": \"make pasta\", \"label\": \"cooking\"}\n");
  ExpectFailure(Run({"bench", "-m", IntentModel(), data, "--seconds", "0.05"}),
                {data + ":1: label 'cooking' is not one the model knows"});
}

// bench --json reports fastintent's own figures (peers live in bench/): every field present and
// consistent, accuracy as eval counts it with rejection off.
TEST_F(CliTest, BenchJsonReportsFastintentFigures) {
  const std::string model = IntentModel();
  std::vector<Row> rows = IntentRows();
  for (size_t i = 0; i < 12; ++i) rows[i].labels = {"greeting"};  // wrong gold: accuracy < 1
  const std::string data = Write("mislabelled.jsonl", ToJsonl(rows, false));
  const Result r = Run({"bench", "-m", model, data, "--json", "--seconds", "0.05"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  for (const char* key :
       {"accuracy", "featurize_p50_us", "single_p50_us", "single_p90_us", "single_p99_us",
        "single_mean_us", "batch_per_s_1t", "batch_per_s_2t", "peak_rss_mb", "timer_overhead_ns"})
    ASSERT_TRUE(j.contains(key) && j[key].is_number()) << key << " in " << r.out;
  EXPECT_FALSE(j.contains("peers")) << r.out;
  EXPECT_FALSE(j.contains("arithmetic")) << r.out;
  EXPECT_EQ(j["model"], model);
  EXPECT_EQ(j["data"], data);
  EXPECT_EQ(j["examples"], rows.size());
  EXPECT_EQ(j["precision"], "float32");
  EXPECT_FALSE(j["simd_target"].get<std::string>().empty());

  const Result e = Run({"eval", "-m", model, data, "--json"});
  ASSERT_EQ(e.code, 0) << e.err;
  const double accuracy = json::parse(e.out)["accuracy"].get<double>();
  EXPECT_LT(accuracy, 1.0);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), accuracy);

  EXPECT_GT(j["featurize_p50_us"].get<double>(), 0);
  EXPECT_LE(j["single_p50_us"].get<double>(), j["single_p90_us"].get<double>());
  EXPECT_LE(j["single_p90_us"].get<double>(), j["single_p99_us"].get<double>());
  EXPECT_GT(j["batch_per_s_1t"].get<double>(), 0);
  EXPECT_GT(j["batch_per_s_2t"].get<double>(), 0);
  EXPECT_GT(j["peak_rss_mb"].get<double>(), 0);
}

// quantize -o INPUT would replace the float32 model: refused, and the input survives.
TEST_F(CliTest, QuantizeRefusesToOverwriteItsInput) {
  const std::string model = Path("copy.fim");
  std::filesystem::copy_file(IntentModel(), model);
  const auto size = std::filesystem::file_size(model);
  ExpectFailure(Run({"quantize", model, "-o", model}), {"is the input model"});
  EXPECT_EQ(std::filesystem::file_size(model), size);
}

// Empty data is an error naming the file, never a silent fallback or a 0 % report.
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

// ---------------------------------------------------------------------------------------------
// damaged model files

class DamagedModelTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    bytes_ = ReadFile(IntentModel());
    ASSERT_GT(bytes_.size(), 100u);
  }

  // Writes `bytes` as a model file and expects predict (and eval, inspect) to fail cleanly
  // naming the file and the problem.
  void ExpectRejected(const std::string& name, const std::string& bytes,
                      const std::string& problem) {
    const std::string path = Write(name, bytes);
    ExpectFailure(Run({"predict", "-m", path, "will it snow"}), {path + ": ", problem});
    ExpectFailure(Run({"inspect", path}), {path + ": ", problem});
  }

  const Section& Find(const std::string& name) {
    sections_ = Sections(bytes_);
    for (const Section& s : sections_)
      if (s.name == name) return s;
    ADD_FAILURE() << "no section " << name;
    return sections_.at(0);
  }

  std::string bytes_;
  std::vector<Section> sections_;
};

TEST_F(DamagedModelTest, OurParserAgreesWithTheFile) {
  // The helpers below rely on this layout; if it changes, fix them rather than the tests.
  EXPECT_EQ(bytes_.substr(1, 3), "FIM");
  EXPECT_EQ(GetU32(bytes_, 8), 1u);
  EXPECT_EQ(GetU32(bytes_, 16), Crc32c(bytes_.substr(0, 16)));
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);  // the CRC-32C check value
  const std::vector<Section> s = Sections(bytes_);
  ASSERT_EQ(s.size(), GetU32(bytes_, 12));
  EXPECT_EQ(s.back().payload + s.back().length + 4, bytes_.size());
  std::set<std::string> names;
  for (const Section& x : s) names.insert(x.name);
  EXPECT_EQ(names, (std::set<std::string>{"featurizer", "labels", "calibration", "vocabulary",
                                          "weights", "tokens", "metadata"}));
}

TEST_F(DamagedModelTest, FlippedWeightByteIsAChecksumMismatch) {
  const Section& w = Find("weights");
  std::string b = bytes_;
  b[w.payload + w.length / 2] ^= 0x10;
  ExpectRejected("flipped.fim", b, "checksum mismatch in section 'weights'");
}

TEST_F(DamagedModelTest, FlippedByteNearTheEnd) {
  std::string b = bytes_;
  b[b.size() - 6] ^= 0x01;  // inside the last section (metadata)
  ExpectRejected("end.fim", b, "checksum mismatch in section 'metadata'");
  b = bytes_;
  b[b.size() - 1] ^= 0x80;  // the stored checksum itself
  ExpectRejected("crc.fim", b, "checksum mismatch in section 'metadata'");
}

TEST_F(DamagedModelTest, TruncatedFile) {
  ExpectRejected("half.fim", bytes_.substr(0, bytes_.size() / 2), "truncated");
  ExpectRejected("short.fim", bytes_.substr(0, bytes_.size() - 3), "truncated");
  ExpectRejected("header.fim", bytes_.substr(0, 10), "truncated");
  ExpectRejected("empty.fim", "", "truncated");
}

TEST_F(DamagedModelTest, TrailingBytes) {
  ExpectRejected("long.fim", bytes_ + "xx", "trailing bytes");
}

TEST_F(DamagedModelTest, WrongVersionIsCaughtByTheHeaderChecksumFirst) {
  std::string b = bytes_;
  PutU32(&b, 8, 7);
  ExpectRejected("v7.fim", b, "checksum mismatch in the header");
}

TEST_F(DamagedModelTest, WrongVersionWithValidChecksumIsUnsupported) {
  std::string b = bytes_;
  PutU32(&b, 8, 7);
  PutU32(&b, 16, Crc32c(b.substr(0, 16)));
  ExpectRejected("v7crc.fim", b, "unsupported format version 7");
}

TEST_F(DamagedModelTest, NotAModelAndMissingFile) {
  ExpectRejected("text.fim", ToJsonl(IntentRows(), false), "not a fastintent model file");
  const std::string missing = Path("no_such_model.fim");
  ExpectFailure(Run({"predict", "-m", missing, "hello"}), {missing, "no such file"});
  ExpectFailure(Run({"eval", "-m", missing, Path("intents.jsonl")}), {missing});
  ExpectFailure(Run({"route", "-m", missing, "hello"}), {missing});
}

}  // namespace
