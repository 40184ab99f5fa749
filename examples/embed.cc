// A minimal C++ embedder: loads a model, classifies one text and prints the top label.
// It includes only the public API (include/fastintent/); the `layers` test keeps it that way.
//   embed MODEL.fim "play some jazz"   ->   music 0.93
#include <cstdio>
#include <vector>

#include "fastintent/model.h"
#include "fastintent/model_io.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL.fim TEXT\n", argv[0]);
    return 2;
  }
  auto model = fastintent::LoadModel(argv[1]);  // verifies every section's checksum
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  fastintent::Session session = (*model)->NewSession();  // one per thread; reuse it
  if (fastintent::Status s = (*model)->Probabilities(argv[2], &session); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<fastintent::LabelScore> top;
  (*model)->Decide(session.probs(), /*k=*/1, /*threshold=*/-1, &top);  // calibrated threshold
  if (top.empty()) {
    std::printf("(rejected: out of scope)\n");
  } else {
    std::printf("%s %.2f\n", (*model)->labels()[top[0].label].c_str(), top[0].prob);
  }
  return 0;
}
