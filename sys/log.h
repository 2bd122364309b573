// The project's one logger: printf-style lines on stderr, formats checked at
// compile time by absl::StrFormat. Log at boundaries only (see STYLE.md):
// lower layers return a Status instead.
//
// One call, one line: WriteLogLine escapes every control character of the
// message (a pod name with "\n" cannot forge a second line) and caps it at
// kMaxLogLine bytes. Request text (names, uids, client messages) goes
// through LogSafe, which also caps it much shorter and escapes '\', so what
// a client sent can be told apart from what we wrote.
//
// Two formats (SetLogFormat): text, as above, and JSON lines for log
// shippers, one object per line:
//   {"time":"2026-01-01T00:00:00.000000Z","level":"info",
//    "source":"rpc_log.cc:30","msg":"..."}
// A line logged with fields (PSB_LOG_FIELDS) carries them as keys of that
// object in JSON, and as "k=v k=v" after the source in text, so
// `rpc=RunPodSandbox pod=... code=OK` reads as before.
//
// Thread-safe: each line is written with a single write(2).
#ifndef PODSANDBOX_SYS_LOG_H_
#define PODSANDBOX_SYS_LOG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace podsandbox::sys {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. The default is kInfo.
void SetMinLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// Parses "debug", "info", "warning" or "error".
bool ParseLogLevel(absl::string_view text, LogLevel* level);

enum class LogFormat { kText, kJson };

// The format of every line from now on. The default is kText.
void SetLogFormat(LogFormat format);

// Parses "text" or "json".
bool ParseLogFormat(absl::string_view text, LogFormat* format);

// One key and its value of a structured line. Values are text as given:
// request text still goes through LogSafe first (it caps the length; JSON
// would escape the rest anyway).
using LogField = std::pair<std::string, std::string>;

// How much request text LogSafe keeps by default, and how long a whole
// message may be.
inline constexpr size_t kMaxLoggedText = 256;
inline constexpr size_t kMaxLogLine = 16 * 1024;

// `text` fit for a log line: '\\' and control characters escaped C-style
// ("\\", "\n", "\t", "\r", "\x01", "\x7f"), and cut after `max_bytes` of
// input with "...(N more bytes)". Pure; thread-safe.
std::string LogSafe(absl::string_view text, size_t max_bytes = kMaxLoggedText);

namespace internal {
void WriteLogLine(LogLevel level, const char* file, int line,
                  const std::string& message);
void WriteLogFields(LogLevel level, const char* file, int line,
                    const std::vector<LogField>& fields);
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

// PSB_LOG_FIELDS(kInfo, {{"rpc", method}, {"code", code}});
#define PSB_LOG_FIELDS(level, ...)                                           \
  do {                                                                       \
    if (::podsandbox::sys::LogEnabled(::podsandbox::sys::LogLevel::level)) { \
      ::podsandbox::sys::internal::WriteLogFields(                           \
          ::podsandbox::sys::LogLevel::level, __FILE__, __LINE__,            \
          __VA_ARGS__);                                                      \
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
