// libFuzzer target: LoadModelFromBuffer on arbitrary bytes must either fail with a Status or
// give a model that classifies any text without crashing.
//
// Random mutations almost never keep the CRC-32C checksums right, which would leave everything
// after the checksum checks unexplored; so the input's header and section checksums are first
// recomputed wherever the framing can be followed (FixChecksums), and both the raw and the
// fixed bytes are loaded. Seeds: model files (scripts/fuzz.sh writes float32 and int8 ones).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/crc32.h"
#include "fastintent/model_io.h"
#include "model/network.h"

namespace {

using fastintent::Crc32c;

uint32_t GetU32(const std::string& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}

void PutU32(std::string* b, size_t at, uint32_t v) { std::memcpy(&(*b)[at], &v, 4); }

// Rewrites the header checksum and each section's checksum (docs/model-format.md, "Container")
// for as many sections as the lengths allow.
std::string FixChecksums(std::string b) {
  if (b.size() < 20) return b;
  PutU32(&b, 16, Crc32c(0, b.data(), 16));
  size_t at = 20;
  const uint32_t count = GetU32(b, 12);
  for (uint32_t i = 0; i < count && i < 64; ++i) {
    if (b.size() - at < 4) break;
    const uint32_t name_len = GetU32(b, at);
    if (name_len > 64 || b.size() - at < 4 + size_t(name_len) + 8) break;
    uint64_t len;
    std::memcpy(&len, b.data() + at + 4 + name_len, 8);
    const size_t head = 4 + size_t(name_len) + 8;
    if (len > b.size() - at - head || b.size() - at - head - len < 4) break;
    const size_t covered = head + size_t(len);
    PutU32(&b, at + covered, Crc32c(0, b.data() + at, covered));
    at += covered + 4;
  }
  return b;
}

void Exercise(const std::string& bytes) {
  auto loaded = fastintent::LoadModelFromBuffer(bytes.data(), bytes.size(), "fuzz.fim");
  if (!loaded.ok()) {
    if (loaded.status().message().empty()) std::abort();  // every error must say something
    return;
  }
  const fastintent::Model& m = **loaded;
  // Keep the work per input bounded: skip (valid) models too large to run quickly.
  if (m.network().ParameterCount() > (size_t(1) << 22)) return;
  fastintent::Session s = m.NewSession();
  std::vector<fastintent::LabelScore> top;
  for (const char* text : {"play some jazz", "", "caf\xC3\xA9 \xFF\xFE wake me up at 7", "a"}) {
    if (!m.Probabilities(text, &s).ok()) continue;
    if (s.probs().size() != m.labels().size()) std::abort();
    m.Decide(s.probs(), 3, -1, &top);
    if (top.size() > 3) std::abort();
  }
  // What loads must survive a save/load round trip, in both precisions.
  const std::string again = fastintent::SerializeModel(m);
  if (!fastintent::LoadModelFromBuffer(again.data(), again.size(), "again.fim").ok()) std::abort();
  const std::string q = fastintent::SerializeModel(*fastintent::QuantizeModel(m));
  if (!fastintent::LoadModelFromBuffer(q.data(), q.size(), "int8.fim").ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  Exercise(raw);
  const std::string fixed = FixChecksums(raw);
  if (fixed != raw) Exercise(fixed);
  return 0;
}
