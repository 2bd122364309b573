#include "sys/proc.h"

#include <cerrno>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::sys {

absl::StatusOr<ProcStat> ReadProcStat(pid_t pid) {
  std::string path = absl::StrCat("/proc/", pid, "/stat");
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  // Field 2, the command name, is in parentheses and may itself hold spaces
  // and parentheses, so the fixed fields start after the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos) {
    return absl::InternalError(absl::StrCat("parse ", path, ": no ')'"));
  }
  std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(text).substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  constexpr size_t kStartTime = 22 - 3;
  ProcStat stat;
  if (fields.size() <= kStartTime || fields[0].size() != 1 ||
      !absl::SimpleAtoi(fields[1], &stat.ppid) ||
      !absl::SimpleAtoi(fields[2], &stat.pgid) ||
      !absl::SimpleAtoi(fields[kStartTime], &stat.start_time)) {
    return absl::InternalError(absl::StrCat("parse ", path, ": bad fields"));
  }
  stat.state = fields[0][0];
  return stat;
}

absl::StatusOr<std::vector<pid_t>> ListChildren() {
  std::vector<pid_t> children;
  ASSIGN_OR_RETURN(std::vector<std::string> tasks, ListDir("/proc/self/task"));
  for (const std::string& task : tasks) {
    absl::StatusOr<std::string> text =
        ReadFile(absl::StrCat("/proc/self/task/", task, "/children"));
    if (!text.ok()) continue;  // the thread exited while we listed
    for (absl::string_view field :
         absl::StrSplit(*text, ' ', absl::SkipEmpty())) {
      pid_t pid;
      if (absl::SimpleAtoi(field, &pid)) children.push_back(pid);
    }
  }
  return children;
}

}  // namespace podsandbox::sys
