#include "server/texts_request.h"

#include <nlohmann/json.hpp>

#include "common/json.h"

namespace fastintent::server {

Status ParseJsonObject(std::string_view body, nlohmann::json* out) {
  if (Status s = ParseJson(body, out); !s.ok())
    return InvalidArgument("request body: " + s.message());
  if (!out->is_object()) return InvalidArgument("request body must be a JSON object");
  return Status::Ok();
}

Status FinishTextsRequest(const nlohmann::json* params, TextsRequest* request) {
  if (params) {
    if (params->contains("k")) {
      const nlohmann::json& k = (*params)["k"];
      if (!k.is_number_integer() || k.get<int64_t>() < 1 || k.get<int64_t>() > 100000) {
        return InvalidArgument("\"k\" must be a positive integer");
      }
      request->k = int(k.get<int64_t>());
    }
    if (params->contains("threshold")) {
      const nlohmann::json& t = (*params)["threshold"];
      if (!t.is_number() || t.get<double>() < 0 || t.get<double>() > 1) {
        return InvalidArgument("\"threshold\" must be a number in [0, 1]");
      }
      request->threshold = t.get<float>();
    }
  }
  if (request->texts.empty()) return InvalidArgument("no texts to classify");
  return Status::Ok();
}

}  // namespace fastintent::server
