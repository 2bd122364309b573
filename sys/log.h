// The project's one logger: printf-style lines on stderr, formats checked at
// compile time by absl::StrFormat. Log at boundaries only (see STYLE.md):
// lower layers return a Status instead.
//
// Thread-safe: each line is written with a single write(2).
#ifndef PODSANDBOX_SYS_LOG_H_
#define PODSANDBOX_SYS_LOG_H_

#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace podsandbox::sys {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. The default is kInfo.
void SetMinLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// Parses "debug", "info", "warning" or "error".
bool ParseLogLevel(absl::string_view text, LogLevel* level);

namespace internal {
void WriteLogLine(LogLevel level, const char* file, int line,
                  const std::string& message);
[[noreturn]] void CheckFailed(const char* file, int line,
                              const char* condition);
}  // namespace internal

}  // namespace podsandbox::sys

// PSB_LOG(kWarning, "rollback %s failed for pod=%s: %s", step, id, why);
#define PSB_LOG(level, ...)                                                  \
  do {                                                                       \
    if (::podsandbox::sys::LogEnabled(::podsandbox::sys::LogLevel::level)) { \
      ::podsandbox::sys::internal::WriteLogLine(                             \
          ::podsandbox::sys::LogLevel::level, __FILE__, __LINE__,            \
          ::absl::StrFormat(__VA_ARGS__));                                   \
    }                                                                        \
  } while (false)

// Aborts when a programmer invariant does not hold. Never for conditions the
// environment can cause: those are Status errors.
#define PSB_CHECK(condition)                                       \
  do {                                                             \
    if (!(condition)) {                                            \
      ::podsandbox::sys::internal::CheckFailed(__FILE__, __LINE__, \
                                               #condition);        \
    }                                                              \
  } while (false)

#endif  // PODSANDBOX_SYS_LOG_H_
