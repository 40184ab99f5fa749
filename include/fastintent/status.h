// Status and StatusOr: the error type of every fallible call below the surfaces.
// A Status is a code plus a message that names the input at fault
// ("model.fim: checksum mismatch in section 'weights'"). An OK Status holds no allocation,
// so success costs nothing. Both types are value types; not synchronised.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace fastintent {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,   // bad caller input: malformed text, JSON, flags
  kNotFound = 2,          // a file or label that does not exist
  kDataLoss = 3,          // corrupt or truncated file, checksum mismatch
  kUnimplemented = 4,     // a format version or feature this build does not know
  kIoError = 5,           // the OS refused a read or write
  kOverloaded = 6,        // a queue is full; retry later
  kDeadlineExceeded = 7,  // the request's deadline passed before it was computed
  kCancelled = 8,         // the caller cancelled the request
  kInternal = 9,          // a bug: an invariant did not hold
};

// Returns a stable lower-case name for `code` ("invalid argument", "data loss", ...).
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "data loss: model.fim: truncated" style text for logs and CLI errors.
  std::string ToString() const;
  // Returns a copy with "prefix: " put before the message (for naming the file or line).
  Status WithPrefix(const std::string& prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // A StatusOr from an OK status would hold no value: it becomes an Internal error in every
  // build (as in Abseil), never an ok() without a value.
  StatusOr(Status status)  // NOLINT
      : status_(status.ok()
                    ? Status(StatusCode::kInternal, "StatusOr constructed from an OK status")
                    : std::move(status)) {}
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

#define FI_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::fastintent::Status fi_status_ = (expr); \
    if (!fi_status_.ok()) return fi_status_;  \
  } while (0)

#define FI_CONCAT_INNER(a, b) a##b
#define FI_CONCAT(a, b) FI_CONCAT_INNER(a, b)
#define FI_ASSIGN_OR_RETURN(lhs, expr) \
  FI_ASSIGN_OR_RETURN_IMPL(FI_CONCAT(fi_or_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): tmp is a name being declared and lhs may be a
// declaration ("auto x"); parentheses would not compile.
#define FI_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace fastintent
