// The assistant command router: turns a multi-label model's prediction into the assistant
// components a command needs, with dependencies added and ordered by priority.
// A ComponentRegistry is immutable once parsed and safe to share between threads.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fastintent/model.h"
#include "fastintent/status.h"

namespace fastintent {

// Load priority of a component, most urgent first (the registry's "CORE".."LOW").
enum class Priority { kCore = 0, kHigh = 1, kMedium = 2, kLow = 3 };
// "CORE", "HIGH", "MEDIUM" or "LOW": the spelling the registry JSON and `route` use.
const char* PriorityName(Priority p);

struct Component {
  std::string name;
  Priority priority = Priority::kLow;
  int memory_mb = 0;
  int load_ms = 0;
  std::vector<std::string> depends_on;
  std::string description;
};

class ComponentRegistry {
 public:
  // Parses {"components": [{"name", "priority" (CORE|HIGH|MEDIUM|LOW), "memory_mb", "load_ms",
  // "depends_on": [...], "description"}]}. Fails on unknown priorities, dependencies on
  // undeclared components, duplicate names and dependency cycles.
  static StatusOr<ComponentRegistry> Parse(const std::string& json, const std::string& source);
  // The registry embedded in a model's metadata by EmbedInMetadata (the metadata key
  // "components", specified in docs/model-format.md); NotFound "<model_path>: the model has no
  // component registry ..." when there is none, Parse's errors when it is malformed.
  static StatusOr<ComponentRegistry> FromModelMetadata(const std::string& metadata,
                                                       const std::string& model_path);
  // `metadata` (a JSON object) with this registry's components under its "components" key, as
  // one line of JSON: the model metadata that FromModelMetadata reads back.
  std::string EmbedInMetadata(nlohmann::json metadata) const;
  // The component called `name`, or null; the pointer lives as long as the registry.
  const Component* Find(const std::string& name) const;
  const std::vector<Component>& components() const { return components_; }
  // The registry as JSON text (the form Parse reads).
  std::string ToJson() const;

 private:
  std::vector<Component> components_;
};

struct RoutedComponent {
  const Component* component;
  float confidence;  // the model's probability (for a pulled-in dependency: its own)
  bool dependency;   // added because another routed component depends on it
};

struct RouteResult {
  std::vector<RoutedComponent> components;  // priority order, then confidence descending
  int total_memory_mb = 0;
};

// Routes `probs` (one probability per model label) with `threshold` (< 0: the model's
// calibrated one). Model labels that are not components are ignored.
RouteResult Route(const Model& model, const ComponentRegistry& registry,
                  const std::vector<float>& probs, float threshold);

}  // namespace fastintent
