// The training half of the C API (include/fastintent/fastintent_train.h), built only into
// libfastintent_train.so. It links the trainer (and OpenMP) and reaches the inference library
// through its exported C functions alone: a trained model is serialised and handed to
// fi_model_load_from_buffer, errors are made with fi_error_create. So the two libraries share
// no C++ object across their boundary, and libfastintent.so stays free of the trainer.
#include <exception>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "fastintent/fastintent.h"
#include "fastintent/fastintent_train.h"
#include "fastintent/model_io.h"
#include "text/featurizer.h"
#include "text/normalizer.h"
#include "train/dataset.h"
#include "train/trainer.h"

namespace {

fi_error* Error(int32_t code, const std::string& message) {
  return fi_error_create(code, message.data(), message.size());
}
fi_error* InvalidArg(const std::string& message) { return Error(FI_INVALID_ARGUMENT, message); }

// Thrown from the epoch hook when the progress callback asks to stop; Train's state is all
// RAII, and the hook runs on the calling thread outside its parallel regions.
struct CancelledByCallback {};

// A (pointer, length) path argument: non-NULL, non-empty, no NUL.
bool PathArg(const char* path, size_t len, std::string* out) {
  if (path == nullptr || len == 0) return false;
  std::string p(path, len);
  if (p.find('\0') != std::string::npos) return false;
  *out = std::move(p);
  return true;
}

// TrainOptions from the C params, or an error for values the trainer cannot use.
fi_error* ToOptions(const fi_train_params* params, fastintent::TrainOptions* o) {
  const fi_train_params p = params ? *params : fi_train_default_params();
  if (p.hidden_count > FI_TRAIN_MAX_HIDDEN) return InvalidArg("hidden_count is over 8");
  o->hidden.assign(p.hidden, p.hidden + p.hidden_count);
  for (uint32_t w : o->hidden)
    if (w == 0) return InvalidArg("a hidden layer width is 0");
  if (p.max_epochs == 0) return InvalidArg("max_epochs must be at least 1");
  if (p.batch_size == 0) return InvalidArg("batch_size must be at least 1");
  if (p.threads == 0) return InvalidArg("threads must be at least 1");
  if (!(p.learning_rate > 0)) return InvalidArg("learning_rate must be positive");
  if (!(p.dropout >= 0 && p.dropout < 1)) return InvalidArg("dropout must be in [0, 1)");
  if (!(p.valid_fraction > 0 && p.valid_fraction < 1))
    return InvalidArg("valid_fraction must be in (0, 1)");
  if (p.oos_label == nullptr && p.oos_label_len != 0)
    return InvalidArg("oos_label is NULL with a non-zero length");
  o->max_epochs = p.max_epochs;
  o->patience = p.patience;
  o->batch_size = p.batch_size;
  o->lr = p.learning_rate;
  o->dropout = p.dropout;
  o->valid_fraction = p.valid_fraction;
  o->seed = p.seed;
  o->threads = p.threads;
  if (p.oos_label != nullptr) o->oos_label.assign(p.oos_label, p.oos_label_len);
  if (p.progress != nullptr) {
    o->on_epoch = [fn = p.progress, user = p.progress_user_data](const fastintent::EpochReport& r) {
      if (fn(r.epoch, r.max_epochs, r.train_loss, r.valid_accuracy, user) != 0)
        throw CancelledByCallback{};
    };
  }
  return nullptr;
}

// Trains, then turns the model into an fi_model* (quantised when asked) through the inference
// library's own loader.
fi_error* TrainAndLoad(const fastintent::Dataset& train, const fastintent::Dataset* valid,
                       const fi_train_params* params, fi_model** out) {
  fastintent::TrainOptions options;
  if (fi_error* e = ToOptions(params, &options)) return e;
  fastintent::TrainReport report;
  std::optional<fastintent::StatusOr<fastintent::Model>> trained_or;
  try {
    trained_or.emplace(fastintent::Train(train, valid, options, &report));
  } catch (const CancelledByCallback&) {
    return Error(FI_CANCELLED, "training cancelled by the progress callback");
  }
  fastintent::StatusOr<fastintent::Model>& model = *trained_or;
  if (!model.ok()) return Error(int32_t(model.status().code()), model.status().message());
  const std::string metadata =
      "{\"trained_on\":\"" + std::string(train.source.empty() ? "memory" : "file") +
      "\",\"epochs_run\":" + std::to_string(report.epochs_run) +
      ",\"best_epoch\":" + std::to_string(report.best_epoch) +
      ",\"best_valid_accuracy\":" + std::to_string(report.best_valid_accuracy) + "}";
  const std::string bytes = fastintent::SerializeModel(*model, metadata);
  fi_model* trained = nullptr;
  static const char kName[] = "<trained model>";
  if (fi_error* e =
          fi_model_load_from_buffer(bytes.data(), bytes.size(), kName, sizeof kName - 1, &trained))
    return e;
  if (params != nullptr && params->quantize) {
    fi_model* q = nullptr;
    fi_error* e = fi_model_quantize(trained, &q);
    fi_model_free(trained);
    if (e) return e;
    trained = q;
  }
  *out = trained;
  return nullptr;
}

// Runs `body` with no exception escaping into C.
template <typename F>
fi_error* Guarded(F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Error(FI_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return Error(FI_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return Error(FI_INTERNAL, "internal error: unknown exception");
  }
}

// Checks one column (data, count + 1 offsets) of an in-memory dataset.
fi_error* CheckColumn(const char* what, const char* offsets_name, const char* data,
                      const size_t* offsets, size_t count) {
  if (offsets == nullptr) return InvalidArg(std::string(offsets_name) + " is NULL");
  if (data == nullptr && offsets[count] != offsets[0])
    return InvalidArg(std::string(what) + " is NULL");
  for (size_t i = 0; i < count; ++i)
    if (offsets[i + 1] < offsets[i])
      return InvalidArg(std::string(offsets_name) + " decrease at example " + std::to_string(i));
  return nullptr;
}

}  // namespace

extern "C" {

fi_train_params fi_train_default_params(void) {
  const fastintent::TrainOptions d;
  fi_train_params p{};
  p.hidden_count = uint32_t(d.hidden.size());
  for (size_t i = 0; i < d.hidden.size() && i < FI_TRAIN_MAX_HIDDEN; ++i) p.hidden[i] = d.hidden[i];
  p.max_epochs = d.max_epochs;
  p.patience = d.patience;
  p.batch_size = d.batch_size;
  p.learning_rate = d.lr;
  p.dropout = d.dropout;
  p.valid_fraction = d.valid_fraction;
  p.seed = d.seed;
  p.threads = d.threads;
  p.quantize = 0;
  p.oos_label = nullptr;
  p.oos_label_len = 0;
  p.progress = nullptr;
  p.progress_user_data = nullptr;
  return p;
}

fi_error* fi_train_file(const char* path, size_t path_len, const char* valid_path,
                        size_t valid_path_len, const fi_train_params* params, fi_model** out) {
  return Guarded([&]() -> fi_error* {
    std::string train_path, valid_file;
    if (!PathArg(path, path_len, &train_path))
      return InvalidArg("path is NULL, empty or contains NUL");
    const bool has_valid = !(valid_path == nullptr && valid_path_len == 0);
    if (has_valid && !PathArg(valid_path, valid_path_len, &valid_file))
      return InvalidArg("valid_path is NULL with a non-zero length, or contains NUL");
    if (out == nullptr) return InvalidArg("out is NULL");
    auto train = fastintent::ReadDataset(train_path);
    if (!train.ok()) return Error(int32_t(train.status().code()), train.status().message());
    if (train->examples.empty()) return InvalidArg(train_path + ": no examples");
    fastintent::StatusOr<fastintent::Dataset> valid = fastintent::Dataset{};
    if (has_valid) {
      valid = fastintent::ReadDataset(valid_file);
      if (!valid.ok()) return Error(int32_t(valid.status().code()), valid.status().message());
      if (valid->examples.empty()) return InvalidArg(valid_file + ": no examples");
    }
    return TrainAndLoad(*train, has_valid ? &*valid : nullptr, params, out);
  });
}

fi_error* fi_train_arrays(const char* texts, const size_t* text_offsets, size_t text_count,
                          const char* labels, const size_t* label_offsets, size_t label_count,
                          const fi_train_params* params, fi_model** out) {
  return Guarded([&]() -> fi_error* {
    if (out == nullptr) return InvalidArg("out is NULL");
    if (text_count != label_count)
      return InvalidArg(std::to_string(text_count) + " texts but " + std::to_string(label_count) +
                        " labels");
    if (text_count == 0) return InvalidArg("no examples");
    if (fi_error* e = CheckColumn("texts", "text_offsets", texts, text_offsets, text_count))
      return e;
    if (fi_error* e = CheckColumn("labels", "label_offsets", labels, label_offsets, label_count))
      return e;
    fastintent::Dataset data;
    data.examples.reserve(text_count);
    std::set<std::string_view> distinct;
    std::string scratch;
    for (size_t i = 0; i < text_count; ++i) {
      const std::string where = "example " + std::to_string(i) + ": ";
      std::string_view text(texts ? texts + text_offsets[i] : "",
                            text_offsets[i + 1] - text_offsets[i]);
      std::string_view label(labels ? labels + label_offsets[i] : "",
                             label_offsets[i + 1] - label_offsets[i]);
      if (label.empty()) return InvalidArg(where + "empty label");
      if (text.size() > fastintent::kMaxTextBytes)
        return InvalidArg(where + "text over " + std::to_string(fastintent::kMaxTextBytes) +
                          " bytes");
      if (!fastintent::SanitizeUtf8(text, &scratch))
        return InvalidArg(where + "text is not valid UTF-8");
      if (!fastintent::SanitizeUtf8(label, &scratch))
        return InvalidArg(where + "label is not valid UTF-8");
      distinct.insert(label);
      fastintent::Example ex;
      ex.text.assign(text);
      ex.labels.emplace_back(label);
      ex.line = i + 1;
      data.examples.push_back(std::move(ex));
    }
    if (distinct.size() < 2) return InvalidArg("fewer than two distinct labels");
    return TrainAndLoad(data, nullptr, params, out);
  });
}

}  // extern "C"
