// What the C API's translation units share: the definitions of the opaque handles, the one
// catch-all that keeps C++ exceptions from crossing the boundary, Status -> fi_error, and the
// calling thread's session cache. Not installed; nothing outside src/capi/ includes it.
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fastintent/fastintent.h"
#include "fastintent/model.h"
#include "fastintent/status.h"
#include "router/router.h"

struct fi_error {
  int32_t code;
  std::string message;
};

namespace fastintent::capi {

// Everything a loaded model handle stands for: the model, its file metadata and the component
// registry parsed from it (or why there is none). Immutable once built and shared (by
// shared_ptr) between the model handle, engines serving it and their results.
struct ModelBox {
  std::shared_ptr<const Model> model;
  std::string metadata;
  std::optional<ComponentRegistry> registry;
  Status registry_status;  // why `registry` is empty (NotFound when the metadata has none)
};

// Builds a box for `model` with `metadata`, parsing the registry when the metadata has one.
std::shared_ptr<const ModelBox> MakeBox(std::shared_ptr<const Model> model, std::string metadata,
                                        const std::string& name);

// A new error (never null: when even that allocation fails, the static out-of-memory error,
// which fi_error_free knows not to delete).
fi_error* NewError(int32_t code, std::string message) noexcept;
fi_error* OutOfMemory() noexcept;
// The fi_error for a non-OK status (codes 1-9 are shared with StatusCode).
fi_error* FromStatus(const Status& status) noexcept;
inline fi_error* InvalidArg(const char* message) noexcept {
  return NewError(FI_INVALID_ARGUMENT, message);
}

// A text argument: (NULL, 0) is "", (NULL, n > 0) is an error (returns false).
inline bool TextArg(const char* data, size_t len, std::string_view* out) {
  if (data == nullptr && len != 0) return false;
  *out = data == nullptr ? std::string_view() : std::string_view(data, len);
  return true;
}

// Whether `threshold` is one the API accepts: negative (the calibrated one) or in [0, 1].
inline bool ValidThreshold(float threshold) {
  return threshold < 0 || (threshold >= 0 && threshold <= 1);
}

// The calling thread's session for `box`'s model, from a small per-thread cache (see
// "Sessions" in fastintent.h): at most kMaxCachedSessions, most recently used first; entries
// whose model box has been freed are dropped on every call.
struct CachedSession {
  uint64_t model_id;
  std::weak_ptr<const ModelBox> alive;
  Session session;
  std::vector<LabelScore> top;  // Decide's output, reused
};
inline constexpr size_t kMaxCachedSessions = 4;
CachedSession& ThreadSession(const std::shared_ptr<const ModelBox>& box);

}  // namespace fastintent::capi

// The handle behind fi_model*.
struct fi_model {
  std::shared_ptr<const fastintent::capi::ModelBox> box;
};

// Every entry point that returns fi_error* runs its body inside these, so that no exception
// (an allocation failure, a bug) escapes into C: bad_alloc becomes FI_OUT_OF_MEMORY, anything
// else FI_INTERNAL with what() in the message.
#define FI_CAPI_BEGIN try {
#define FI_CAPI_END                                                                               \
  }                                                                                               \
  catch (const std::bad_alloc&) {                                                                 \
    return ::fastintent::capi::OutOfMemory();                                                     \
  }                                                                                               \
  catch (const std::exception& e) {                                                               \
    return ::fastintent::capi::NewError(FI_INTERNAL, std::string("internal error: ") + e.what()); \
  }                                                                                               \
  catch (...) {                                                                                   \
    return ::fastintent::capi::NewError(FI_INTERNAL, "internal error: unknown exception");        \
  }
