// Tests of Train: it learns a separable synthetic task, is deterministic for a seed and thread
// count, trains sigmoid outputs on multi-label data, and rejects invalid options and data.
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fastintent/model_io.h"

namespace fastintent {
namespace {

// Each intent owns a set of keywords; a text is 2-3 of its keywords mixed with shared filler
// words, so the classes are separable by word features but every text is different.
const std::vector<std::vector<std::string>> kKeywords = {
    {"weather", "rain", "forecast", "sunny", "umbrella", "snow", "windy", "cloudy"},
    {"song", "music", "playlist", "album", "track", "band", "radio", "melody"},
    {"alarm", "wake", "snooze", "clock", "morning", "timer", "ring", "schedule"},
    {"hello", "hi", "greetings", "howdy", "hey", "welcome", "evening", "friend"},
};
const std::vector<std::string> kLabels = {"weather", "music", "alarm", "greeting"};
const std::vector<std::string> kFiller = {"please", "now",  "can",   "you",     "the",
                                          "for",    "me",   "today", "quickly", "maybe",
                                          "i",      "want", "a",     "some",    "again"};

std::string MakeText(const std::vector<size_t>& intents, std::mt19937* rng) {
  std::vector<std::string> words;
  const size_t fillers = 2 + (*rng)() % 3;
  for (size_t i = 0; i < fillers; ++i) words.push_back(kFiller[(*rng)() % kFiller.size()]);
  for (size_t intent : intents) {
    const size_t keywords = 2 + (*rng)() % 2;
    for (size_t i = 0; i < keywords; ++i)
      words.push_back(kKeywords[intent][(*rng)() % kKeywords[intent].size()]);
  }
  std::shuffle(words.begin(), words.end(), *rng);
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : " ") + w;
  return text;
}

Dataset SingleLabel(size_t per_label, uint32_t seed) {
  std::mt19937 rng(seed);
  Dataset ds;
  for (size_t i = 0; i < per_label * kLabels.size(); ++i) {
    const size_t intent = i % kLabels.size();
    ds.examples.push_back({MakeText({intent}, &rng), {kLabels[intent]}, i + 1});
  }
  return ds;
}

// Labels are subsets of {weather, music, alarm}; a quarter of the texts need none of them.
Dataset MultiLabel(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Dataset ds;
  ds.multi_label = true;
  for (size_t i = 0; i < n; ++i) {
    // Cycle of 8: two random singles, weather, three pairs, two empty sets.
    static const std::vector<size_t> kCombos[8] = {{}, {}, {0}, {1, 2}, {0, 1}, {0, 2}, {}, {}};
    std::vector<size_t> intents(kCombos[i % 8]);
    if (i % 8 < 2) intents.push_back(size_t(rng() % 3));
    std::vector<std::string> labels;
    labels.reserve(intents.size());
    for (size_t k : intents) labels.push_back(kLabels[k]);
    ds.examples.push_back({MakeText(intents, &rng), labels, i + 1});
  }
  return ds;
}

TrainOptions SmallOptions() {
  TrainOptions o;
  o.hidden = {16};
  o.max_epochs = 12;
  o.patience = 12;
  o.lr = 0.02f;
  o.dropout = 0.1f;
  o.threads = 2;
  o.featurizer.num_buckets = 1u << 16;
  return o;
}

// Fraction of `data` whose predicted label set (Decide with the model's threshold, or 0 for
// softmax so that nothing is rejected) equals the gold set.
double ExactMatch(const Model& m, const Dataset& data) {
  Session s = m.NewSession();
  std::vector<LabelScore> out;
  size_t right = 0;
  for (const Example& ex : data.examples) {
    std::set<std::string> pred, gold(ex.labels.begin(), ex.labels.end());
    if (m.Probabilities(ex.text, &s).ok()) {
      const bool multi = m.kind() == OutputKind::kSigmoid;
      m.Decide(s.probs(), multi ? int(m.labels().size()) : 1, multi ? -1.0f : 0.0f, &out);
      for (const LabelScore& l : out) pred.insert(m.labels()[l.label]);
    }
    right += pred == gold;
  }
  return double(right) / double(data.examples.size());
}

TEST(TrainerTest, LearnsSeparableTask) {
  // Early stopping keeps the first epoch with the best validation accuracy, so a validation set
  // large enough to tell a finished model from a half-trained one is given.
  const Dataset train = SingleLabel(40, 1), valid = SingleLabel(25, 99), test = SingleLabel(50, 2);
  TrainReport report;
  auto model = Train(train, &valid, SmallOptions(), &report);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(model->kind(), OutputKind::kSoftmax);
  EXPECT_EQ(model->labels(),
            (std::vector<std::string>{"alarm", "greeting", "music", "weather"}));  // sorted
  EXPECT_EQ(model->network().hidden, std::vector<uint32_t>{16});
  EXPECT_GE(ExactMatch(*model, test), 0.98);
  EXPECT_GE(report.epochs_run, 1u);
  EXPECT_GE(report.best_epoch, 1u);
  EXPECT_LE(report.best_epoch, report.epochs_run);
  EXPECT_GE(report.best_valid_accuracy, 0.95);
  EXPECT_EQ(report.threshold, 0.0f);  // no out-of-scope examples: rejection off
  EXPECT_EQ(model->threshold(), 0.0f);
  // The training tokens seen twice or more, most frequent first, with their sums precomputed.
  const std::vector<std::string>& frequent = model->frequent_tokens();
  ASSERT_FALSE(frequent.empty());
  std::map<std::string, int> count;
  for (const Example& e : train.examples)
    for (const std::string& t : TokenizeToStrings(e.text)) count[t]++;
  for (size_t i = 0; i < frequent.size(); ++i) {
    EXPECT_GE(count[frequent[i]], 2) << frequent[i];
    if (i > 0) {
      EXPECT_GE(count[frequent[i - 1]], count[frequent[i]]);
    }
  }
  size_t seen_twice = 0;
  for (const auto& [t, n] : count) seen_twice += n >= 2;
  EXPECT_EQ(frequent.size(), seen_twice);  // all short ASCII here
  EXPECT_EQ(model->token_table_size(), frequent.size());
}

TEST(TrainerTest, PerTextModelsHaveNoFrequentTokens) {
  TrainOptions o = SmallOptions();
  o.featurizer.char_tf = CharTf::kPerText;
  o.max_epochs = 2;
  const Dataset train = SingleLabel(40, 1);
  auto model = Train(train, nullptr, o, nullptr);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_TRUE(model->frequent_tokens().empty());
}

TEST(TrainerTest, CarvesStratifiedValidationSplit) {
  TrainOptions o = SmallOptions();
  o.max_epochs = 1;
  TrainReport report;
  auto model = Train(SingleLabel(40, 1), nullptr, o, &report);
  ASSERT_TRUE(model.ok()) << model.status().message();
  // 10% of each label's 40 examples.
  EXPECT_EQ(report.valid_examples, 16u);
  EXPECT_EQ(report.train_examples, 144u);
  o.valid_fraction = 0;
  model = Train(SingleLabel(40, 1), nullptr, o, &report);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(report.valid_examples, 0u);
  EXPECT_EQ(report.train_examples, 160u);
}

TEST(TrainerTest, LinearModelLearnsToo) {
  TrainOptions o = SmallOptions();
  o.hidden = {};
  o.lr = 0.05f;
  auto model = Train(SingleLabel(40, 3), nullptr, o, nullptr);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_TRUE(model->network().hidden.empty());
  EXPECT_GE(ExactMatch(*model, SingleLabel(50, 4)), 0.95);
}

TEST(TrainerTest, EpochCallbackAndEarlyStoppingUseTheValidationSet) {
  TrainOptions o = SmallOptions();
  o.max_epochs = 30;
  o.patience = 2;
  std::vector<EpochReport> epochs;
  o.on_epoch = [&](const EpochReport& r) { epochs.push_back(r); };
  const Dataset valid = SingleLabel(5, 9);
  TrainReport report;
  auto model = Train(SingleLabel(40, 5), &valid, o, &report);
  ASSERT_TRUE(model.ok()) << model.status().message();
  ASSERT_EQ(epochs.size(), report.epochs_run);
  EXPECT_EQ(report.valid_examples, valid.examples.size());
  EXPECT_EQ(report.train_examples, 160u);  // a given validation set carves nothing
  for (size_t i = 0; i < epochs.size(); ++i) {
    EXPECT_EQ(epochs[i].epoch, i + 1);
    EXPECT_EQ(epochs[i].max_epochs, 30u);
  }
  // Accuracy ties are broken by validation loss, which keeps falling on a separable task, so
  // training may run to the end; when it stops early, it is `patience` epochs after the best.
  if (report.epochs_run < 30u) {
    EXPECT_EQ(report.epochs_run, report.best_epoch + 2);
    EXPECT_FALSE(epochs.back().improved);
  }
  EXPECT_DOUBLE_EQ(report.best_valid_accuracy, epochs[report.best_epoch - 1].valid_accuracy);
}

TEST(TrainerTest, EarlyStoppingStopsWhenValidationStopsImproving) {
  TrainOptions o = SmallOptions();
  o.max_epochs = 30;
  o.patience = 2;
  std::vector<EpochReport> epochs;
  o.on_epoch = [&](const EpochReport& r) { epochs.push_back(r); };
  // Validation labels rotated by one: the better the model learns train, the worse it does here.
  Dataset valid = SingleLabel(5, 9);
  for (Example& e : valid.examples) {
    const size_t k =
        size_t(std::find(kLabels.begin(), kLabels.end(), e.labels[0]) - kLabels.begin());
    e.labels[0] = kLabels[(k + 1) % kLabels.size()];
  }
  TrainReport report;
  auto model = Train(SingleLabel(40, 5), &valid, o, &report);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_LT(report.epochs_run, 30u);
  EXPECT_EQ(report.epochs_run, report.best_epoch + 2);
  EXPECT_FALSE(epochs.back().improved);
  EXPECT_FALSE(epochs[epochs.size() - 2].improved);
}

TEST(TrainerTest, DeterministicForSeedAndThreads) {
  const Dataset train = SingleLabel(25, 7);
  TrainOptions o = SmallOptions();
  o.max_epochs = 4;
  auto a = Train(train, nullptr, o, nullptr);
  auto b = Train(train, nullptr, o, nullptr);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string bytes_a = SerializeModel(*a), bytes_b = SerializeModel(*b);
  EXPECT_GT(bytes_a.size(), 1000u);
  EXPECT_TRUE(bytes_a == bytes_b) << "two trainings with the same seed and threads differ";

  o.seed = 2;
  auto c = Train(train, nullptr, o, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(SerializeModel(*c) == bytes_a) << "a different seed gave the same model";
}

TEST(TrainerTest, MultiLabelTrainsSigmoidWithCalibratedThreshold) {
  const Dataset train = MultiLabel(320, 11), test = MultiLabel(200, 12);
  TrainOptions o = SmallOptions();
  o.max_epochs = 15;
  o.patience = 15;
  TrainReport report;
  auto model = Train(train, nullptr, o, &report);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(model->kind(), OutputKind::kSigmoid);
  EXPECT_EQ(model->labels(), (std::vector<std::string>{"alarm", "music", "weather"}));
  // Calibrated on the carved split over the grid .05 ... .95.
  EXPECT_GE(model->threshold(), 0.05f - 1e-6f);
  EXPECT_LE(model->threshold(), 0.95f + 1e-6f);
  EXPECT_EQ(report.threshold, model->threshold());
  EXPECT_NE(report.calibration.find("exact match"), std::string::npos) << report.calibration;
  // Sigmoid probabilities are independent: they need not sum to 1.
  Session s = model->NewSession();
  ASSERT_TRUE(model->Probabilities("rain forecast and the music playlist", &s).ok());
  float sum = 0;
  for (float p : s.probs()) sum += p;
  EXPECT_GT(sum, 1.2f) << "two labels present, each should be likely";
  EXPECT_GE(ExactMatch(*model, test), 0.85);
}

TEST(TrainerTest, ExamplesWithEmptyLabelSetsAreAllowed) {
  Dataset train = MultiLabel(160, 13);
  size_t empty = 0;
  for (const Example& e : train.examples) empty += e.labels.empty();
  ASSERT_GT(empty, 0u);
  TrainOptions o = SmallOptions();
  o.max_epochs = 3;
  auto model = Train(train, nullptr, o, nullptr);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(model->labels().size(), 3u);  // the empty set is not a label
}

TEST(TrainerTest, OutOfScopeLabelIsRecorded) {
  Dataset train = SingleLabel(20, 14);
  for (Example& e : train.examples)
    if (e.labels[0] == "greeting") e.labels[0] = "oos";
  TrainOptions o = SmallOptions();
  o.max_epochs = 3;
  auto model = Train(train, nullptr, o, nullptr);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(model->oos_label(), "oos");
  EXPECT_GE(model->LabelIndex("oos"), 0);

  auto plain = Train(SingleLabel(20, 14), nullptr, o, nullptr);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->oos_label(), "");
}

// Expects Train to fail with InvalidArgument and a message containing `what`.
void ExpectRejected(const Dataset& train, const Dataset* valid, const TrainOptions& o,
                    const std::string& what) {
  auto model = Train(train, valid, o, nullptr);
  ASSERT_FALSE(model.ok()) << "accepted; expected an error about " << what;
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument) << model.status().message();
  EXPECT_NE(model.status().message().find(what), std::string::npos) << model.status().message();
}

TEST(TrainerTest, InvalidOptionsAndDataAreRejected) {
  const Dataset train = SingleLabel(5, 15);
  TrainOptions o = SmallOptions();
  o.max_epochs = 1;
  ASSERT_TRUE(Train(train, nullptr, o, nullptr).ok());  // the baseline is valid

  // Each option out of its range (NaN included: it compares false both ways) and the words the
  // error must contain.
  const std::vector<std::pair<std::function<void(TrainOptions*)>, std::string>> bad_options = {
      {[](TrainOptions* b) { b->dropout = 1.0f; }, "dropout"},
      {[](TrainOptions* b) { b->dropout = -0.1f; }, "dropout"},
      {[](TrainOptions* b) { b->dropout = NAN; }, "dropout"},
      {[](TrainOptions* b) { b->feature_dropout = 1.0f; }, "dropout"},
      {[](TrainOptions* b) { b->label_smoothing = 1.0f; }, "label smoothing"},
      {[](TrainOptions* b) { b->lr = NAN; }, "learning rate"},
      {[](TrainOptions* b) { b->lr = 0; }, "learning rate"},
      {[](TrainOptions* b) { b->embedding_eps = INFINITY; }, "epsilon"},
      {[](TrainOptions* b) { b->weight_decay = -1; }, "weight decay"},
      {[](TrainOptions* b) {
         b->hidden = {16, 0};
       },
       "hidden"},
      {[](TrainOptions* b) { b->batch_size = 0; }, "batch"},
      {[](TrainOptions* b) { b->max_epochs = 0; }, "epochs"},
      {[](TrainOptions* b) { b->featurizer.word_ngrams = 0; }, "word_ngrams"},
  };
  for (const auto& [spoil, what] : bad_options) {
    TrainOptions bad = o;
    spoil(&bad);
    ExpectRejected(train, nullptr, bad, what);
  }

  ExpectRejected(Dataset{}, nullptr, o, "empty");
  // An empty validation set is an error, not a silent fallback to a carved one.
  const Dataset empty_valid;
  ExpectRejected(train, &empty_valid, o, "validation data is empty");
  Dataset long_text = train;
  long_text.examples[3].text.assign(kMaxTextBytes + 1, 'a');
  ExpectRejected(long_text, nullptr, o, "training example 4: text too long");
  ExpectRejected(train, &long_text, o, "validation example 4: text too long");

  Dataset one_label;
  for (int i = 0; i < 10; ++i)
    one_label.examples.push_back(
        {"hello number " + std::to_string(i), {"greeting"}, size_t(i + 1)});
  ExpectRejected(one_label, nullptr, o, "at least 2 labels");

  Dataset no_labels;
  no_labels.multi_label = true;
  for (int i = 0; i < 10; ++i)
    no_labels.examples.push_back({"nothing here " + std::to_string(i), {}, size_t(i + 1)});
  ExpectRejected(no_labels, nullptr, o, "no labels");
}

TEST(TrainerTest, ValidationLabelUnknownToTrainingIsAnError) {
  const Dataset train = SingleLabel(10, 16);
  Dataset valid = SingleLabel(2, 17);
  valid.examples[5].labels = {"cooking"};
  TrainOptions o = SmallOptions();
  o.max_epochs = 1;
  auto model = Train(train, &valid, o, nullptr);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  const std::string& msg = model.status().message();
  EXPECT_NE(msg.find("'cooking'"), std::string::npos) << msg;
  EXPECT_NE(msg.find('6'), std::string::npos) << "should say which validation example: " << msg;
}

TEST(TrainerTest, HiddenPresets) {
  auto seed = HiddenPreset("seed");
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(*seed, (std::vector<uint32_t>{256, 128, 64}));
  auto wide = HiddenPreset("wide");
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(*wide, std::vector<uint32_t>{768});
  auto linear = HiddenPreset("linear");
  ASSERT_TRUE(linear.ok());
  EXPECT_TRUE(linear->empty());
  auto def = HiddenPreset("default");
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(*def, TrainOptions().hidden);
  auto unknown = HiddenPreset("huge");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("huge"), std::string::npos);
}

}  // namespace
}  // namespace fastintent
