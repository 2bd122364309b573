#include "sys/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace podsandbox::sys {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<LogFormat> log_format{LogFormat::kText};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

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

void SetLogFormat(LogFormat format) {
  log_format.store(format, std::memory_order_relaxed);
}

bool ParseLogFormat(absl::string_view text, LogFormat* format) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "text") {
    *format = LogFormat::kText;
  } else if (lower == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
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

namespace {

// One write per line so that lines from different threads never
// interleave. A failed log write has nowhere to be reported.
void WriteOut(const std::string& text) {
  (void)!::write(STDERR_FILENO, text.data(), text.size());
}

std::string Now(absl::string_view suffix) {
  return absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6S", absl::Now(), absl::UTCTimeZone()),
      suffix);
}

// The JSON line: time, level, source, then `fields` (msg for PSB_LOG).
// Invalid UTF-8 (a client's bytes) is replaced, never thrown over:
// nlohmann's dump throws on it by default.
void WriteJson(LogLevel level, const char* file, int line,
               const std::vector<LogField>& fields) {
  nlohmann::ordered_json object;
  object["time"] = Now("Z");
  object["level"] = LevelName(level);
  object["source"] = absl::StrCat(BaseName(file), ":", line);
  for (const auto& [key, value] : fields) {
    object[key] = Capped(value, kMaxLogLine, /*backslash=*/false);
  }
  WriteOut(absl::StrCat(
      object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      "\n"));
}

void WriteText(LogLevel level, const char* file, int line,
               absl::string_view message) {
  WriteOut(absl::StrCat(Now(""), " ", std::string(1, LevelLetter(level)), " ",
                        BaseName(file), ":", line, "] ",
                        Capped(message, kMaxLogLine, /*backslash=*/false),
                        "\n"));
}

}  // namespace

void WriteLogLine(LogLevel level, const char* file, int line,
                  const std::string& message) {
  if (log_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    WriteJson(level, file, line, {{"msg", message}});
  } else {
    WriteText(level, file, line, message);
  }
}

void WriteLogFields(LogLevel level, const char* file, int line,
                    const std::vector<LogField>& fields) {
  if (log_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    WriteJson(level, file, line, fields);
    return;
  }
  std::string message;
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&message, message.empty() ? "" : " ", key, "=", value);
  }
  WriteText(level, file, line, message);
}

void CheckFailed(const char* file, int line, const char* condition) {
  WriteLogLine(LogLevel::kError, file, line,
               absl::StrCat("PSB_CHECK failed: ", condition));
  std::abort();
}

}  // namespace internal
}  // namespace podsandbox::sys
