// The C API's model functions: loading, accessors, and blocking inference on the calling
// thread's cached session. Each entry point checks its arguments, then calls the C++ API.
#include <cstring>
#include <utility>

#include "capi/capi_internal.h"
#include "fastintent/model_io.h"
#include "model/network.h"
#include "text/featurizer.h"

using fastintent::LabelScore;
using fastintent::Model;
using fastintent::Status;
using fastintent::StatusOr;
using fastintent::capi::CachedSession;
using fastintent::capi::FromStatus;
using fastintent::capi::InvalidArg;
using fastintent::capi::ModelBox;
using fastintent::capi::NewError;
using fastintent::capi::TextArg;
using fastintent::capi::ThreadSession;
using fastintent::capi::ValidThreshold;

namespace {

// A path argument: bytes without NUL.
bool PathArg(const char* path, size_t len, std::string* out) {
  if (path == nullptr || len == 0 || std::memchr(path, 0, len) != nullptr) return false;
  out->assign(path, len);
  return true;
}

fi_error* TooSmall(const char* what, size_t needed, size_t cap, size_t* out_count) {
  *out_count = needed;
  return NewError(FI_BUFFER_TOO_SMALL, std::string(what) + ": " + std::to_string(needed) +
                                           " entries needed, the buffer holds " +
                                           std::to_string(cap));
}

fi_error* NewModel(StatusOr<std::shared_ptr<const Model>> model, std::string metadata,
                   const std::string& name, fi_model** out) {
  if (!model.ok()) return FromStatus(model.status());
  auto handle = std::make_unique<fi_model>();
  handle->box = fastintent::capi::MakeBox(std::move(model).value(), std::move(metadata), name);
  *out = handle.release();
  return nullptr;
}

// Runs the model on one text with the thread's session: its probabilities are then in
// session.session.probs().
fi_error* Compute(const fi_model* model, const char* text, size_t text_len, CachedSession** out) {
  std::string_view t;
  if (!TextArg(text, text_len, &t)) return InvalidArg("text is NULL with a non-zero length");
  CachedSession& s = ThreadSession(model->box);
  Status status = model->box->model->Probabilities(t, &s.session);
  if (!status.ok()) return FromStatus(status);
  *out = &s;
  return nullptr;
}

fi_error* CheckKAndThreshold(int32_t k, float threshold) {
  if (k < 1) return InvalidArg("k must be at least 1");
  if (!ValidThreshold(threshold))
    return InvalidArg("threshold must be negative (calibrated) or in [0, 1]");
  return nullptr;
}

// The texts of a batch as views, or an error for NULL or decreasing offsets.
fi_error* BatchTexts(const char* data, const size_t* offsets, size_t count,
                     std::vector<std::string_view>* texts) {
  if (count == 0) return nullptr;
  if (offsets == nullptr) return InvalidArg("offsets is NULL");
  if (data == nullptr && offsets[count] != offsets[0]) return InvalidArg("data is NULL");
  texts->reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (offsets[i + 1] < offsets[i]) {
      return InvalidArg(("offsets decrease at text " + std::to_string(i)).c_str());
    }
    texts->push_back(data == nullptr
                         ? std::string_view()
                         : std::string_view(data + offsets[i], offsets[i + 1] - offsets[i]));
  }
  return nullptr;
}

// The error of batch text i when the batch is all or nothing.
fi_error* BatchError(size_t i, const Status& s) {
  return NewError(int32_t(s.code()), "text " + std::to_string(i) + ": " + s.message());
}

}  // namespace

extern "C" {

fi_error* fi_model_load(const char* path, size_t path_len, fi_model** out) {
  FI_CAPI_BEGIN
  std::string p;
  if (!PathArg(path, path_len, &p)) return InvalidArg("path is NULL, empty or contains NUL");
  if (out == nullptr) return InvalidArg("out is NULL");
  std::string metadata;
  auto model = fastintent::LoadModel(p, &metadata);
  return NewModel(std::move(model), std::move(metadata), p, out);
  FI_CAPI_END
}

fi_error* fi_model_load_from_buffer(const void* data, size_t size, const char* name,
                                    size_t name_len, fi_model** out) {
  FI_CAPI_BEGIN
  if (data == nullptr && size != 0) return InvalidArg("data is NULL with a non-zero size");
  if (out == nullptr) return InvalidArg("out is NULL");
  std::string_view n;
  if (!TextArg(name, name_len, &n)) return InvalidArg("name is NULL with a non-zero length");
  const std::string label = n.empty() ? std::string("<buffer>") : std::string(n);
  std::string metadata;
  static const char kEmpty = 0;
  auto model = fastintent::LoadModelFromBuffer(data ? data : &kEmpty, size, label, &metadata);
  return NewModel(std::move(model), std::move(metadata), label, out);
  FI_CAPI_END
}

void fi_model_free(fi_model* model) { delete model; }

size_t fi_model_label_count(const fi_model* model) {
  return model ? model->box->model->labels().size() : 0;
}

const char* fi_model_label(const fi_model* model, size_t index, size_t* len) {
  if (model == nullptr || index >= model->box->model->labels().size()) return nullptr;
  const std::string& label = model->box->model->labels()[index];
  if (len) *len = label.size();
  return label.c_str();
}

int64_t fi_model_label_index(const fi_model* model, const char* name, size_t len) {
  std::string_view n;
  if (model == nullptr || !TextArg(name, len, &n)) return -1;
  return model->box->model->LabelIndex(n);
}

int32_t fi_model_kind(const fi_model* model) {
  return model ? int32_t(model->box->model->kind()) : -1;
}

int32_t fi_model_precision(const fi_model* model) {
  return model ? int32_t(model->box->model->precision()) : -1;
}

float fi_model_threshold(const fi_model* model) {
  return model ? model->box->model->threshold() : -1.0f;
}

const char* fi_model_oos_label(const fi_model* model, size_t* len) {
  if (model == nullptr) return nullptr;
  if (len) *len = model->box->model->oos_label().size();
  return model->box->model->oos_label().c_str();
}

const char* fi_model_metadata(const fi_model* model, size_t* len) {
  if (model == nullptr) return nullptr;
  if (len) *len = model->box->metadata.size();
  return model->box->metadata.c_str();
}

size_t fi_model_feature_count(const fi_model* model) {
  return model ? model->box->model->network().num_rows : 0;
}

size_t fi_model_component_count(const fi_model* model) {
  if (model == nullptr || !model->box->registry) return 0;
  return model->box->registry->components().size();
}

fi_error* fi_model_classify(const fi_model* model, const char* text, size_t text_len, int32_t k,
                            float threshold, fi_label_score* out, size_t out_cap,
                            size_t* out_count) {
  FI_CAPI_BEGIN
  if (model == nullptr || out_count == nullptr) return InvalidArg("model or out_count is NULL");
  if (out == nullptr && out_cap != 0) return InvalidArg("out is NULL with a non-zero out_cap");
  if (fi_error* e = CheckKAndThreshold(k, threshold)) return e;
  CachedSession* s;
  if (fi_error* e = Compute(model, text, text_len, &s)) return e;
  model->box->model->Decide(s->session.probs(), k, threshold, &s->top);
  if (s->top.size() > out_cap) return TooSmall("labels", s->top.size(), out_cap, out_count);
  for (size_t i = 0; i < s->top.size(); ++i) out[i] = {s->top[i].label, s->top[i].prob};
  *out_count = s->top.size();
  return nullptr;
  FI_CAPI_END
}

fi_error* fi_model_probabilities(const fi_model* model, const char* text, size_t text_len,
                                 float* out, size_t out_cap, size_t* out_count) {
  FI_CAPI_BEGIN
  if (model == nullptr || out_count == nullptr) return InvalidArg("model or out_count is NULL");
  if (out == nullptr && out_cap != 0) return InvalidArg("out is NULL with a non-zero out_cap");
  const size_t n = model->box->model->labels().size();
  if (out_cap < n) return TooSmall("probabilities", n, out_cap, out_count);
  CachedSession* s;
  if (fi_error* e = Compute(model, text, text_len, &s)) return e;
  std::memcpy(out, s->session.probs().data(), n * sizeof(float));
  *out_count = n;
  return nullptr;
  FI_CAPI_END
}

fi_error* fi_model_classify_batch(const fi_model* model, const char* data, const size_t* offsets,
                                  size_t count, int32_t k, float threshold, fi_label_score* out,
                                  size_t out_cap, size_t* out_count, uint32_t* label_counts,
                                  int32_t* codes) {
  FI_CAPI_BEGIN
  if (model == nullptr || out_count == nullptr) return InvalidArg("model or out_count is NULL");
  if (fi_error* e = CheckKAndThreshold(k, threshold)) return e;
  if (count != 0 && label_counts == nullptr) return InvalidArg("label_counts is NULL");
  if (size_t(k) > SIZE_MAX / (count ? count : 1)) return InvalidArg("count * k overflows");
  const size_t needed = count * size_t(k);
  if (out == nullptr && out_cap != 0) return InvalidArg("out is NULL with a non-zero out_cap");
  if (out_cap < needed) return TooSmall("labels", needed, out_cap, out_count);
  std::vector<std::string_view> texts;
  if (fi_error* e = BatchTexts(data, offsets, count, &texts)) return e;
  const Model& m = *model->box->model;
  CachedSession& s = ThreadSession(model->box);
  for (size_t i = 0; i < count; ++i) {
    fi_label_score* row = out + i * size_t(k);
    Status status = m.Probabilities(texts[i], &s.session);
    if (!status.ok()) {
      if (codes == nullptr) return BatchError(i, status);
      codes[i] = int32_t(status.code());
      label_counts[i] = 0;
      std::memset(static_cast<void*>(row), 0, size_t(k) * sizeof(fi_label_score));
      continue;
    }
    m.Decide(s.session.probs(), k, threshold, &s.top);
    for (size_t j = 0; j < s.top.size(); ++j) row[j] = {s.top[j].label, s.top[j].prob};
    for (size_t j = s.top.size(); j < size_t(k); ++j) row[j] = {0, 0.0f};
    label_counts[i] = uint32_t(s.top.size());
    if (codes) codes[i] = FI_OK;
  }
  *out_count = needed;
  return nullptr;
  FI_CAPI_END
}

fi_error* fi_model_probabilities_batch(const fi_model* model, const char* data,
                                       const size_t* offsets, size_t count, float* out,
                                       size_t out_cap, size_t* out_count, int32_t* codes) {
  FI_CAPI_BEGIN
  if (model == nullptr || out_count == nullptr) return InvalidArg("model or out_count is NULL");
  const Model& m = *model->box->model;
  const size_t labels = m.labels().size();
  if (count > SIZE_MAX / labels) return InvalidArg("count * labels overflows");
  const size_t needed = count * labels;
  if (out == nullptr && out_cap != 0) return InvalidArg("out is NULL with a non-zero out_cap");
  if (out_cap < needed) return TooSmall("probabilities", needed, out_cap, out_count);
  std::vector<std::string_view> texts;
  if (fi_error* e = BatchTexts(data, offsets, count, &texts)) return e;
  CachedSession& s = ThreadSession(model->box);
  for (size_t i = 0; i < count; ++i) {
    float* row = out + i * labels;
    Status status = m.Probabilities(texts[i], &s.session);
    if (!status.ok()) {
      if (codes == nullptr) return BatchError(i, status);
      codes[i] = int32_t(status.code());
      std::memset(row, 0, labels * sizeof(float));
      continue;
    }
    std::memcpy(row, s.session.probs().data(), labels * sizeof(float));
    if (codes) codes[i] = FI_OK;
  }
  *out_count = needed;
  return nullptr;
  FI_CAPI_END
}

fi_error* fi_model_route(const fi_model* model, const char* text, size_t text_len, float threshold,
                         fi_routed_component* out, size_t out_cap, size_t* out_count,
                         int32_t* total_memory_mb) {
  FI_CAPI_BEGIN
  if (model == nullptr || out_count == nullptr) return InvalidArg("model or out_count is NULL");
  if (out == nullptr && out_cap != 0) return InvalidArg("out is NULL with a non-zero out_cap");
  if (!ValidThreshold(threshold))
    return InvalidArg("threshold must be negative (calibrated) or in [0, 1]");
  const ModelBox& box = *model->box;
  if (!box.registry) return FromStatus(box.registry_status);
  CachedSession* s;
  if (fi_error* e = Compute(model, text, text_len, &s)) return e;
  const fastintent::RouteResult r =
      fastintent::Route(*box.model, *box.registry, s->session.probs(), threshold);
  if (r.components.size() > out_cap)
    return TooSmall("components", r.components.size(), out_cap, out_count);
  const fastintent::Component* first = box.registry->components().data();
  for (size_t i = 0; i < r.components.size(); ++i) {
    const fastintent::RoutedComponent& c = r.components[i];
    out[i] = {c.component->name.c_str(),
              c.component->name.size(),
              uint32_t(c.component - first),
              int32_t(c.component->priority),
              c.confidence,
              int32_t(c.component->memory_mb),
              int32_t(c.component->load_ms),
              c.dependency ? 1 : 0};
  }
  *out_count = r.components.size();
  if (total_memory_mb) *total_memory_mb = r.total_memory_mb;
  return nullptr;
  FI_CAPI_END
}

fi_error* fi_model_featurize(const fi_model* model, const char* text, size_t text_len,
                             uint32_t* indices, float* weights, size_t cap, size_t* out_count) {
  FI_CAPI_BEGIN
  if (model == nullptr || out_count == nullptr) return InvalidArg("model or out_count is NULL");
  if ((indices == nullptr || weights == nullptr) && cap != 0) {
    return InvalidArg("indices or weights is NULL with a non-zero cap");
  }
  std::string_view t;
  if (!TextArg(text, text_len, &t)) return InvalidArg("text is NULL with a non-zero length");
  if (t.size() > fastintent::kMaxTextBytes) return FromStatus(fastintent::TextTooLong(t.size()));
  CachedSession& s = ThreadSession(model->box);
  fastintent::SessionState& state = fastintent::StateOf(s.session);
  model->box->model->featurizer().Featurize(t, &state.featurizer, &state.features);
  const fastintent::FeatureVector& f = state.features;
  const size_t n = f.rows.size();
  fi_error* result = nullptr;
  if (n > cap) {
    result = TooSmall("features", n, cap, out_count);
  } else {
    if (n) {
      std::memcpy(indices, f.rows.data(), n * sizeof(uint32_t));
      std::memcpy(weights, f.weights.data(), n * sizeof(float));
    }
    *out_count = n;
  }
  // As Model::Probabilities does: a long text's scratch is not kept.
  if (t.size() > fastintent::kReleaseScratchAboveBytes) {
    state.featurizer.ReleaseTextBuffers();
    state.features.Release();
  }
  return result;
  FI_CAPI_END
}

fi_error* fi_model_quantize(const fi_model* model, fi_model** out) {
  FI_CAPI_BEGIN
  if (model == nullptr || out == nullptr) return InvalidArg("model or out is NULL");
  auto handle = std::make_unique<fi_model>();
  auto box = std::make_shared<ModelBox>(*model->box);
  box->model = fastintent::QuantizeModel(*model->box->model);
  handle->box = std::move(box);
  *out = handle.release();
  return nullptr;
  FI_CAPI_END
}

fi_error* fi_model_save(const fi_model* model, const char* path, size_t path_len) {
  FI_CAPI_BEGIN
  if (model == nullptr) return InvalidArg("model is NULL");
  std::string p;
  if (!PathArg(path, path_len, &p)) return InvalidArg("path is NULL, empty or contains NUL");
  Status s = fastintent::SaveModel(*model->box->model, p, model->box->metadata);
  return s.ok() ? nullptr : FromStatus(s);
  FI_CAPI_END
}

fi_error* fi_model_serialize(const fi_model* model, void* out, size_t out_cap, size_t* out_size) {
  FI_CAPI_BEGIN
  if (model == nullptr || out_size == nullptr) return InvalidArg("model or out_size is NULL");
  if (out == nullptr && out_cap != 0) return InvalidArg("out is NULL with a non-zero out_cap");
  const std::string bytes = fastintent::SerializeModel(*model->box->model, model->box->metadata);
  if (bytes.size() > out_cap) {
    *out_size = bytes.size();
    return NewError(FI_BUFFER_TOO_SMALL, "model bytes: " + std::to_string(bytes.size()) +
                                             " bytes needed, the buffer holds " +
                                             std::to_string(out_cap));
  }
  std::memcpy(out, bytes.data(), bytes.size());
  *out_size = bytes.size();
  return nullptr;
  FI_CAPI_END
}

}  // extern "C"
