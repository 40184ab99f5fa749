// Trains a Model from a Dataset: mini-batch AdamW (lazy, row-wise for the sparse first layer),
// dropout, label smoothing, early stopping on a validation split, and calibration of the
// rejection threshold. Deterministic for a given seed and thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fastintent/status.h"
#include "model/network.h"
#include "text/featurizer.h"
#include "train/dataset.h"

namespace fastintent {

struct TrainOptions {
  FeaturizerConfig featurizer;
  std::vector<uint32_t> hidden = {256};  // hidden widths; {} trains a linear model
  uint32_t max_epochs = 30;
  uint32_t patience = 4;  // epochs without validation improvement before stopping
  uint32_t batch_size = 64;
  float lr = 3e-3f;              // AdamW learning rate (decays linearly to 10% at max_epochs)
  float weight_decay = 0.0f;     // decoupled (AdamW) weight decay
  float embedding_eps = 1e-3f;   // Adam epsilon of the sparse first layer: rare features move less
  float dropout = 0.3f;          // on every hidden activation
  float feature_dropout = 0.0f;  // probability of dropping each input feature while training
  float label_smoothing = 0.1f;  // softmax only
  // After early stopping picks the epoch count on the validation split, train again from
  // scratch on train + validation for that many epochs (the threshold stays the one calibrated
  // on validation). Costs a second training; helps most when data is scarce.
  bool refit = false;
  uint32_t fixed_epochs = 0;      // > 0: run exactly this many epochs, no early stopping
  float threshold_override = -1;  // >= 0: use this threshold instead of calibrating
  bool average_weights = true;    // evaluate and keep the running average of epoch weights
  uint64_t seed = 1;
  uint32_t threads = 2;
  float valid_fraction = 0.1f;    // carved from train (stratified) when no validation set given
  std::string oos_label = "oos";  // this label, when present, means "out of scope"
  // Called after every epoch (on the calling thread) with that epoch's figures; the CLI draws
  // its progress bar from them.
  std::function<void(const struct EpochReport&)> on_epoch;
};

struct EpochReport {
  uint32_t epoch = 0;
  uint32_t max_epochs = 0;
  double train_loss = 0;
  double valid_accuracy = 0;  // single-label: accuracy; multi-label: exact match at 0.5
  double seconds = 0;         // wall time since training started
  bool improved = false;
};

struct TrainReport {
  uint32_t epochs_run = 0;
  uint32_t best_epoch = 0;
  double best_valid_accuracy = 0;
  double seconds = 0;
  float threshold = 0;
  size_t train_examples = 0;
  size_t valid_examples = 0;
  std::string calibration;  // how the threshold was chosen, for humans
};

// Trains on `train`, early-stopping on `valid` (or on a split carved from `train` when `valid`
// is null; an empty `valid` is an error). Fails when the data has no labels, when valid holds
// labels the training data does not ("valid.jsonl:12: label 'x' does not occur in the training
// data (train.jsonl)"), or when a text is longer than kMaxTextBytes. Errors are prefixed with
// train.source when it is set.
StatusOr<Model> Train(const Dataset& train, const Dataset* valid, const TrainOptions& options,
                      TrainReport* report);

// Named hidden-layer presets: "seed" = {256, 128, 64} (the original system), "default",
// "wide" = {768}, "linear" = {}. Returns NotFound for unknown names.
StatusOr<std::vector<uint32_t>> HiddenPreset(const std::string& name);

}  // namespace fastintent
