#include "server/v1_api.h"

#include <nlohmann/json.hpp>

#include "common/json.h"

namespace fastintent::server {
namespace {

using json = nlohmann::json;

// One item per result, `item` rendering the classified ones; the item itself for a single text.
template <typename RenderItem>
std::string WriteItems(const V1TextsRequest& request, const std::vector<InferenceResult>& results,
                       RenderItem item) {
  json items = json::array();
  for (const InferenceResult& r : results) items.push_back(item(r));
  if (request.single) return DumpJson(items[0]);
  return DumpJson({{"results", std::move(items)}});
}

}  // namespace

StatusOr<V1TextsRequest> ParseV1Texts(std::string_view text) {
  json body;
  if (Status s = ParseJsonObject(text, &body); !s.ok()) return s;
  V1TextsRequest request;
  std::vector<std::string>& texts = request.texts.texts;
  const bool has_text = body.contains("text"), has_texts = body.contains("texts");
  if (has_text == has_texts) {
    return InvalidArgument("give either \"text\" (a string) or \"texts\" (an array of strings)");
  }
  if (has_text) {
    if (!body["text"].is_string()) return InvalidArgument("\"text\" must be a string");
    texts.push_back(body["text"]);
    request.single = true;
  } else {
    if (!body["texts"].is_array()) return InvalidArgument("\"texts\" must be an array of strings");
    for (const json& t : body["texts"]) {
      if (!t.is_string()) return InvalidArgument("\"texts\" must hold strings only");
      texts.push_back(t);
    }
  }
  if (Status s = FinishTextsRequest(&body, &request.texts); !s.ok()) return s;
  return request;
}

std::string WriteV1Classify(const V1TextsRequest& request,
                            const std::vector<InferenceResult>& results) {
  return WriteItems(request, results, [](const InferenceResult& r) {
    json item = json::object();
    if (!r.status.ok()) {
      item["labels"] = json::array();
      item["error"] = r.status.message();
      return item;
    }
    json labels = json::array();
    for (const LabelScore& l : r.labels) {
      labels.push_back({{"label", r.model->labels()[l.label]}, {"prob", l.prob}});
    }
    item["labels"] = std::move(labels);
    return item;
  });
}

std::string WriteV1Route(const V1TextsRequest& request, const std::vector<InferenceResult>& results,
                         const ComponentRegistry& registry) {
  return WriteItems(request, results, [&](const InferenceResult& r) {
    json item = json::object();
    if (!r.status.ok()) {
      item["components"] = json::array();
      item["total_memory_mb"] = 0;  // the fields of a routed item
      item["error"] = r.status.message();
      return item;
    }
    // `registry` may belong to a model loaded after the one that computed `r` (a reload in
    // between): Route ignores labels that are not components.
    const RouteResult routed = Route(*r.model, registry, r.probabilities, request.texts.threshold);
    json comps = json::array();
    for (const RoutedComponent& c : routed.components) {
      comps.push_back({{"name", c.component->name},
                       {"priority", PriorityName(c.component->priority)},
                       {"confidence", c.confidence},
                       {"memory_mb", c.component->memory_mb},
                       {"load_ms", c.component->load_ms},
                       {"dependency", c.dependency}});
    }
    item["components"] = std::move(comps);
    item["total_memory_mb"] = routed.total_memory_mb;
    return item;
  });
}

}  // namespace fastintent::server
