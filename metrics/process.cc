#include "metrics/process.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "metrics/registry.h"

namespace podsandbox::metrics {
namespace {

// Entries of /proc/self/fd, less the one opendir holds while counting.
std::optional<double> OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  double count = 0;
  while (const struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;
}

std::optional<double> MaxFds() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
  return static_cast<double>(limit.rlim_cur);
}

// The second field of /proc/self/statm, in pages (proc(5)).
std::optional<double> ResidentBytes() {
  FILE* file = fopen("/proc/self/statm", "re");
  if (file == nullptr) return std::nullopt;
  unsigned long size = 0, resident = 0;
  const int fields = fscanf(file, "%lu %lu", &size, &resident);
  fclose(file);
  if (fields != 2) return std::nullopt;
  return static_cast<double>(resident) * sysconf(_SC_PAGESIZE);
}

// Field 22 of /proc/self/stat (clock ticks after boot) plus btime from
// /proc/stat, as seconds since the epoch.
std::optional<double> StartTimeSeconds() {
  FILE* stat = fopen("/proc/self/stat", "re");
  if (stat == nullptr) return std::nullopt;
  char buf[1024];
  const size_t n = fread(buf, 1, sizeof(buf) - 1, stat);
  fclose(stat);
  buf[n] = '\0';
  // The command name may hold spaces and parentheses: fields are counted
  // after its last ')'.
  std::string text(buf);
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::vector<std::string> fields =
      absl::StrSplit(text.substr(paren + 2), ' ', absl::SkipEmpty());
  uint64_t ticks = 0;
  // Field 22 is the 20th after the command name (fields 3 onwards).
  if (fields.size() < 20 || !absl::SimpleAtoi(fields[19], &ticks)) {
    return std::nullopt;
  }
  FILE* proc_stat = fopen("/proc/stat", "re");
  if (proc_stat == nullptr) return std::nullopt;
  char line[256];
  std::optional<double> boot;
  while (fgets(line, sizeof(line), proc_stat) != nullptr) {
    unsigned long long btime = 0;
    if (sscanf(line, "btime %llu", &btime) == 1) boot = btime;
  }
  fclose(proc_stat);
  if (!boot.has_value()) return std::nullopt;
  return *boot + static_cast<double>(ticks) / sysconf(_SC_CLK_TCK);
}

void WriteOne(const char* name, const char* help, std::optional<double> value,
              std::string* out) {
  if (value.has_value()) WriteGaugeFamily(name, help, {}, {{{}, *value}}, out);
}

}  // namespace

void WriteProcessMetrics(std::string* out) {
  WriteOne("process_open_fds", "Number of open file descriptors.", OpenFds(),
           out);
  WriteOne("process_max_fds", "Maximum number of open file descriptors.",
           MaxFds(), out);
  WriteOne("process_resident_memory_bytes", "Resident memory size in bytes.",
           ResidentBytes(), out);
  WriteOne("process_start_time_seconds",
           "Start time of the process since unix epoch in seconds.",
           StartTimeSeconds(), out);
}

int AddProcessCollector(Registry& registry) {
  return registry.AddCollector(WriteProcessMetrics);
}

}  // namespace podsandbox::metrics
