#include "container/cgroup_stats.h"

#include <dirent.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sys/file.h"

namespace podsandbox::container {
namespace {

// v1 reports "no limit" as the page counter's maximum (LONG_MAX rounded
// down to a page, 9223372036854771712 with 4 KiB pages): anything this
// large is no limit.
constexpr uint64_t kV1Unlimited = uint64_t{1} << 62;

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

// A "key value" per line file (memory.stat, cpu.stat, memory.events,
// memory.oom_control); empty when unreadable.
using Keyed = absl::flat_hash_map<std::string, uint64_t>;
Keyed ReadKeyed(const std::string& path) {
  Keyed out;
  absl::StatusOr<std::string> text = sys::ReadFile(path);
  if (!text.ok()) return out;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    uint64_t value = 0;
    if (absl::SimpleAtoi(kv.second, &value)) out[std::string(kv.first)] = value;
  }
  return out;
}

uint64_t Get(const Keyed& keyed, absl::string_view key) {
  auto it = keyed.find(key);
  return it == keyed.end() ? 0 : it->second;
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

// cgroup.procs of `dir` and of the cgroups below it, within the budget.
uint64_t CountSubtreeProcesses(const std::string& dir, int depth,
                               int& dirs_left) {
  if (dirs_left-- <= 0) return 0;
  uint64_t n = CountLines(absl::StrCat(dir, "/cgroup.procs"));
  if (depth >= kMaxSubtreeDepth) return n;
  // Only reads: no Sys seam, as sys::ListDir. A cgroup's subdirectories are
  // its child cgroups (cgroupfs holds nothing else that is a directory).
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (d == nullptr) return n;
  std::vector<std::string> children;
  while (dirent* e = ::readdir(d.get())) {
    absl::string_view name = e->d_name;
    if (e->d_type == DT_DIR && name != "." && name != "..") {
      children.push_back(absl::StrCat(dir, "/", name));
    }
  }
  for (const std::string& child : children) {
    n += CountSubtreeProcesses(child, depth + 1, dirs_left);
  }
  return n;
}

}  // namespace

CgroupUsage ReadCgroupStats(const CgroupStatDirs& dirs, bool count_subtree) {
  CgroupUsage out;
  if (dirs.unified) {
    out.memory_usage_bytes =
        ReadNumber(absl::StrCat(dirs.memory, "/memory.current")).value_or(0);
    Keyed stat = ReadKeyed(absl::StrCat(dirs.memory, "/memory.stat"));
    uint64_t inactive = Get(stat, "inactive_file");
    out.memory_working_set_bytes = out.memory_usage_bytes > inactive
                                       ? out.memory_usage_bytes - inactive
                                       : 0;
    out.memory_rss_bytes = Get(stat, "anon");
    out.page_faults = Get(stat, "pgfault");
    out.major_page_faults = Get(stat, "pgmajfault");
    // "max" does not parse: no limit.
    out.memory_limit_bytes =
        ReadNumber(absl::StrCat(dirs.memory, "/memory.max"));
    out.oom_kills =
        Get(ReadKeyed(absl::StrCat(dirs.memory, "/memory.events")), "oom_kill");
    out.cpu_usage_core_nanos =
        Get(ReadKeyed(absl::StrCat(dirs.cpu, "/cpu.stat")), "usage_usec") *
        1000;
  } else {
    out.memory_usage_bytes =
        ReadNumber(absl::StrCat(dirs.memory, "/memory.usage_in_bytes"))
            .value_or(0);
    // The total_ keys count the cgroup and every cgroup below it, as the
    // usage does.
    Keyed stat = ReadKeyed(absl::StrCat(dirs.memory, "/memory.stat"));
    uint64_t inactive = Get(stat, "total_inactive_file");
    out.memory_working_set_bytes = out.memory_usage_bytes > inactive
                                       ? out.memory_usage_bytes - inactive
                                       : 0;
    out.memory_rss_bytes = Get(stat, "total_rss");
    out.page_faults = Get(stat, "total_pgfault");
    out.major_page_faults = Get(stat, "total_pgmajfault");
    std::optional<uint64_t> limit =
        ReadNumber(absl::StrCat(dirs.memory, "/memory.limit_in_bytes"));
    if (limit.has_value() && *limit < kV1Unlimited) {
      out.memory_limit_bytes = limit;
    }
    out.oom_kills =
        Get(ReadKeyed(absl::StrCat(dirs.memory, "/memory.oom_control")),
            "oom_kill");
    out.cpu_usage_core_nanos =
        ReadNumber(absl::StrCat(dirs.cpu, "/cpuacct.usage")).value_or(0);
  }
  if (count_subtree) {
    int dirs_left = kMaxSubtreeDirs;
    out.process_count = CountSubtreeProcesses(dirs.pids, 0, dirs_left);
  } else {
    out.process_count = CountLines(absl::StrCat(dirs.pids, "/cgroup.procs"));
  }
  return out;
}

CgroupUsage ReadCgroupUsage(absl::string_view cgroupfs,
                            absl::string_view cgroup_path) {
  CgroupStatDirs dirs;
  dirs.memory = absl::StrCat(cgroupfs, "/memory", cgroup_path);
  if (ReadNumber(absl::StrCat(dirs.memory, "/memory.usage_in_bytes"))
          .has_value()) {
    dirs.cpu = absl::StrCat(cgroupfs, "/cpuacct", cgroup_path);
    dirs.pids = absl::StrCat(cgroupfs, "/pids", cgroup_path);
  } else {
    dirs.unified = true;
    dirs.memory = dirs.cpu = dirs.pids = absl::StrCat(cgroupfs, cgroup_path);
  }
  return ReadCgroupStats(dirs);
}

}  // namespace podsandbox::container
