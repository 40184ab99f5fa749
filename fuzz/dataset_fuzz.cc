// libFuzzer target: ReadDataset on arbitrary bytes, as JSON Lines, CSV or fastText (the first
// byte picks the extension). It must never crash, and what it returns must be what it promises:
// on success, examples with non-empty labels, texts within kMaxTextBytes and increasing line
// numbers; on failure, a message that names the file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "text/featurizer.h"
#include "train/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kExtensions[] = {".jsonl", ".csv", ".txt"};
  const std::string path =
      "/tmp/dataset_fuzz_" + std::to_string(::getpid()) + kExtensions[data[0] % 3];
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    std::fwrite(data + 1, 1, size - 1, f);
    std::fclose(f);
  }
  auto ds = fastintent::ReadDataset(path);
  std::remove(path.c_str());
  if (!ds.ok()) {
    if (ds.status().message().rfind(path + ":", 0) != 0) std::abort();  // names the file
    return 0;
  }
  size_t last_line = 0;
  for (const fastintent::Example& e : ds->examples) {
    if (e.line <= last_line) std::abort();
    last_line = e.line;
    if (e.text.size() > fastintent::kMaxTextBytes) std::abort();
    for (const std::string& l : e.labels)
      if (l.empty()) std::abort();
    if (!ds->multi_label && e.labels.size() != 1) std::abort();
  }
  if (ds->multi_label != (ds->multi_label_line != 0)) std::abort();
  return 0;
}
