// `fastintent bench -m MODEL DATA [--json] [--train TRAIN] [--seconds S] [--no-peers]`
//
// Measures, in one run and on one labelled file, what a user of the model pays:
//   featurize     Featurizer::Featurize alone, per utterance (p50);
//   single        text in -> labels out (Model::Probabilities + Model::Decide), one thread, one
//                 call at a time, per-call latency p50/p99;
//   batch 1t/2t   utterances/s with 1 and 2 threads looping over the file, each thread with its
//                 own Session (the same calls as "single", back to back);
//   peak RSS      getrusage(RUSAGE_SELF).ru_maxrss of this process (model + data + scratch);
//   arithmetic    FLOPs per utterance (2 x rows summed x width for the first layer, 2 x in x out
//                 for each dense layer; a token whose sum the session caches counts as one row,
//                 the FLOPs of filling the cache are not counted) against this core's peak (SIMD
//                 lanes of the dispatched target x 2 FMA units x 2 FLOPs x clock, the clock
//                 calibrated with a chain of dependent adds).
// and the same for fastText when its CLI is installed (Debian package `fasttext`): it is
// trained on TRAIN (lower-cased, one line per example, __label__ format) and measured as a
// process: per-sentence latency through a pipe to `fasttext predict-prob MODEL -` (round trip
// minus the round trip of the same pipe through `cat`), throughput on the whole file (minus the
// model load time; 2 "threads" = 2 processes, as its predict is single-threaded), and the peak
// RSS of its predict process. Ratios are printed side by side.
//
// Timing notes: per-call figures subtract the measured cost of reading the clock; run it a few
// times on a shared machine and compare ratios within one run.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "fastintent/model_io.h"
#include "kernels/kernels.h"
#include "model/network.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "train/dataset.h"

namespace fastintent::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::string model, data, train;
  std::string precision = "stored";  // --precision
  bool json = false;
  bool no_peers = false;
  double seconds = 1.0;  // per timed phase
  std::string fasttext_bin = "fasttext";
  std::string fasttext_args =
      "-wordNgrams 2 -minn 2 -maxn 5 -dim 100 -epoch 25 -lr 1.0 -bucket 200000";
};

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Percentile (0..100) of `v` by nearest rank; sorts `v`.
double Percentile(std::vector<double>* v, double p) {
  if (v->empty()) return 0;
  std::sort(v->begin(), v->end());
  size_t i = size_t(std::ceil(p / 100.0 * double(v->size())));
  i = std::min(v->size() - 1, i == 0 ? 0 : i - 1);
  return (*v)[i];
}

// Median cost of one steady_clock::now() pair, in ns, subtracted from per-call samples.
double TimerOverheadNs() {
  std::vector<double> v;
  for (int i = 0; i < 20001; ++i) {
    const auto a = Clock::now();
    const auto b = Clock::now();
    v.push_back(std::chrono::duration<double, std::nano>(b - a).count());
  }
  return Percentile(&v, 50);
}

double PeakRssMb(int who) {
  rusage ru{};
  getrusage(who, &ru);
  return double(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// ---- Arithmetic against the peak ---------------------------------------------------------

// Lanes of float32 per vector for a Highway target name.
int LanesOf(const std::string& target) {
  if (target.rfind("AVX3", 0) == 0) return 16;
  if (target == "AVX2") return 8;
  if (target.rfind("SSE", 0) == 0 || target.rfind("SSSE", 0) == 0 || target == "NEON" ||
      target == "EMU128" || target == "WASM")
    return 4;
  if (target.rfind("SVE", 0) == 0) return 4;  // vector length unknown here; qemu/Graviton 3: 4-8
  return 1;
}

// Core clock in Hz from a chain of dependent one-cycle integer adds (0 if unsupported).
double CalibratedHz() {
#if defined(__x86_64__) || defined(__aarch64__)
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    uint64_t x = 0;
    const uint64_t iters = 4'000'000;
    const auto t0 = Clock::now();
    for (uint64_t i = 0; i < iters; ++i) {
#if defined(__x86_64__)
      asm volatile(
          "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
          "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
          : "+r"(x));
#else
      asm volatile(
          "add %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\t"
          "add %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1"
          : "+r"(x));
#endif
    }
    const double s = Seconds(t0, Clock::now());
    best = std::max(best, double(x) / s);  // the fastest run is the least disturbed
  }
  return best;
#else
  return 0;
#endif
}

double CpuinfoHz() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu MHz", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return std::atof(line.c_str() + colon + 1) * 1e6;
    }
  }
  return 0;
}

// ---- fastintent measurements -------------------------------------------------------------

struct Figures {
  double featurize_p50_us = 0, single_p50_us = 0, single_p99_us = 0;
  double batch_per_s_1t = 0, batch_per_s_2t = 0, peak_rss_mb = 0;
  double accuracy = -1;
};

// Runs fn(i) over the texts, one timed call each, passes until `seconds` (at least one pass);
// returns per-call microseconds (timer overhead removed).
template <class Fn>
std::vector<double> TimePerCall(size_t n, double seconds, double overhead_ns, Fn&& fn) {
  std::vector<double> us;
  us.reserve(n * 8);
  const auto start = Clock::now();
  do {
    for (size_t i = 0; i < n; ++i) {
      const auto a = Clock::now();
      fn(i);
      const auto b = Clock::now();
      us.push_back(
          std::max(0.0, std::chrono::duration<double, std::nano>(b - a).count() - overhead_ns) /
          1e3);
    }
  } while (Seconds(start, Clock::now()) < seconds);
  return us;
}

// Utterances per second with `threads` threads, each with its own Session, each looping over
// the texts (from its own starting point) for `seconds`.
double Throughput(const Model& m, const std::vector<std::string>& texts, int threads,
                  double seconds) {
  std::atomic<bool> go{false}, stop{false};
  std::vector<uint64_t> done(size_t(threads) * 8, 0);  // spaced out: no false sharing
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Session s = m.NewSession();
      std::vector<LabelScore> top;
      size_t i = texts.size() * size_t(t) / size_t(threads), count = 0;
      for (size_t w = 0; w < texts.size(); ++w) {  // warm-up pass
        if (m.Probabilities(texts[w], &s).ok()) m.Decide(s.probs(), 1, -1, &top);
      }
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 64; ++k) {
          if (m.Probabilities(texts[i], &s).ok()) m.Decide(s.probs(), 1, -1, &top);
          if (++i == texts.size()) i = 0;
        }
        count += 64;
      }
      done[size_t(t) * 8] = count;
    });
  }
  // Give every thread time to finish its warm-up pass before the clock starts.
  std::this_thread::sleep_for(std::chrono::milliseconds(50 + texts.size() / 200));
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

// ---- fastText, driven as a process --------------------------------------------------------

struct ProcessResult {
  int status = -1;     // exit code, or -1 if it did not exit normally
  double seconds = 0;  // wall time
  double max_rss_mb = 0;
};

pid_t Spawn(const std::vector<std::string>& argv, int in_fd, int out_fd, bool quiet_stderr) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  if (in_fd >= 0) dup2(in_fd, 0);
  if (out_fd >= 0) dup2(out_fd, 1);
  if (quiet_stderr) {
    const int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0) dup2(devnull, 2);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

ProcessResult Wait(pid_t pid, Clock::time_point started) {
  ProcessResult r;
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) == pid) {
    r.seconds = Seconds(started, Clock::now());
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.max_rss_mb = double(ru.ru_maxrss) / 1024.0;
  }
  return r;
}

// Runs argv with stdin from `in_path` (or /dev/null) and stdout to `out_path` (or /dev/null).
ProcessResult Run(const std::vector<std::string>& argv, const std::string& in_path,
                  const std::string& out_path) {
  const int in = open(in_path.empty() ? "/dev/null" : in_path.c_str(), O_RDONLY | O_CLOEXEC);
  const int out = open(out_path.empty() ? "/dev/null" : out_path.c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const auto t0 = Clock::now();
  const pid_t pid = Spawn(argv, in, out, true);
  close(in);
  close(out);
  return Wait(pid, t0);
}

// A child process fed line by line through a pipe; each line must produce one output line.
class LinePipe {
 public:
  bool Start(const std::vector<std::string>& argv) {
    int to[2], from[2];
    // Close-on-exec: the child must not inherit the other ends (it would never see EOF).
    if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) return false;
    pid_ = Spawn(argv, to[0], from[1], true);
    close(to[0]);
    close(from[1]);
    in_ = to[1];
    out_ = from[0];
    return pid_ > 0;
  }
  // Sends `line` (without newline) and reads one line back into `reply`; false on EOF.
  bool RoundTrip(const std::string& line, std::string* reply) {
    std::string msg = line + "\n";
    if (write(in_, msg.data(), msg.size()) != ssize_t(msg.size())) return false;
    reply->clear();
    for (;;) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        reply->assign(buf_, 0, nl);
        buf_.erase(0, nl + 1);
        return true;
      }
      char tmp[4096];
      const ssize_t n = read(out_, tmp, sizeof tmp);
      if (n <= 0) return false;
      buf_.append(tmp, size_t(n));
    }
  }
  ProcessResult Finish() {
    close(in_);
    std::string rest;
    char tmp[4096];
    while (read(out_, tmp, sizeof tmp) > 0) {
    }
    close(out_);
    return Wait(pid_, Clock::now());
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string buf_;
};

// One line of fastText input: lower-cased (ASCII), whitespace collapsed to single spaces.
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
  return out;
}

std::string FastTextLabel(const std::string& label) {
  std::string l = "__label__" + label;
  for (char& c : l)
    if (std::isspace(static_cast<unsigned char>(c))) c = '_';
  return l;
}

bool Writable(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  return bool(out);
}

bool OnPath(const std::string& bin) {
  if (bin.find('/') != std::string::npos) return access(bin.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  std::string dir;
  while (std::getline(ss, dir, ':'))
    if (!dir.empty() && access((dir + "/" + bin).c_str(), X_OK) == 0) return true;
  return false;
}

// Measures fastText; returns a JSON object with the keys it could measure, or a string saying
// why it was skipped.
nlohmann::json BenchFastText(const BenchArgs& a, const Dataset& test, double seconds,
                             bool verbose) {
  if (!OnPath(a.fasttext_bin))
    return "fasttext binary '" + a.fasttext_bin + "' not found (Debian package fasttext)";
  std::string train_path = a.train;
  if (train_path.empty()) {
    const size_t slash = a.data.rfind('/');
    const size_t pos = a.data.find("test", slash == std::string::npos ? 0 : slash);
    if (pos != std::string::npos) {
      std::string guess = a.data;
      guess.replace(pos, 4, "train");
      if (access(guess.c_str(), R_OK) == 0) train_path = guess;
    }
  }
  if (train_path.empty()) return "no training data for fastText (give --train)";
  auto train = ReadDataset(train_path);
  if (!train.ok()) return train.status().message();

  char dir_template[] = "/tmp/fastintent-bench-XXXXXX";
  if (!mkdtemp(dir_template)) return std::string("cannot create a temporary directory");
  const std::string dir = dir_template;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      for (const char* f : {"/train.txt", "/test.txt", "/big.txt", "/one.txt", "/model.bin",
                            "/model.vec", "/out.txt"})
        unlink((dir + f).c_str());
      rmdir(dir.c_str());
    }
  } cleanup{dir};

  std::string train_txt, test_txt;
  for (const Example& e : train->examples) {
    if (e.labels.empty()) continue;
    for (const std::string& l : e.labels) train_txt += FastTextLabel(l) + " ";
    train_txt += FastTextLine(e.text) + "\n";
  }
  std::vector<std::string> lines;
  for (const Example& e : test.examples) lines.push_back(FastTextLine(e.text));
  for (const std::string& l : lines) test_txt += l + "\n";
  std::string big;  // the test file repeated: long enough for the load time not to dominate
  size_t big_lines = 0;
  while (big_lines < 50000 && !lines.empty()) {
    big += test_txt;
    big_lines += lines.size();
  }
  if (!Writable(dir + "/train.txt", train_txt) || !Writable(dir + "/test.txt", test_txt) ||
      !Writable(dir + "/big.txt", big) ||
      !Writable(dir + "/one.txt", lines.empty() ? "\n" : lines[0] + "\n"))
    return "cannot write to " + dir;

  nlohmann::json r;
  std::vector<std::string> argv = {
      a.fasttext_bin, "supervised", "-input", dir + "/train.txt", "-output",
      dir + "/model", "-thread",    "2",      "-verbose",         "0"};
  {
    std::stringstream ss(a.fasttext_args);
    std::string w;
    while (ss >> w) argv.push_back(w);
  }
  if (verbose) std::fprintf(stderr, "bench: training fastText (%s) ...\n", a.fasttext_args.c_str());
  ProcessResult tr = Run(argv, "", "");
  if (tr.status != 0) return "fasttext supervised failed (exit " + std::to_string(tr.status) + ")";
  r["train_s"] = tr.seconds;
  r["settings"] = a.fasttext_args;
  const std::string model = dir + "/model.bin";
  struct stat st {};
  if (stat(model.c_str(), &st) == 0) r["model_mb"] = double(st.st_size) / (1 << 20);

  // Accuracy (top-1, out-of-scope counted as a class) and the prediction output.
  ProcessResult acc =
      Run({a.fasttext_bin, "predict", model, dir + "/test.txt", "1"}, "", dir + "/out.txt");
  if (acc.status == 0) {
    std::ifstream in(dir + "/out.txt");
    std::string line;
    size_t i = 0, correct = 0;
    while (std::getline(in, line) && i < test.examples.size()) {
      const auto& gold = test.examples[i++].labels;
      for (const std::string& g : gold)
        if (line == FastTextLabel(g)) ++correct;
    }
    if (i) r["accuracy"] = double(correct) / double(i);
  }

  // Single-sentence latency: the round trip through a pipe to a running predictor, minus the
  // same pipe's round trip through `cat` (two context switches that are not fastText's work).
  auto pipe_latency = [&](const std::vector<std::string>& cmd, std::vector<double>* us) -> bool {
    LinePipe p;
    if (!p.Start(cmd)) return false;
    std::string reply;
    if (!p.RoundTrip(lines.empty() ? "hello" : lines[0], &reply))
      return false;  // waits for the load
    for (size_t w = 0; w < std::min<size_t>(lines.size(), 500); ++w) p.RoundTrip(lines[w], &reply);
    const auto start = Clock::now();
    do {
      for (const std::string& l : lines) {
        const auto t0 = Clock::now();
        if (!p.RoundTrip(l, &reply)) return false;
        us->push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
    } while (Seconds(start, Clock::now()) < seconds);
    ProcessResult pr = p.Finish();
    if (cmd[0] != "cat") r["peak_rss_mb"] = pr.max_rss_mb;
    return true;
  };
  std::vector<double> ft_us, cat_us;
  if (pipe_latency({"cat"}, &cat_us) &&
      pipe_latency({a.fasttext_bin, "predict-prob", model, "-", "1"}, &ft_us)) {
    const double base = Percentile(&cat_us, 50);
    r["pipe_roundtrip_p50_us"] = base;
    r["roundtrip_p50_us"] = Percentile(&ft_us, 50);
    r["roundtrip_p99_us"] = Percentile(&ft_us, 99);
    r["single_p50_us"] = std::max(0.0, Percentile(&ft_us, 50) - base);
    r["single_p99_us"] = std::max(0.0, Percentile(&ft_us, 99) - base);
  }

  // Throughput: the repeated test file, minus the time to load the model and answer one line.
  ProcessResult load = Run({a.fasttext_bin, "predict-prob", model, dir + "/one.txt", "1"}, "", "");
  ProcessResult one = Run({a.fasttext_bin, "predict-prob", model, dir + "/big.txt", "1"}, "", "");
  if (load.status == 0 && one.status == 0 && one.seconds > load.seconds) {
    r["load_s"] = load.seconds;
    r["batch_per_s_1t"] = double(big_lines) / (one.seconds - load.seconds);
    r["peak_rss_mb"] = std::max(r.value("peak_rss_mb", 0.0), one.max_rss_mb);
    // Two processes at once (fastText's predict has no threads).
    const auto t0 = Clock::now();
    const int in1 = open((dir + "/big.txt").c_str(), O_RDONLY | O_CLOEXEC);
    const int in2 = open((dir + "/big.txt").c_str(), O_RDONLY | O_CLOEXEC);
    const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    const std::vector<std::string> cmd = {a.fasttext_bin, "predict-prob", model, "-", "1"};
    const pid_t p1 = Spawn(cmd, in1, null, true), p2 = Spawn(cmd, in2, null, true);
    close(in1);
    close(in2);
    close(null);
    ProcessResult r1 = Wait(p1, t0), r2 = Wait(p2, t0);
    const double wall = std::max(r1.seconds, r2.seconds);
    if (r1.status == 0 && r2.status == 0 && wall > load.seconds)
      r["batch_per_s_2t"] = 2.0 * double(big_lines) / (wall - load.seconds);
  }
  return r;
}

// ---- Output -------------------------------------------------------------------------------

std::string Num(const nlohmann::json& j, const char* key, const char* fmt) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, j[key].get<double>());
  return buf;
}

// "12.3x" where `better` is how many times better fastintent is (higher = better for us).
std::string Ratio(const nlohmann::json& us, const nlohmann::json& peer, const char* key,
                  bool lower_is_better) {
  if (!peer.is_object() || !peer.contains(key) || !us.contains(key)) return "";
  const double a = us[key].get<double>(), b = peer[key].get<double>();
  if (a <= 0 || b <= 0) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1fx", lower_is_better ? b / a : a / b);
  return buf;
}

void PrintTable(const nlohmann::json& j) {
  const nlohmann::json peer =
      j["peers"].contains("fasttext") ? j["peers"]["fasttext"] : nlohmann::json();
  std::printf("fastintent bench: %s (%s weights) on %s (%zu utterances), SIMD target %s\n\n",
              j["model"].get<std::string>().c_str(), j["precision"].get<std::string>().c_str(),
              j["data"].get<std::string>().c_str(), j["examples"].get<size_t>(),
              j["simd_target"].get<std::string>().c_str());
  std::printf("%-28s %14s %14s %12s\n", "", "fastintent", "fastText", "fastintent");
  std::printf("%-28s %14s %14s %12s\n", "", "", "", "advantage");
  struct Row {
    const char* name;
    const char* key;
    const char* fmt;
    bool lower_better;
  };
  const Row rows[] = {
      {"featurise p50 (us)", "featurize_p50_us", "%.2f", true},
      {"single p50 (us)", "single_p50_us", "%.2f", true},
      {"single p99 (us)", "single_p99_us", "%.2f", true},
      {"batch 1 thread (utt/s)", "batch_per_s_1t", "%.0f", false},
      {"batch 2 threads (utt/s)", "batch_per_s_2t", "%.0f", false},
      {"peak RSS (MB)", "peak_rss_mb", "%.1f", true},
      {"top-1 accuracy", "accuracy", "%.4f", false},
  };
  for (const Row& r : rows)
    std::printf("%-28s %14s %14s %12s\n", r.name, Num(j, r.key, r.fmt).c_str(),
                Num(peer, r.key, r.fmt).c_str(), Ratio(j, peer, r.key, r.lower_better).c_str());
  if (peer.is_object()) {
    std::printf(
        "\nfastText: %s; trained in %.1f s; %s MB model; pipe round trip p50 %.1f us "
        "(of which the pipe alone %.1f us); load %.2f s\n",
        peer.value("settings", "").c_str(), peer.value("train_s", 0.0),
        Num(peer, "model_mb", "%.1f").c_str(), peer.value("roundtrip_p50_us", 0.0),
        peer.value("pipe_roundtrip_p50_us", 0.0), peer.value("load_s", 0.0));
  }
  for (auto& [name, why] : j["peers_skipped"].items())
    std::printf("\n%s skipped: %s\n", name.c_str(), why.get<std::string>().c_str());
  const auto& ar = j["arithmetic"];
  std::printf(
      "\narithmetic: %.0f FLOPs/utterance (%.1f features as %.1f rows x %u wide first layer + "
      "dense layers);\n"
      "  peak of one core %.1f GFLOP/s (%d lanes x 2 FMA units x 2 x %.2f GHz, %s);\n"
      "  achieved %.2f GFLOP/s on 1 thread = %.2f%% of peak (single-call: %.2f%%)\n",
      ar["flops_per_utterance"].get<double>(), ar["features_per_utterance"].get<double>(),
      ar["first_layer_rows_per_utterance"].get<double>(), ar["first_layer_width"].get<unsigned>(),
      ar["peak_gflops_per_core"].get<double>(), ar["lanes"].get<int>(), ar["ghz"].get<double>(),
      ar["ghz_source"].get<std::string>().c_str(), ar["achieved_gflops_1t"].get<double>(),
      ar["percent_of_peak_1t"].get<double>(), ar["percent_of_peak_single"].get<double>());
  std::printf("timer overhead subtracted: %.0f ns per call\n",
              j["timer_overhead_ns"].get<double>());
}

int Run(const BenchArgs& a) {
  auto loaded = LoadForInference(a.model, a.precision);
  if (!loaded.ok()) return Fail(loaded.status().message());
  const Model& m = **loaded;
  auto data = ReadDataset(a.data);
  if (!data.ok()) return Fail(data.status().message());
  if (data->examples.empty()) return Fail(a.data + ": no examples");
  if (Status s = CheckLabelsKnown(m, *data, a.data); !s.ok()) return Fail(s.message());
  std::vector<std::string> texts;
  for (const Example& e : data->examples) texts.push_back(e.text);
  const size_t n = texts.size();
  const double overhead_ns = TimerOverheadNs();
  const bool verbose = !a.json;

  nlohmann::json j;
  j["model"] = a.model.empty() ? DefaultModelPath() : a.model;
  j["data"] = a.data;
  j["examples"] = n;
  j["simd_target"] = kernels::ActiveTarget();
  j["precision"] = PrecisionName(m.network().precision);
  j["timer_overhead_ns"] = overhead_ns;

  Session s = m.NewSession();
  std::vector<LabelScore> top;
  // Warm-up (sizes every scratch buffer) and accuracy: top label vs gold, no rejection.
  // The featuriser's own scratch and output (not the session's) for the feature counts and the
  // featurisation timing.
  FeaturizerScratch scratch;
  FeatureVector x;
  size_t correct = 0, nnz_total = 0, rows_total = 0, classified = 0;
  for (const Example& e : data->examples) {
    if (!m.Probabilities(e.text, &s).ok()) continue;
    ++classified;
    m.featurizer().Featurize(e.text, &scratch, &x);
    nnz_total += x.rows.size();
    // First-layer rows summed once the session's TokenSums are warm: a keyed token's entries are
    // one cached sum.
    rows_total += x.rows.size();
    for (const CharSpan& span : x.spans)
      if (span.key.len > 0) rows_total -= span.end - span.begin - 1;
    m.Decide(s.probs(), 1, 0, &top);
    if (!top.empty() &&
        std::find(e.labels.begin(), e.labels.end(), m.labels()[top[0].label]) != e.labels.end())
      ++correct;
  }
  j["accuracy"] = double(correct) / double(n);

  if (verbose) std::fprintf(stderr, "bench: featurisation ...\n");
  std::vector<double> feat = TimePerCall(n, a.seconds, overhead_ns, [&](size_t i) {
    m.featurizer().Featurize(texts[i], &scratch, &x);
  });
  j["featurize_p50_us"] = Percentile(&feat, 50);

  if (verbose) std::fprintf(stderr, "bench: single-utterance latency ...\n");
  std::vector<double> single = TimePerCall(n, a.seconds, overhead_ns, [&](size_t i) {
    if (m.Probabilities(texts[i], &s).ok()) m.Decide(s.probs(), 1, -1, &top);
  });
  j["single_p50_us"] = Percentile(&single, 50);
  j["single_p99_us"] = Percentile(&single, 99);
  double mean_us = 0;
  for (double v : single) mean_us += v;
  mean_us /= double(single.size());
  j["single_mean_us"] = mean_us;

  if (verbose) std::fprintf(stderr, "bench: throughput, 1 and 2 threads ...\n");
  j["batch_per_s_1t"] = Throughput(m, texts, 1, a.seconds);
  j["batch_per_s_2t"] = Throughput(m, texts, 2, a.seconds);
  j["peak_rss_mb"] = PeakRssMb(RUSAGE_SELF);

  // Arithmetic: multiply-adds actually needed (unpadded widths), 2 FLOPs each.
  const Network& net = m.network();
  const double feats = classified ? double(nnz_total) / double(classified) : 0;
  const double rows = classified ? double(rows_total) / double(classified) : 0;
  double flops = 2.0 * rows * net.width0() + net.width0();  // first layer + bias
  for (const DenseLayer& l : net.layers) flops += 2.0 * l.in * l.out + l.out;
  const std::string target = kernels::ActiveTarget();
  const int lanes = LanesOf(target);
  double hz = CalibratedHz();
  std::string hz_source = "calibrated with dependent adds";
  if (hz <= 0) {
    hz = CpuinfoHz();
    hz_source = "/proc/cpuinfo";
  }
  const double peak = double(lanes) * 2 * 2 * hz / 1e9;  // GFLOP/s
  const double achieved = flops * j["batch_per_s_1t"].get<double>() / 1e9;
  const double single_gflops =
      j["single_p50_us"].get<double>() > 0 ? flops / (j["single_p50_us"].get<double>() * 1e3) : 0;
  j["arithmetic"] = {
      {"flops_per_utterance", flops},
      {"features_per_utterance", feats},
      {"first_layer_rows_per_utterance", rows},
      {"first_layer_width", net.width0()},
      {"lanes", lanes},
      {"ghz", hz / 1e9},
      {"ghz_source", hz_source},
      {"cpuinfo_ghz", CpuinfoHz() / 1e9},
      {"peak_gflops_per_core", peak},
      {"achieved_gflops_1t", achieved},
      {"percent_of_peak_1t", peak > 0 ? 100 * achieved / peak : 0},
      {"percent_of_peak_single", peak > 0 ? 100 * single_gflops / peak : 0},
      {"first_layer_bytes_per_utterance",
       rows * double(net.stride0()) *
           (net.precision == Precision::kInt8 ? 1.0 : double(sizeof(float)))},
  };

  j["peers"] = nlohmann::json::object();
  j["peers_skipped"] = nlohmann::json::object();
  if (!a.no_peers) {
    nlohmann::json ft = BenchFastText(a, *data, a.seconds, verbose);
    if (ft.is_object()) {
      j["peers"]["fasttext"] = ft;
    } else {
      j["peers_skipped"]["fasttext"] = ft;
    }
  }
  if (a.json) {
    std::printf("%s\n", DumpJson(j, 2).c_str());
  } else {
    PrintTable(j);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void AddBench(CLI::App& root, int* exit_code) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* c = root.add_subcommand(
      "bench",
      "Measure featurisation, single-utterance latency, throughput and memory, beside fastText");
  c->add_option("-m,--model", a->model, "Model file (default: the built-in assistant model)")
      ->check(NotEmpty());
  AddPrecisionOption(c, &a->precision);
  c->add_option("data", a->data, "Labelled test data (.jsonl, .csv or fastText format)")
      ->required();
  c->add_flag(
      "--json", a->json,
      "Print one JSON object (single_p50_us, single_p99_us, batch_per_s_1t, batch_per_s_2t, "
      "featurize_p50_us, peak_rss_mb, peers: {fasttext: {...}}, arithmetic)");
  c->add_option(
      "--train", a->train,
      "Training data for fastText (default: DATA with 'test' replaced by 'train', if it exists)");
  c->add_option("--seconds", a->seconds, "Minimum duration of each timed phase")
      ->capture_default_str()
      ->check(NumberIn(0.05, 600.0));
  c->add_flag("--no-peers", a->no_peers, "Do not measure fastText");
  c->add_option("--fasttext", a->fasttext_bin, "fastText executable")->capture_default_str();
  c->add_option("--fasttext-args", a->fasttext_args, "fastText training settings")
      ->capture_default_str();
  c->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace fastintent::cli
