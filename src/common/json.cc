#include "common/json.h"

namespace fastintent {

std::string JsonErrorReason(const char* what, size_t byte) {
  // "[json.exception.parse_error.101] parse error at line 1, column 17: syntax error while
  // parsing value - invalid string: ...; last read: '...'", or
  // "[json.exception.out_of_range.406] number overflow parsing '1e999'".
  std::string_view w(what);
  if (w.rfind("[json.exception.", 0) == 0 && w.find("] ") != std::string_view::npos)
    w.remove_prefix(w.find("] ") + 2);
  std::string_view reason = w.empty() ? std::string_view("syntax error") : w;
  if (w.rfind("parse error", 0) == 0) {
    const size_t dash = w.find(" - ");
    reason = dash == std::string_view::npos ? std::string_view("syntax error") : w.substr(dash + 3);
  }
  reason = reason.substr(0, reason.find("; last read"));
  return (byte > 0 ? "at byte " + std::to_string(byte) + ": " : std::string()) +
         std::string(reason);
}

std::string DumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status ParseJson(std::string_view text, nlohmann::json* out) {
  try {
    *out = nlohmann::json::parse(text);
    return Status::Ok();
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgument("malformed JSON " + JsonErrorReason(e.what(), e.byte));
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument("malformed JSON: " + JsonErrorReason(e.what(), 0));
  }
}

}  // namespace fastintent
