// The C API's version and error functions, and the shared helpers of capi_internal.h.
#include <algorithm>
#include <utility>

#include "capi/capi_internal.h"

namespace fastintent::capi {
namespace {

// Handed out when allocating an error fails; never freed.
fi_error* StaticOutOfMemory() noexcept {
  static fi_error error{FI_OUT_OF_MEMORY, "out of memory"};
  return &error;
}

}  // namespace

fi_error* NewError(int32_t code, std::string message) noexcept {
  try {
    return new fi_error{code, std::move(message)};
  } catch (...) {
    return StaticOutOfMemory();
  }
}

fi_error* OutOfMemory() noexcept { return StaticOutOfMemory(); }

fi_error* FromStatus(const Status& status) noexcept {
  try {
    return NewError(int32_t(status.code()), status.message());
  } catch (...) {
    return StaticOutOfMemory();
  }
}

std::shared_ptr<const ModelBox> MakeBox(std::shared_ptr<const Model> model, std::string metadata,
                                        const std::string& name) {
  auto box = std::make_shared<ModelBox>();
  box->model = std::move(model);
  box->metadata = std::move(metadata);
  StatusOr<ComponentRegistry> registry = ComponentRegistry::FromModelMetadata(box->metadata, name);
  if (registry.ok()) {
    box->registry = std::move(registry).value();
  } else {
    box->registry_status = registry.status();
  }
  return box;
}

CachedSession& ThreadSession(const std::shared_ptr<const ModelBox>& box) {
  // unique_ptrs, so that the returned reference stays valid while entries move.
  thread_local std::vector<std::unique_ptr<CachedSession>> cache;
  const uint64_t id = box->model->id();
  // Drop the sessions of freed models (a thread serving one live model skips this).
  if (cache.size() > 1 || (cache.size() == 1 && cache.front()->model_id != id)) {
    for (auto it = cache.begin(); it != cache.end();) {
      if ((*it)->model_id != id && (*it)->alive.expired()) {
        it = cache.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!cache.empty() && cache.front()->model_id == id) return *cache.front();
  auto it = std::find_if(cache.begin(), cache.end(), [id](const std::unique_ptr<CachedSession>& c) {
    return c->model_id == id;
  });
  if (it != cache.end()) {
    std::rotate(cache.begin(), it, it + 1);  // most recently used first
    return *cache.front();
  }
  if (cache.size() >= kMaxCachedSessions) cache.pop_back();
  cache.insert(cache.begin(), std::unique_ptr<CachedSession>(
                                  new CachedSession{id, box, box->model->NewSession(), {}}));
  return *cache.front();
}

}  // namespace fastintent::capi

extern "C" {

uint32_t fi_api_version(void) { return FI_API_VERSION; }

#define FI_STR_INNER(x) #x
#define FI_STR(x) FI_STR_INNER(x)
const char* fi_version_string(void) {
  // FI_PROJECT_VERSION comes from CMake's project(VERSION).
  return "fastintent " FI_PROJECT_VERSION
         " (C API " FI_STR(FI_API_VERSION_MAJOR) "." FI_STR(FI_API_VERSION_MINOR) ")";
}

int32_t fi_error_code(const fi_error* error) { return error ? error->code : FI_OK; }

const char* fi_error_message(const fi_error* error) { return error ? error->message.c_str() : ""; }

const char* fi_code_name(int32_t code) {
  if (code >= FI_OK && code <= FI_INTERNAL) {
    return fastintent::StatusCodeName(fastintent::StatusCode(code));  // the same names as C++
  }
  switch (code) {
    case FI_BUFFER_TOO_SMALL:
      return "buffer too small";
    case FI_SHUT_DOWN:
      return "shut down";
    case FI_OUT_OF_MEMORY:
      return "out of memory";
    default:
      return "unknown";
  }
}

fi_error* fi_error_create(int32_t code, const char* message, size_t len) {
  try {
    return fastintent::capi::NewError(
        code, message == nullptr ? std::string() : std::string(message, len));
  } catch (...) {
    return fastintent::capi::OutOfMemory();
  }
}

void fi_error_free(fi_error* error) {
  if (error != fastintent::capi::OutOfMemory()) delete error;
}

}  // extern "C"
