// fasttext_peer: fastText measured in-process through its own C++ library (Debian's
// libfasttext-dev), the way its users call it, reporting what `fastintent bench` reports under
// the same JSON field names, so that bench/compare.py can put the two side by side.
//
//   fasttext_peer --train TRAIN [--settings "-dim 100 ..."] [-o MODEL.bin] [DATA] [--json]
//   fasttext_peer --model MODEL.bin DATA [--json] [--seconds S]
//
// TRAIN and DATA are read by fastintent's own reader (JSON Lines, CSV or fastText format), so
// both programs see the same texts and labels. fastText gets each text as its users give it: a
// line, ASCII lower-cased with whitespace collapsed (done once, outside the timers), labels as
// `__label__NAME` with whitespace in NAME replaced by '_'. Figures:
//   accuracy          top-1 label against the gold label(s), over every example of DATA;
//   featurize_p50_us  Dictionary::getLine alone (text -> word, subword and word n-gram ids);
//   single_*_us       FastText::predictLine(stream, predictions, k = 1, threshold = 0) on one
//                     thread, one call at a time, per call: p50/p90/p99 and mean. The time
//                     includes putting the text into the (reused) std::istringstream, the
//                     cheapest way to hand predictLine a string;
//   batch_per_s_Nt    texts/s with N = 1 and 2 threads calling predictLine on the same model
//                     (FastText's predict is const and keeps its scratch per call);
//   peak_rss_mb       getrusage(RUSAGE_SELF).ru_maxrss, only when the model was loaded with
//                     --model: after training in this process it would count training memory.
// Per-call figures subtract the measured cost of reading the clock, percentiles are nearest-
// rank (src/common/timing.h, shared with `fastintent bench`), and the throughput phases warm up
// first, as in tools/bench_cmd.cc.
//
// fastText trains with several threads without locks (Hogwild), so its accuracy varies a little
// from one training run to the next; `-thread 1` in --settings makes a run repeatable.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/timing.h"
#include "fasttext/fasttext.h"
#include "train/dataset.h"

namespace fastintent {
namespace {

using timing::Clock;
using timing::Percentile;
using timing::Seconds;
using timing::TimePerCall;
using timing::TimerOverheadNs;

struct PeerArgs {
  std::string train, model, output, data;
  std::string settings = "-wordNgrams 2 -minn 2 -maxn 5 -dim 100 -epoch 25 -lr 1.0 -bucket 200000";
  double seconds = 1.0;  // per timed phase
  bool json = false;
};

// One line of fastText input: ASCII lower-cased, whitespace collapsed to single spaces, ending
// in '\n' as the lines of a file that fastText predicts from do (the newline is its end-of-
// sentence token, which it also saw in training).
std::string FastTextLine(const std::string& text) {
  std::string out;
  bool space = true;
  for (unsigned char c : text) {
    if (std::isspace(c)) {
      if (!space) out.push_back(' ');
      space = true;
      continue;
    }
    out.push_back(char(std::tolower(c)));
    space = false;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + "\n";
}

std::string FastTextLabel(const std::string& label) {
  std::string l = "__label__" + label;
  for (char& c : l)
    if (std::isspace(static_cast<unsigned char>(c))) c = '_';
  return l;
}

double FileMb(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? double(st.st_size) / (1 << 20) : 0;
}

// Trains `ft` on `path` with fastText's `supervised` defaults overridden by `settings` (its
// command-line flags). Returns an error message, or "" on success.
std::string Train(const PeerArgs& a, fasttext::FastText* ft, nlohmann::json* j) {
  auto train = ReadDataset(a.train);
  if (!train.ok()) return train.status().message();
  std::string text;
  for (const Example& e : train->examples) {
    if (e.labels.empty()) continue;  // fastText cannot express an empty label set
    for (const std::string& l : e.labels) text += FastTextLabel(l) + " ";
    text += FastTextLine(e.text);
  }
  if (text.empty()) return a.train + ": no labelled examples";
  const std::string tmp_dir =
      std::getenv("TMPDIR") && *std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  std::string input = tmp_dir + "/fasttext-peer-XXXXXX";
  const int fd = mkstemp(input.data());
  if (fd < 0) return "cannot create a temporary file in " + tmp_dir;
  close(fd);
  struct Unlink {
    std::string path;
    ~Unlink() { unlink(path.c_str()); }
  } unlink_input{input};
  {
    std::ofstream out(input, std::ios::binary);
    out << text;
    if (!out.flush()) return "cannot write " + input;
  }
  // Args::parseArgs reads fastText's own command line: {program, command, flags...}. The
  // settings come last, so they override the thread count and verbosity given here.
  std::vector<std::string> argv = {
      "fasttext", "supervised", "-input",   input, "-output", a.output.empty() ? input : a.output,
      "-thread",  "2",          "-verbose", "0"};
  std::istringstream words(a.settings);
  for (std::string w; words >> w;) argv.push_back(w);
  fasttext::Args args;
  args.parseArgs(argv);  // prints fastText's help and exits on a flag it does not know
  const auto t0 = Clock::now();
  ft->train(args);
  (*j)["train_s"] = Seconds(t0, Clock::now());
  (*j)["settings"] = a.settings;
  if (!a.output.empty()) {
    ft->saveModel(a.output);
    (*j)["model"] = a.output;
    (*j)["model_mb"] = FileMb(a.output);
  } else {
    (*j)["model"] = "(trained in-process on " + a.train + ")";
  }
  return "";
}

// Texts per second with `threads` threads calling predictLine on `ft`, each with its own stream
// and output, each looping over the lines (from its own starting point) for `seconds`.
double Throughput(const fasttext::FastText& ft, const std::vector<std::string>& lines, int threads,
                  double seconds) {
  std::atomic<bool> go{false}, stop{false};
  std::atomic<int> ready{0};
  std::vector<uint64_t> done(size_t(threads) * 8, 0);  // spaced out: no false sharing
  std::vector<std::thread> pool;
  pool.reserve(size_t(threads));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::istringstream in;
      std::vector<std::pair<fasttext::real, std::string>> predictions;
      auto predict = [&](const std::string& line) {
        in.str(line);
        in.clear();
        ft.predictLine(in, predictions, 1, 0.0);
      };
      size_t i = lines.size() * size_t(t) / size_t(threads), count = 0;
      for (const std::string& line : lines) predict(line);  // warm-up pass
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 64; ++k) {
          predict(lines[i]);
          if (++i == lines.size()) i = 0;
        }
        count += 64;
      }
      done[size_t(t) * 8] = count;
    });
  }
  // The clock starts once every thread has finished its warm-up pass.
  while (ready.load() < threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  go.store(true, std::memory_order_release);
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (auto& th : pool) th.join();
  const double wall = Seconds(t0, Clock::now());
  uint64_t total = 0;
  for (int t = 0; t < threads; ++t) total += done[size_t(t) * 8];
  return double(total) / wall;
}

// Measures `ft` on a.data into `j`. Returns an error message, or "" on success.
std::string Measure(const PeerArgs& a, const fasttext::FastText& ft, nlohmann::json* j) {
  auto data = ReadDataset(a.data);
  if (!data.ok()) return data.status().message();
  if (data->examples.empty()) return a.data + ": no examples";
  // As `fastintent bench`: gold labels the model does not know are a mistake, not 0 %.
  for (const Example& e : data->examples)
    for (const std::string& l : e.labels)
      if (ft.getLabelId(FastTextLabel(l)) < 0)
        return a.data + ":" + std::to_string(e.line) + ": label '" + l +
               "' is not one of the model's labels";
  std::vector<std::string> lines;
  for (const Example& e : data->examples) lines.push_back(FastTextLine(e.text));
  const size_t n = lines.size();
  const double overhead_ns = TimerOverheadNs();
  const bool verbose = !a.json;
  (*j)["data"] = a.data;
  (*j)["examples"] = n;
  (*j)["timer_overhead_ns"] = overhead_ns;
  (*j)["dim"] = ft.getDimension();

  std::istringstream in;
  std::vector<std::pair<fasttext::real, std::string>> predictions;
  size_t correct = 0;
  for (size_t i = 0; i < n; ++i) {
    in.str(lines[i]);
    in.clear();
    ft.predictLine(in, predictions, 1, 0.0);
    if (predictions.empty()) continue;
    for (const std::string& l : data->examples[i].labels)
      if (predictions[0].second == FastTextLabel(l)) {
        ++correct;
        break;
      }
  }
  (*j)["accuracy"] = double(correct) / double(n);

  if (verbose) std::fprintf(stderr, "fasttext_peer: featurisation ...\n");
  const std::shared_ptr<const fasttext::Dictionary> dict = ft.getDictionary();
  std::vector<int32_t> words, labels;
  std::vector<double> feat = TimePerCall(n, a.seconds, overhead_ns, [&](size_t i) {
    in.str(lines[i]);
    in.clear();
    dict->getLine(in, words, labels);
  });
  (*j)["featurize_p50_us"] = Percentile(&feat, 50);

  if (verbose) std::fprintf(stderr, "fasttext_peer: single-text latency ...\n");
  std::vector<double> single = TimePerCall(n, a.seconds, overhead_ns, [&](size_t i) {
    in.str(lines[i]);
    in.clear();
    ft.predictLine(in, predictions, 1, 0.0);
  });
  double mean_us = 0;
  for (double v : single) mean_us += v;
  (*j)["single_mean_us"] = mean_us / double(single.size());
  (*j)["single_p50_us"] = Percentile(&single, 50);
  (*j)["single_p90_us"] = Percentile(&single, 90);
  (*j)["single_p99_us"] = Percentile(&single, 99);

  if (verbose) std::fprintf(stderr, "fasttext_peer: throughput, 1 and 2 threads ...\n");
  (*j)["batch_per_s_1t"] = Throughput(ft, lines, 1, a.seconds);
  (*j)["batch_per_s_2t"] = Throughput(ft, lines, 2, a.seconds);
  if (a.train.empty()) {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    (*j)["peak_rss_mb"] = double(ru.ru_maxrss) / 1024.0;  // KiB on Linux
  }
  return "";
}

void PrintTable(const nlohmann::json& j) {
  std::printf("fastText %s on %s (%zu texts)\n\n", j["model"].get<std::string>().c_str(),
              j["data"].get<std::string>().c_str(), j["examples"].get<size_t>());
  const std::pair<const char*, const char*> rows[] = {
      {"top-1 accuracy", "accuracy"},
      {"featurise p50 (us)", "featurize_p50_us"},
      {"single p50 (us)", "single_p50_us"},
      {"single p90 (us)", "single_p90_us"},
      {"single p99 (us)", "single_p99_us"},
      {"single mean (us)", "single_mean_us"},
      {"batch 1 thread (texts/s)", "batch_per_s_1t"},
      {"batch 2 threads (texts/s)", "batch_per_s_2t"},
      {"peak RSS (MB)", "peak_rss_mb"},
  };
  for (const auto& [name, key] : rows) {
    if (!j.contains(key)) continue;
    const double v = j[key].get<double>();
    std::printf("%-28s %14.*f\n", name, v >= 1000 ? 0 : v < 1 ? 4 : 2, v);
  }
  if (j.contains("train_s"))
    std::printf("\ntrained in %.1f s (%s); peak RSS not reported: it would count training\n",
                j["train_s"].get<double>(), j["settings"].get<std::string>().c_str());
  std::printf("timer overhead subtracted: %.0f ns per call\n",
              j["timer_overhead_ns"].get<double>());
}

// What is wrong with the combination of flags, or nullptr.
const char* UsageError(const PeerArgs& a) {
  if (a.train.empty() == a.model.empty()) return "give either --train or --model";
  if (!a.output.empty() && a.train.empty()) return "-o saves a model trained with --train";
  if (a.data.empty() && a.output.empty())
    return "nothing to do: give DATA to measure or -o to save";
  if (!(a.seconds >= 0.05 && a.seconds <= 600)) return "--seconds must be in [0.05, 600]";
  return nullptr;
}

int Run(const PeerArgs& a) {
  const char* usage_error = UsageError(a);
  if (usage_error) {
    std::fprintf(stderr, "fasttext_peer: %s\n", usage_error);
    return 1;
  }
  nlohmann::json j;
  fasttext::FastText ft;
  try {
    std::string error;
    if (!a.train.empty()) {
      error = Train(a, &ft, &j);
    } else {
      ft.loadModel(a.model);
      if (ft.getArgs().model != fasttext::model_name::sup)
        error = a.model + ": not a supervised (classification) model";
      j["model"] = a.model;
      j["model_mb"] = FileMb(a.model);
    }
    if (error.empty() && !a.data.empty()) error = Measure(a, ft, &j);
    if (!error.empty()) {
      std::fprintf(stderr, "fasttext_peer: %s\n", error.c_str());
      return 1;
    }
  } catch (const std::exception& e) {  // fastText reports bad files and data by throwing
    std::fprintf(stderr, "fasttext_peer: %s\n", e.what());
    return 1;
  }
  if (a.json) {
    std::printf("%s\n", DumpJson(j, 2).c_str());
  } else if (!a.data.empty()) {
    PrintTable(j);
  } else {
    std::printf("trained in %.1f s, wrote %s (%.1f MB)\n", j["train_s"].get<double>(),
                a.output.c_str(), j["model_mb"].get<double>());
  }
  return 0;
}

}  // namespace
}  // namespace fastintent

int main(int argc, char** argv) {
  fastintent::PeerArgs a;
  CLI::App app(
      "fastText measured in-process (FastText::predictLine), with the JSON field "
      "names of `fastintent bench`");
  app.add_option("--train", a.train,
                 "Train fastText on this labelled file (.jsonl, .csv, fastText)");
  app.add_option("--settings", a.settings, "fastText training flags (its command-line syntax)")
      ->capture_default_str();
  app.add_option("-o,--output", a.output, "With --train: save the trained model here (.bin)");
  app.add_option("--model", a.model, "Load this fastText model (.bin) instead of training");
  app.add_option("data", a.data, "Labelled test data to measure on (.jsonl, .csv, fastText)");
  app.add_flag("--json", a.json, "Print one JSON object");
  app.add_option("--seconds", a.seconds, "Minimum duration of each timed phase (0.05-600)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;  // --help is not a failure; usage errors exit 1
  }
  return fastintent::Run(a);
}
