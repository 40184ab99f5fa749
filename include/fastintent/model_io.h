// Reading and writing model files (format: docs/model-format.md).
#pragma once

#include <memory>
#include <string>

#include "fastintent/model.h"
#include "fastintent/status.h"

namespace fastintent {

// Current (and only) format version written by this build.
inline constexpr uint32_t kModelFormatVersion = 1;

// Serialises `model` (with optional free-form JSON `metadata`, e.g. how it was trained) and
// writes it atomically to `path`.
Status SaveModel(const Model& model, const std::string& path,
                 const std::string& metadata_json = "");

// Serialises `model` into bytes (the file's content).
std::string SerializeModel(const Model& model, const std::string& metadata_json = "");

// Loads and fully verifies a model file: magic, version, every section's checksum, shapes.
// Errors name the file and what is wrong ("m.fim: checksum mismatch in section 'weights'").
// On success `metadata_json` (if non-null) receives the metadata section ("" if absent).
StatusOr<std::shared_ptr<const Model>> LoadModel(const std::string& path,
                                                 std::string* metadata_json = nullptr);

// The same from a buffer holding a model file; `name` appears in error messages.
StatusOr<std::shared_ptr<const Model>> LoadModelFromBuffer(const void* data, size_t size,
                                                           const std::string& name,
                                                           std::string* metadata_json = nullptr);

}  // namespace fastintent
