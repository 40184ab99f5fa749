#include "common/json_error.h"

#include <string_view>

namespace fastintent {

std::string JsonSyntaxReason(const char* what, size_t byte) {
  std::string_view w(what);
  // "[json.exception.parse_error.101] parse error at line 1, column 17: syntax error while
  // parsing value - invalid string: ...; last read: '...'"
  std::string_view reason = "syntax error";
  const size_t dash = w.find(" - ");
  if (dash != std::string_view::npos) {
    reason = w.substr(dash + 3);
    reason = reason.substr(0, reason.find("; last read"));
  }
  return "at byte " + std::to_string(byte) + ": " + std::string(reason);
}

}  // namespace fastintent
