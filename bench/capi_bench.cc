// capi_bench MODEL TEXTS.jsonl [--rounds 7]: the C API's cost per call over the C++ API, on the
// same model and texts in one run. Each round times, over every text:
//   C++    Model::Probabilities + Model::Decide(k=1) on one Session (what fi_model_classify does)
//   C API  fi_model_classify(k=1) through libfastintent.so (argument checks, thread's session
//          cache, catch-all, copy out)
// alternating the two so that machine noise hits both alike, and prints the best round of each
// in ns per call and their difference.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fastintent/fastintent.h"
#include "fastintent/model_io.h"

namespace {

using Clock = std::chrono::steady_clock;

double NsPerCall(Clock::time_point start, size_t calls) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / double(calls);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: capi_bench MODEL TEXTS.jsonl [--rounds N]\n");
    return 1;
  }
  const std::string path = argv[1];
  int rounds = 7;
  if (argc >= 5 && std::strcmp(argv[3], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[4]));
  std::vector<std::string> texts;
  std::ifstream in(argv[2]);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    texts.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
  }
  if (texts.empty()) {
    std::fprintf(stderr, "capi_bench: no texts in %s\n", argv[2]);
    return 1;
  }
  auto cpp = fastintent::LoadModel(path);
  fi_model* c = nullptr;
  fi_error* err = fi_model_load(path.c_str(), path.size(), &c);
  if (!cpp.ok() || err) {
    std::fprintf(stderr, "capi_bench: %s\n",
                 cpp.ok() ? fi_error_message(err) : cpp.status().message().c_str());
    return 1;
  }
  const fastintent::Model& m = **cpp;
  fastintent::Session session = m.NewSession();
  std::vector<fastintent::LabelScore> top;
  size_t sink = 0;
  double best_cpp = 1e300, best_c = 1e300;
  for (int r = 0; r < rounds + 1; ++r) {  // round 0 warms both up
    Clock::time_point t = Clock::now();
    for (const std::string& text : texts) {
      if (m.Probabilities(text, &session).ok()) {
        m.Decide(session.probs(), 1, -1, &top);
        sink += top.empty() ? 0 : top[0].label;
      }
    }
    const double cpp_ns = NsPerCall(t, texts.size());
    t = Clock::now();
    for (const std::string& text : texts) {
      fi_label_score out;
      size_t n = 0;
      fi_error* e = fi_model_classify(c, text.data(), text.size(), 1, -1.0f, &out, 1, &n);
      if (e == nullptr) {
        sink += n ? out.label : 0;
      } else {
        fi_error_free(e);
      }
    }
    const double c_ns = NsPerCall(t, texts.size());
    if (r > 0) {
      best_cpp = std::min(best_cpp, cpp_ns);
      best_c = std::min(best_c, c_ns);
    }
  }
  std::printf("%zu texts, best of %d rounds (checksum %zu)\n", texts.size(), rounds, sink);
  std::printf("C++ Probabilities + Decide   %8.1f ns/call\n", best_cpp);
  std::printf("C API fi_model_classify      %8.1f ns/call\n", best_c);
  std::printf("C API overhead               %+8.1f ns/call\n", best_c - best_cpp);
  fi_model_free(c);
  return 0;
}
