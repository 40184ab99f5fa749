// Helpers of the `fastintent` CLI's end-to-end tests (tests/cli_*_test.cc, one file per
// subcommand or concern, all in the cli_test binary): synthetic training data, an independent
// reader of the model file's sections, and the CliTest fixture that runs the built binary
// (FI_CLI) in a fresh temporary directory and captures exit code, stdout and stderr.
#pragma once

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

namespace fastintent::cli_testing {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Synthetic data

struct Row {
  std::string text;
  std::vector<std::string> labels;
};

// Ten phrasings per intent, each in three frames: 4 intents x 30 varied lines.
inline const std::vector<std::pair<std::string, std::vector<std::string>>> kIntents = {
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
inline const std::vector<std::string> kFrames = {"%", "% tonight", "please % now"};

inline std::string Frame(const std::string& frame, const std::string& phrase) {
  std::string s = frame;
  s.replace(s.find('%'), 1, phrase);
  return s;
}

inline std::vector<Row> IntentRows() {
  std::vector<Row> rows;
  for (const std::string& frame : kFrames)
    for (const auto& [label, phrases] : kIntents)
      for (const std::string& p : phrases) rows.push_back({Frame(frame, p), {label}});
  return rows;
}

// Multi-label commands for assistant components (names from data/assistant/components.json).
// wake_word commands never need voice, so a routed voice must come from the dependency.
inline std::vector<Row> ComponentRows() {
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

inline std::string ToJsonl(const std::vector<Row>& rows, bool multi) {
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

inline std::string CsvField(const std::string& f) {
  std::string q = "\"";
  for (char c : f) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Columns in an unusual order, texts quoted (with commas and quotes added to some).
inline std::string ToCsv(const std::vector<Row>& rows) {
  std::string s = "label,text\r\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string text = rows[i].text;
    if (i % 3 == 1) text += ", ok";
    if (i % 5 == 2) text = "\"" + text + "\"";
    s += rows[i].labels.at(0) + "," + CsvField(text) + "\r\n";
  }
  return s;
}

inline std::string ToFastText(const std::vector<Row>& rows) {
  std::string s;
  for (const Row& r : rows) {
    for (const std::string& l : r.labels) s += "__label__" + l + " ";
    s += r.text + "\n";
  }
  return s;
}

// CRC-32C (Castagnoli), bit by bit: an independent check of the model file's checksums.
inline uint32_t Crc32c(const std::string& bytes) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

inline uint32_t GetU32(const std::string& s, size_t off) {
  return uint32_t(uint8_t(s[off])) | uint32_t(uint8_t(s[off + 1])) << 8 |
         uint32_t(uint8_t(s[off + 2])) << 16 | uint32_t(uint8_t(s[off + 3])) << 24;
}

inline void PutU32(std::string* s, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[off + size_t(i)] = char((v >> (8 * i)) & 0xFF);
}

// A section of a model file (docs/model-format.md): u32 name length, name, u64 payload length,
// payload, u32 CRC-32C. The header is 8 magic bytes, u32 version, u32 section count, u32 CRC.
struct Section {
  std::string name;
  size_t payload = 0;  // offset of the payload
  size_t length = 0;
};

inline std::vector<Section> Sections(const std::string& file) {
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

inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<json> JsonLines(const std::string& out) {
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

inline std::set<std::string> Keys(const json& j) {
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
}  // namespace fastintent::cli_testing
