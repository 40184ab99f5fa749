// Error text for JSON that failed to parse, safe to print.
#pragma once

#include <cstddef>
#include <string>

namespace fastintent {

// Why a JSON parser rejected a document, as "at byte 17: invalid string: ill-formed UTF-8
// byte" (or "at byte 9: unexpected '}'; expected string literal"). `what` is
// nlohmann::json::parse_error::what() and `byte` its `byte` field (1-based). The parser's echo
// of the input ("; last read: '...'") is left out: it may hold invalid UTF-8 or control bytes.
std::string JsonSyntaxReason(const char* what, size_t byte);

}  // namespace fastintent
