// Test support shared by the engine and server tests (header-only, not part of any library): a
// three-class keyword model trained in milliseconds, so tests need no data files.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "fastintent/status.h"
#include "train/trainer.h"

namespace fastintent::testing {

// A component registry for the three classes (weather depends on alarm), as model metadata.
inline constexpr const char* kTinyComponents = R"({"components": [
  {"name": "weather", "priority": "HIGH", "memory_mb": 10, "load_ms": 1, "depends_on": ["alarm"], "description": ""},
  {"name": "music", "priority": "LOW", "memory_mb": 20, "load_ms": 1, "depends_on": [], "description": ""},
  {"name": "alarm", "priority": "CORE", "memory_mb": 5, "load_ms": 1, "depends_on": [], "description": ""}]})";

// The keywords of the three classes (weather, music, alarm), six each.
inline const std::vector<std::vector<std::string>>& Keywords() {
  static const std::vector<std::vector<std::string>> k = {
      {"weather", "rain", "forecast", "sunny", "umbrella", "snow"},
      {"song", "music", "playlist", "album", "track", "band"},
      {"alarm", "wake", "snooze", "clock", "morning", "timer"},
  };
  return k;
}

// Trains a 16-wide model on 90 three-keyword texts, deterministically; `labels` names the three
// classes in the order of Keywords() (so two models can be told apart by their label names).
inline StatusOr<Model> TrainTinyKeywordModel(const std::vector<std::string>& labels) {
  std::mt19937 rng(7);
  Dataset ds;
  for (size_t i = 0; i < 30 * labels.size(); ++i) {
    const size_t c = i % labels.size();
    std::string text;
    for (int w = 0; w < 3; ++w)
      text += (w ? " " : "") + Keywords()[c][rng() % Keywords()[c].size()];
    ds.examples.push_back({text, {labels[c]}, i + 1});
  }
  TrainOptions o;
  o.hidden = {16};
  o.max_epochs = 4;
  o.patience = 4;
  o.lr = 0.02f;
  o.threads = 1;
  o.valid_fraction = 0;
  o.featurizer.num_buckets = 1u << 12;
  return Train(ds, nullptr, o, nullptr);
}

}  // namespace fastintent::testing
