// `fastintent train DATA [--valid VALID] -o MODEL [options]`
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "fastintent/model_io.h"
#include "model/network.h"
#include "router/router.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "train/trainer.h"

namespace fastintent::cli {
namespace {

struct TrainArgs {
  std::string data, valid, output, arch = "default", hidden, components, char_ngrams = "2-5";
  TrainOptions opt;
  bool quiet = false;
};

Status ParseHidden(const std::string& s, std::vector<uint32_t>* out) {
  out->clear();
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end || v <= 0 || v > 8192)
      return InvalidArgument("--hidden: bad width '" + item + "'");
    out->push_back(uint32_t(v));
  }
  return Status::Ok();
}

void PrintProgress(const EpochReport& r, bool tty) {
  const double eta = r.epoch ? r.seconds / r.epoch * (r.max_epochs - r.epoch) : 0;
  if (tty) {
    const int width = 20, done = int(width * r.epoch / std::max(1u, r.max_epochs));
    std::fprintf(stderr,
                 "\r\033[Kepoch %2u/%u [%.*s%*s] loss %.4f  valid %.2f%%%s  %.1fs  ETA <=%.0fs",
                 r.epoch, r.max_epochs, done, "====================", width - done, "",
                 r.train_loss, 100 * r.valid_accuracy, r.improved ? "*" : " ", r.seconds, eta);
  } else {
    std::fprintf(stderr, "epoch %u/%u loss %.4f valid %.2f%%%s %.1fs\n", r.epoch, r.max_epochs,
                 r.train_loss, 100 * r.valid_accuracy, r.improved ? " (best)" : "", r.seconds);
  }
  std::fflush(stderr);
}

int Run(TrainArgs& a) {
  if (!a.hidden.empty()) {
    Status s = ParseHidden(a.hidden, &a.opt.hidden);
    if (!s.ok()) return Fail(s.message());
  } else {
    auto h = HiddenPreset(a.arch);
    if (!h.ok()) return Fail(h.status().message());
    a.opt.hidden = *h;
  }
  if (a.char_ngrams == "0" || a.char_ngrams == "none") {
    a.opt.featurizer.char_min = a.opt.featurizer.char_max = 0;
  } else if (std::sscanf(a.char_ngrams.c_str(), "%u-%u", &a.opt.featurizer.char_min,
                         &a.opt.featurizer.char_max) != 2) {
    return Fail("--char-ngrams: expected MIN-MAX (e.g. 2-5) or 0");
  }
  std::optional<ComponentRegistry> registry;
  if (!a.components.empty()) {
    std::ifstream in(a.components);
    if (!in) return Fail(a.components + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    auto reg = ComponentRegistry::Parse(ss.str(), a.components);
    if (!reg.ok()) return Fail(reg.status().message());
    registry = std::move(*reg);
  }
  // Replacing an input with the model would lose it (the write is atomic, so it would succeed).
  for (const std::string* input : {&a.data, &a.valid, &a.components})
    if (!input->empty() && SameFile(*input, a.output))
      return Fail(a.output + ": is the input file " + *input + "; refusing to overwrite it");
  auto train = ReadDataset(a.data);
  if (!train.ok()) return Fail(train.status().message());
  StatusOr<Dataset> valid = Dataset{};
  if (!a.valid.empty()) {
    valid = ReadDataset(a.valid);
    if (!valid.ok()) return Fail(valid.status().message());
    if (valid->examples.empty())
      return Fail(a.valid +
                  ": no examples (leave out --valid to carve 10% from the training data)");
  }
  const bool tty = isatty(STDERR_FILENO);
  if (!a.quiet) a.opt.on_epoch = [tty](const EpochReport& r) { PrintProgress(r, tty); };
  TrainReport report;
  auto model = Train(*train, a.valid.empty() ? nullptr : &*valid, a.opt, &report);
  if (!a.quiet && tty) std::fprintf(stderr, "\n");
  if (!model.ok()) return Fail(model.status().message());  // names the file (and line) at fault

  nlohmann::json meta = {
      {"trained_on", a.data},
      {"validated_on", a.valid.empty() ? "carved from training data" : a.valid},
      {"train_examples", report.train_examples},
      {"valid_examples", report.valid_examples},
      {"epochs_run", report.epochs_run},
      {"best_epoch", report.best_epoch},
      {"best_valid_accuracy", report.best_valid_accuracy},
      {"train_seconds", report.seconds},
      {"calibration", report.calibration},
      {"seed", a.opt.seed},
      {"threads", a.opt.threads},
  };
  Status s =
      SaveModel(*model, a.output, registry ? registry->EmbedInMetadata(meta) : DumpJson(meta));
  if (!s.ok()) return Fail(s.message());
  if (!a.quiet) {
    // Say what decided the output kind: one multi-label line makes the whole file multi-label.
    if (train->multi_label || valid->multi_label) {
      const bool by_train = train->multi_label;
      std::fprintf(
          stderr, "multi-label data (from %s:%zu): sigmoid output, each label decided on its own\n",
          (by_train ? a.data : a.valid).c_str(), (by_train ? train : valid)->multi_label_line);
    }
    std::fprintf(stderr,
                 "trained %zu labels on %zu examples in %.2fs (%u epochs, best %u: valid %.2f%%)\n"
                 "calibration: %s\nwrote %s (%zu parameters)\n",
                 model->labels().size(), report.train_examples, report.seconds, report.epochs_run,
                 report.best_epoch, 100 * report.best_valid_accuracy, report.calibration.c_str(),
                 a.output.c_str(), model->network().ParameterCount());
  }
  return 0;
}

}  // namespace

void AddTrain(CLI::App& root, int* exit_code) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* c = root.add_subcommand(
      "train", "Train a model from labelled text (JSON Lines, CSV or fastText format)");
  c->add_option("data", a->data,
                "Training data: .jsonl with \"text\" and \"label\"/\"labels\", .csv with "
                "text,label, or fastText __label__ lines")
      ->required();
  c->add_option("--valid", a->valid,
                "Validation data for early stopping and calibration (default: 10% carved from "
                "DATA, stratified)");
  c->add_option("-o,--output", a->output, "Where to write the model file (written atomically)")
      ->required();
  c->add_option("--arch", a->arch,
                "Hidden-layer preset: default, seed (256,128,64), wide (768), linear (none)");
  c->add_option("--hidden", a->hidden,
                "Hidden widths, comma-separated (overrides --arch), e.g. 512,128");
  c->add_option("--epochs", a->opt.max_epochs, "Maximum epochs")->capture_default_str();
  c->add_option("--patience", a->opt.patience,
                "Stop after this many epochs without validation improvement")
      ->capture_default_str();
  c->add_option("--batch", a->opt.batch_size, "Mini-batch size")->capture_default_str();
  c->add_option("--lr", a->opt.lr, "AdamW learning rate (decays linearly to 10%)")
      ->capture_default_str();
  c->add_option("--weight-decay", a->opt.weight_decay, "Decoupled weight decay")
      ->capture_default_str();
  c->add_option(
       "--embedding-eps", a->opt.embedding_eps,
       "Adam epsilon of the first (sparse) layer: larger values make rare features move less")
      ->capture_default_str();
  c->add_option("--dropout", a->opt.dropout, "Dropout on hidden activations")
      ->capture_default_str();
  c->add_option("--feature-dropout", a->opt.feature_dropout,
                "Probability of dropping each input feature while training")
      ->capture_default_str();
  c->add_option("--label-smoothing", a->opt.label_smoothing, "Label smoothing (single-label)")
      ->capture_default_str();
  c->add_option("--buckets", a->opt.featurizer.num_buckets, "Hash buckets for features")
      ->capture_default_str();
  c->add_option("--word-ngrams", a->opt.featurizer.word_ngrams, "Longest word n-gram (1-3)")
      ->capture_default_str();
  c->add_option("--char-ngrams", a->char_ngrams,
                "Character n-gram range MIN-MAX within words, or 0 for none")
      ->capture_default_str();
  c->add_option("--min-df", a->opt.featurizer.min_df, "Drop features seen in fewer training texts")
      ->capture_default_str();
  c->add_option("--char-tf", a->opt.featurizer.char_tf,
                "Count character n-grams per token (each word's contribution can then be cached at "
                "inference) or per text")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, CharTf>{{"token", CharTf::kPerToken}, {"text", CharTf::kPerText}}))
      ->default_str("token");
  c->add_flag("--refit", a->opt.refit,
              "After early stopping, retrain on DATA + VALID for the chosen number of epochs");
  c->add_flag("!--no-average", a->opt.average_weights,
              "Keep the best single epoch's weights instead of the running average of epochs 2..");
  c->add_option("--seed", a->opt.seed,
                "Random seed (training is deterministic for a seed and thread count)")
      ->capture_default_str();
  c->add_option("--threads", a->opt.threads, "Training threads")->capture_default_str();
  c->add_option("--oos-label", a->opt.oos_label,
                "Label that means out-of-scope (for calibration and metrics)")
      ->capture_default_str();
  c->add_option("--components", a->components,
                "Assistant component registry (JSON) to embed, for `fastintent route`");
  c->add_flag("-q,--quiet", a->quiet, "No progress output");
  c->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace fastintent::cli
