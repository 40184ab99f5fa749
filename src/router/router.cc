#include "router/router.h"

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "common/json.h"

namespace fastintent {

const char* PriorityName(Priority p) {
  switch (p) {
    case Priority::kCore:
      return "CORE";
    case Priority::kHigh:
      return "HIGH";
    case Priority::kMedium:
      return "MEDIUM";
    case Priority::kLow:
      return "LOW";
  }
  return "LOW";
}

StatusOr<ComponentRegistry> ComponentRegistry::FromModelMetadata(const std::string& metadata,
                                                                 const std::string& model_path) {
  nlohmann::json j;
  if (!ParseJson(metadata, &j).ok() || !j.is_object() || !j.contains("components"))
    return NotFound(model_path +
                    ": the model has no component registry (train it with --components FILE)");
  return Parse(metadata, model_path);
}

StatusOr<ComponentRegistry> ComponentRegistry::Parse(const std::string& json,
                                                     const std::string& source) {
  nlohmann::json j;
  if (Status s = ParseJson(json, &j); !s.ok()) return s.WithPrefix(source);
  if (!j.is_object() || !j.contains("components") || !j["components"].is_array())
    return InvalidArgument(source + ": expected an object with a \"components\" array");
  ComponentRegistry reg;
  for (const auto& c : j["components"]) {
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string())
      return InvalidArgument(source + ": every component needs a string \"name\"");
    Component comp;
    comp.name = c["name"].get<std::string>();
    if (c.contains("priority") && !c["priority"].is_string())
      return InvalidArgument(source + ": component '" + comp.name +
                             "': \"priority\" must be one of CORE, HIGH, MEDIUM, LOW");
    const std::string pr = c.value("priority", std::string("LOW"));
    if (pr == "CORE")
      comp.priority = Priority::kCore;
    else if (pr == "HIGH")
      comp.priority = Priority::kHigh;
    else if (pr == "MEDIUM")
      comp.priority = Priority::kMedium;
    else if (pr == "LOW")
      comp.priority = Priority::kLow;
    else
      // NOLINTNEXTLINE(performance-inefficient-string-concatenation): an error message, once.
      return InvalidArgument(source + ": component '" + comp.name + "': unknown priority '" + pr +
                             "'");
    if (c.contains("memory_mb") && c["memory_mb"].is_number_integer())
      comp.memory_mb = c["memory_mb"].get<int>();
    if (c.contains("load_ms") && c["load_ms"].is_number_integer())
      comp.load_ms = c["load_ms"].get<int>();
    if (c.contains("description") && c["description"].is_string())
      comp.description = c["description"].get<std::string>();
    if (c.contains("depends_on")) {
      if (!c["depends_on"].is_array())
        return InvalidArgument(source + ": component '" + comp.name +
                               "': depends_on must be an array");
      for (const auto& d : c["depends_on"]) {
        if (!d.is_string())
          return InvalidArgument(source + ": component '" + comp.name +
                                 "': depends_on holds a non-string");
        comp.depends_on.push_back(d.get<std::string>());
      }
    }
    if (reg.Find(comp.name))
      return InvalidArgument(source + ": duplicate component '" + comp.name + "'");
    reg.components_.push_back(std::move(comp));
  }
  for (const Component& c : reg.components_)
    for (const std::string& d : c.depends_on)
      if (!reg.Find(d))
        // NOLINTNEXTLINE(performance-inefficient-string-concatenation): an error message, once.
        return InvalidArgument(source + ": component '" + c.name + "' depends on unknown '" + d +
                               "'");
  // Cycle check by depth-first search.
  std::map<std::string, int> state;  // 0 new, 1 visiting, 2 done
  std::function<bool(const Component&)> acyclic = [&](const Component& c) {
    int& s = state[c.name];
    if (s == 1) return false;
    if (s == 2) return true;
    s = 1;
    for (const std::string& d : c.depends_on)
      if (!acyclic(*reg.Find(d))) return false;
    state[c.name] = 2;
    return true;
  };
  for (const Component& c : reg.components_)
    if (!acyclic(c)) return InvalidArgument(source + ": dependency cycle through '" + c.name + "'");
  return reg;
}

const Component* ComponentRegistry::Find(const std::string& name) const {
  for (const Component& c : components_)
    if (c.name == name) return &c;
  return nullptr;
}

std::string ComponentRegistry::ToJson() const { return EmbedInMetadata(nlohmann::json::object()); }

std::string ComponentRegistry::EmbedInMetadata(nlohmann::json metadata) const {
  nlohmann::json arr = nlohmann::json::array();
  for (const Component& c : components_) {
    arr.push_back({{"name", c.name},
                   {"priority", PriorityName(c.priority)},
                   {"memory_mb", c.memory_mb},
                   {"load_ms", c.load_ms},
                   {"depends_on", c.depends_on},
                   {"description", c.description}});
  }
  metadata["components"] = std::move(arr);
  return DumpJson(metadata);
}

RouteResult Route(const Model& model, const ComponentRegistry& registry,
                  const std::vector<float>& probs, float threshold) {
  if (threshold < 0) threshold = model.threshold();
  RouteResult r;
  std::map<std::string, size_t> index;
  std::function<void(const Component*, float, bool)> add = [&](const Component* c, float conf,
                                                               bool dep) {
    auto it = index.find(c->name);
    if (it != index.end()) {
      r.components[it->second].dependency = r.components[it->second].dependency && dep;
      return;
    }
    index[c->name] = r.components.size();
    r.components.push_back({c, conf, dep});
    for (const std::string& d : c->depends_on) {
      const Component* dc = registry.Find(d);
      const int li = model.LabelIndex(d);
      add(dc, li >= 0 ? probs[size_t(li)] : 0.0f, true);
    }
  };
  const auto& labels = model.labels();
  if (model.kind() == OutputKind::kSigmoid) {
    for (size_t i = 0; i < labels.size(); ++i)
      if (probs[i] >= threshold)
        if (const Component* c = registry.Find(labels[i])) add(c, probs[i], false);
  } else {
    const size_t best = size_t(std::max_element(probs.begin(), probs.end()) - probs.begin());
    if (probs[best] >= threshold)
      if (const Component* c = registry.Find(labels[best])) add(c, probs[best], false);
  }
  std::stable_sort(r.components.begin(), r.components.end(),
                   [](const RoutedComponent& a, const RoutedComponent& b) {
                     if (a.component->priority != b.component->priority)
                       return a.component->priority < b.component->priority;
                     return a.confidence > b.confidence;
                   });
  for (const RoutedComponent& c : r.components) r.total_memory_mb += c.component->memory_mb;
  return r;
}

}  // namespace fastintent
