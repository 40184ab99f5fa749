// JSON in and out: parsing with an error that says why and where, and text that is always
// valid JSON. Both safe for any input bytes.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fastintent/status.h"

namespace fastintent {

// Parses `text` into *out. On failure returns InvalidArgument("malformed JSON at byte 17:
// invalid string: ill-formed UTF-8 byte") and leaves *out alone. Every failure of the parser is
// caught, syntax errors and numbers out of range alike; none escapes as an exception.
Status ParseJson(std::string_view text, nlohmann::json* out);

// The reason in a message of nlohmann::json (its what()), as "at byte 17: invalid string:
// ill-formed UTF-8 byte" (without "at byte" when `byte` is 0, unknown). The parser's echo of
// the input ("; last read: '...'") is left out: it may hold invalid UTF-8 or control bytes.
std::string JsonErrorReason(const char* what, size_t byte);

// `j` as JSON text (indent < 0: one line). Bytes that are not UTF-8 (in a text, a label, a path)
// are replaced by U+FFFD instead of throwing, so the output is always valid JSON.
std::string DumpJson(const nlohmann::json& j, int indent = -1);

}  // namespace fastintent
