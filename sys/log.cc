#include "sys/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace podsandbox::sys {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

char LevelLetter(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return 'D';
    case LogLevel::kInfo:
      return 'I';
    case LogLevel::kWarning:
      return 'W';
    case LogLevel::kError:
      return 'E';
  }
  return '?';
}

bool IsControl(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// Appends `text` with its control characters (and, if `backslash`, '\\')
// escaped.
void AppendEscaped(absl::string_view text, bool backslash, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '\n':
        out->append("\\n");
        continue;
      case '\r':
        out->append("\\r");
        continue;
      case '\t':
        out->append("\\t");
        continue;
      case '\\':
        out->append(backslash ? "\\\\" : "\\");
        continue;
      default:
        break;
    }
    if (IsControl(c)) {
      absl::StrAppendFormat(out, "\\x%02x", static_cast<unsigned char>(c));
    } else {
      out->push_back(c);
    }
  }
}

// `text` cut after `max_bytes`, marked.
std::string Capped(absl::string_view text, size_t max_bytes, bool backslash) {
  std::string out;
  AppendEscaped(text.substr(0, max_bytes), backslash, &out);
  if (text.size() > max_bytes) {
    absl::StrAppend(&out, "...(", text.size() - max_bytes, " more bytes)");
  }
  return out;
}

absl::string_view BaseName(absl::string_view path) {
  size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

void SetMinLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "debug") {
    *level = LogLevel::kDebug;
  } else if (lower == "info") {
    *level = LogLevel::kInfo;
  } else if (lower == "warning") {
    *level = LogLevel::kWarning;
  } else if (lower == "error") {
    *level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

std::string LogSafe(absl::string_view text, size_t max_bytes) {
  return Capped(text, max_bytes, /*backslash=*/true);
}

namespace internal {

void WriteLogLine(LogLevel level, const char* file, int line,
                  const std::string& message) {
  std::string text = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6S", absl::Now(), absl::UTCTimeZone()),
      " ", std::string(1, LevelLetter(level)), " ", BaseName(file), ":", line,
      "] ", Capped(message, kMaxLogLine, /*backslash=*/false), "\n");
  // One write per line so that lines from different threads never interleave.
  // A failed log write has nowhere to be reported.
  (void)!::write(STDERR_FILENO, text.data(), text.size());
}

void CheckFailed(const char* file, int line, const char* condition) {
  WriteLogLine(LogLevel::kError, file, line,
               absl::StrCat("PSB_CHECK failed: ", condition));
  std::abort();
}

}  // namespace internal
}  // namespace podsandbox::sys
