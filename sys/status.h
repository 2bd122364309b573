// Status helpers shared by every layer: errno conversion, context on layer
// crossings, and the two early-return macros.
//
// errno never travels as an int past the first caller that knows what a
// syscall meant: that caller turns it into a Status with ErrnoError.
#ifndef PODSANDBOX_SYS_STATUS_H_
#define PODSANDBOX_SYS_STATUS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace podsandbox::sys {

// The Status for a failed syscall: "<operation> <object>: <strerror>", with
// the code absl::ErrnoToStatus picks, except that kInvalidArgument becomes
// kInternal: a kernel EINVAL means we passed bad arguments, which is our
// bug, not the client's.
absl::Status ErrnoErrorMessage(int err, absl::string_view message);

template <typename... Args>
absl::Status ErrnoError(int err, const absl::FormatSpec<Args...>& format,
                        const Args&... args) {
  return ErrnoErrorMessage(err, absl::StrFormat(format, args...));
}

// Returns `status` with "<context>: " before its message and the same code.
// OK stays OK. Used where an error crosses a layer.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

template <typename T>
absl::StatusOr<T> Annotate(absl::StatusOr<T> result,
                           absl::string_view context) {
  if (result.ok()) return result;
  return Annotate(result.status(), context);
}

namespace internal {
inline const absl::Status& AsStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& AsStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace internal

}  // namespace podsandbox::sys

#define PSB_STATUS_CONCAT_INNER_(a, b) a##b
#define PSB_STATUS_CONCAT_(a, b) PSB_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status or StatusOr) is
// not OK.
#define RETURN_IF_ERROR(expr)                                    \
  do {                                                           \
    const auto& psb_status_ = (expr);                            \
    if (!psb_status_.ok()) {                                     \
      return ::podsandbox::sys::internal::AsStatus(psb_status_); \
    }                                                            \
  } while (false)

// `ASSIGN_OR_RETURN(T x, F());` declares x from F()'s value, or returns F()'s
// error from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr)                                            \
  PSB_ASSIGN_OR_RETURN_IMPL_(PSB_STATUS_CONCAT_(psb_statusor_, __LINE__), lhs, \
                             expr)
#define PSB_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)    \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // PODSANDBOX_SYS_STATUS_H_
