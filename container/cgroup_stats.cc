#include "container/cgroup_stats.h"

#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sys/file.h"

namespace podsandbox::container {
namespace {

// The first line of a cgroup file as a number; nullopt when unreadable.
std::optional<uint64_t> ReadNumber(const std::string& path) {
  absl::StatusOr<std::string> text = sys::ReadFile(path);
  uint64_t value = 0;
  if (!text.ok() ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &value)) {
    return std::nullopt;
  }
  return value;
}

// `key`'s value in a "key value" per line file (memory.stat, cpu.stat,
// memory.events, memory.oom_control).
std::optional<uint64_t> ReadKeyed(const std::string& path,
                                  absl::string_view key) {
  absl::StatusOr<std::string> text = sys::ReadFile(path);
  if (!text.ok()) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    uint64_t value = 0;
    if (kv.first == key && absl::SimpleAtoi(kv.second, &value)) return value;
  }
  return std::nullopt;
}

uint64_t CountLines(const std::string& path) {
  absl::StatusOr<std::string> text = sys::ReadFile(path);
  if (!text.ok()) return 0;
  uint64_t n = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    n += !line.empty();
  }
  return n;
}

}  // namespace

CgroupUsage ReadCgroupUsage(absl::string_view cgroupfs,
                            absl::string_view cgroup_path) {
  CgroupUsage out;
  const std::string v1_memory = absl::StrCat(cgroupfs, "/memory", cgroup_path);
  const std::string v2 = absl::StrCat(cgroupfs, cgroup_path);
  std::optional<uint64_t> usage =
      ReadNumber(absl::StrCat(v1_memory, "/memory.usage_in_bytes"));
  if (usage.has_value()) {
    out.memory_usage_bytes = *usage;
    uint64_t inactive = ReadKeyed(absl::StrCat(v1_memory, "/memory.stat"),
                                  "total_inactive_file")
                            .value_or(0);
    out.memory_working_set_bytes = *usage > inactive ? *usage - inactive : 0;
    out.oom_kills =
        ReadKeyed(absl::StrCat(v1_memory, "/memory.oom_control"), "oom_kill")
            .value_or(0);
    out.cpu_usage_core_nanos =
        ReadNumber(
            absl::StrCat(cgroupfs, "/cpuacct", cgroup_path, "/cpuacct.usage"))
            .value_or(0);
    out.process_count = CountLines(
        absl::StrCat(cgroupfs, "/pids", cgroup_path, "/cgroup.procs"));
    return out;
  }
  usage = ReadNumber(absl::StrCat(v2, "/memory.current"));
  out.memory_usage_bytes = usage.value_or(0);
  uint64_t inactive =
      ReadKeyed(absl::StrCat(v2, "/memory.stat"), "inactive_file").value_or(0);
  out.memory_working_set_bytes =
      out.memory_usage_bytes > inactive ? out.memory_usage_bytes - inactive : 0;
  out.oom_kills =
      ReadKeyed(absl::StrCat(v2, "/memory.events"), "oom_kill").value_or(0);
  out.cpu_usage_core_nanos =
      ReadKeyed(absl::StrCat(v2, "/cpu.stat"), "usage_usec").value_or(0) * 1000;
  out.process_count = CountLines(absl::StrCat(v2, "/cgroup.procs"));
  return out;
}

}  // namespace podsandbox::container
