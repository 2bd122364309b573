#include "bench/cri_load_lib.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace podsandbox::bench {
namespace {

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

nlohmann::json LatencyJson(const LatencySummary& s) {
  return {{"count", s.count}, {"p50", Ms(s.p50)}, {"p95", Ms(s.p95)},
          {"p99", Ms(s.p99)}, {"max", Ms(s.max)}, {"mean", Ms(s.mean)}};
}

nlohmann::json SamplesJson(const std::vector<absl::Duration>& samples) {
  nlohmann::json out = nlohmann::json::array();
  for (absl::Duration d : samples) out.push_back(Ms(d));
  return out;
}

nlohmann::json KernelJson(const KernelMemory& m) {
  return {{"slab_reclaimable_kib", m.slab_reclaimable},
          {"slab_unreclaimable_kib", m.slab_unreclaimable},
          {"percpu_kib", m.percpu},
          {"kernel_stack_kib", m.kernel_stack},
          {"page_tables_kib", m.page_tables},
          {"shmem_kib", m.shmem},
          {"total_kib", m.TotalKib()}};
}

std::string LatencyRow(absl::string_view rpc, const LatencySummary& s) {
  return absl::StrFormat("  %-18s %5d %9.1f %9.1f %9.1f %9.1f %9.1f\n", rpc,
                         s.count, Ms(s.p50), Ms(s.p95), Ms(s.p99), Ms(s.max),
                         Ms(s.mean));
}

}  // namespace

absl::Duration Percentile(std::vector<absl::Duration> samples, double q) {
  if (samples.empty()) return absl::ZeroDuration();
  std::sort(samples.begin(), samples.end());
  q = std::clamp(q, 0.0, 100.0);
  // Nearest rank: ceil(q/100 * n), 1-based; rank 0 (q = 0) is the minimum.
  const double rank =
      std::ceil(q / 100.0 * static_cast<double>(samples.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return samples[std::min(index, samples.size() - 1)];
}

LatencySummary Summarize(const std::vector<absl::Duration>& samples) {
  LatencySummary s;
  if (samples.empty()) return s;
  s.count = static_cast<int>(samples.size());
  s.p50 = Percentile(samples, 50);
  s.p95 = Percentile(samples, 95);
  s.p99 = Percentile(samples, 99);
  s.max = Percentile(samples, 100);
  absl::Duration sum;
  for (absl::Duration d : samples) sum += d;
  s.mean = sum / s.count;
  return s;
}

absl::StatusOr<int64_t> ParsePssKib(absl::string_view smaps_rollup) {
  for (absl::string_view line : absl::StrSplit(smaps_rollup, '\n')) {
    // "Pss_Anon:" and friends share the prefix; only "Pss:" is the total.
    if (!absl::ConsumePrefix(&line, "Pss:")) continue;
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumeSuffix(&line, "kB")) break;
    int64_t kib = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kib) || kib < 0) {
      break;
    }
    return kib;
  }
  return absl::InvalidArgumentError("smaps_rollup: no \"Pss: N kB\" line");
}

absl::StatusOr<pid_t> ParsePpid(absl::string_view stat) {
  const size_t paren = stat.rfind(')');
  if (paren == absl::string_view::npos) {
    return absl::InvalidArgumentError("stat: no ')' after the command name");
  }
  // After "(comm)": " state ppid ...".
  std::vector<absl::string_view> fields =
      absl::StrSplit(stat.substr(paren + 1), ' ', absl::SkipWhitespace());
  int ppid = 0;
  if (fields.size() < 2 || !absl::SimpleAtoi(fields[1], &ppid) || ppid < 0) {
    return absl::InvalidArgumentError("stat: malformed ppid field");
  }
  return static_cast<pid_t>(ppid);
}

absl::StatusOr<HostCpuTicks> ParseHostCpuTicks(absl::string_view proc_stat) {
  const absl::string_view line = proc_stat.substr(0, proc_stat.find('\n'));
  std::vector<absl::string_view> fields =
      absl::StrSplit(line, ' ', absl::SkipWhitespace());
  // cpu user nice system idle iowait irq softirq steal [guest guest_nice]
  int64_t v[8];
  if (fields.size() < 9 || fields[0] != "cpu") {
    return absl::InvalidArgumentError("stat: no \"cpu\" line first");
  }
  for (int i = 0; i < 8; ++i) {
    if (!absl::SimpleAtoi(fields[i + 1], &v[i]) || v[i] < 0) {
      return absl::InvalidArgumentError("stat: malformed cpu line");
    }
  }
  HostCpuTicks t;
  t.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  t.total = t.busy + v[3] + v[4];
  return t;
}

absl::StatusOr<ProcessCpuTicks> ParseProcessCpuTicks(absl::string_view stat) {
  const size_t paren = stat.rfind(')');
  if (paren == absl::string_view::npos) {
    return absl::InvalidArgumentError("stat: no ')' after the command name");
  }
  // After "(comm)" field 3 (state) is index 0, so fields 14-17 are 11-14.
  std::vector<absl::string_view> fields =
      absl::StrSplit(stat.substr(paren + 1), ' ', absl::SkipWhitespace());
  int64_t v[4];
  if (fields.size() < 15) {
    return absl::InvalidArgumentError("stat: fewer than 17 fields");
  }
  for (int i = 0; i < 4; ++i) {
    if (!absl::SimpleAtoi(fields[11 + i], &v[i]) || v[i] < 0) {
      return absl::InvalidArgumentError("stat: malformed cpu time field");
    }
  }
  return ProcessCpuTicks{v[0] + v[1], v[2] + v[3]};
}

absl::StatusOr<pid_t> PidFromStatusInfo(
    const std::map<std::string, std::string>& info) {
  for (const auto& [key, value] : info) {
    nlohmann::json parsed = nlohmann::json::parse(value, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) continue;
    auto it = parsed.find("pid");
    if (it == parsed.end() || !it->is_number_integer()) continue;
    const int64_t pid = it->get<int64_t>();
    if (pid > 0) return static_cast<pid_t>(pid);
  }
  return absl::NotFoundError("status info: no JSON value with a \"pid\"");
}

bool NoPauseInStatusInfo(const std::map<std::string, std::string>& info) {
  for (const auto& [key, value] : info) {
    nlohmann::json parsed = nlohmann::json::parse(value, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) continue;
    auto it = parsed.find("infra");
    if (it != parsed.end() && *it == "none") return true;
  }
  return false;
}

int64_t KernelMemory::TotalKib() const {
  return slab_reclaimable + slab_unreclaimable + percpu + kernel_stack +
         page_tables + shmem;
}

absl::StatusOr<KernelMemory> ParseKernelMemory(absl::string_view meminfo) {
  KernelMemory m;
  const std::pair<absl::string_view, int64_t*> fields[] = {
      {"SReclaimable", &m.slab_reclaimable},
      {"SUnreclaim", &m.slab_unreclaimable},
      {"Percpu", &m.percpu},
      {"KernelStack", &m.kernel_stack},
      {"PageTables", &m.page_tables},
      {"Shmem", &m.shmem}};
  std::set<absl::string_view> seen;
  for (absl::string_view line : absl::StrSplit(meminfo, '\n')) {
    // "Name:   123 kB"
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    for (const auto& [name, out] : fields) {
      if (kv.first != name) continue;
      absl::string_view value = absl::StripAsciiWhitespace(kv.second);
      if (!absl::ConsumeSuffix(&value, "kB") ||
          !absl::SimpleAtoi(absl::StripAsciiWhitespace(value), out) ||
          *out < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("meminfo: malformed ", name, " line"));
      }
      seen.insert(name);
    }
  }
  for (const auto& [name, out] : fields) {
    // Percpu is newer than the rest (Linux 4.20): without it, 0.
    if (name != "Percpu" && seen.count(name) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("meminfo: no ", name, " line"));
    }
  }
  return m;
}

KernelMemory MedianKernelMemory(const std::vector<KernelMemory>& samples) {
  KernelMemory m;
  if (samples.empty()) return m;
  auto median = [&samples](int64_t KernelMemory::*field) {
    std::vector<int64_t> v;
    for (const KernelMemory& s : samples) v.push_back(s.*field);
    std::sort(v.begin(), v.end());
    return v[(v.size() - 1) / 2];
  };
  m.slab_reclaimable = median(&KernelMemory::slab_reclaimable);
  m.slab_unreclaimable = median(&KernelMemory::slab_unreclaimable);
  m.percpu = median(&KernelMemory::percpu);
  m.kernel_stack = median(&KernelMemory::kernel_stack);
  m.page_tables = median(&KernelMemory::page_tables);
  m.shmem = median(&KernelMemory::shmem);
  return m;
}

bool KernelMemorySettled(const std::vector<KernelMemory>& readings) {
  if (readings.size() < static_cast<size_t>(kKernelMedianOf)) return false;
  int64_t lo = readings.back().TotalKib(), hi = lo;
  for (size_t i = readings.size() - kKernelMedianOf; i < readings.size(); ++i) {
    lo = std::min(lo, readings[i].TotalKib());
    hi = std::max(hi, readings[i].TotalKib());
  }
  return hi - lo <= kKernelSettledSpanKib;
}

KernelMemory KernelMemoryFigure(const std::vector<KernelMemory>& readings) {
  const size_t n = std::min(readings.size(), size_t{kKernelMedianOf});
  return MedianKernelMemory(
      std::vector<KernelMemory>(readings.end() - n, readings.end()));
}

absl::StatusOr<int64_t> ParseMemoryCgroups(absl::string_view proc_cgroups) {
  // "#subsys_name hierarchy num_cgroups enabled"
  for (absl::string_view line : absl::StrSplit(proc_cgroups, '\n')) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipWhitespace());
    if (fields.size() < 3 || fields[0] != "memory") continue;
    int64_t n = 0;
    if (!absl::SimpleAtoi(fields[2], &n) || n < 0) break;
    return n;
  }
  return absl::InvalidArgumentError("cgroups: no well-formed \"memory\" row");
}

double MemoryReport::KernelPerPodKib() const {
  if (pods <= 0 || !kernel.has_value()) return 0;
  return static_cast<double>(kernel->DeltaKib()) / pods;
}

double MemoryReport::PerPodKib() const {
  if (pods <= 0) return 0;
  return static_cast<double>(pod_processes_pss_kib + DaemonGrowthKib()) / pods;
}

double RunReport::PodsPerSecond() const {
  const double seconds = absl::ToDoubleSeconds(run_wall);
  if (seconds <= 0) return 0;
  return run.count / seconds;
}

std::string FormatTable(const RunReport& r) {
  std::string out = absl::StrFormat(
      "%s (%s, handler \"%s\"): %d pods, concurrency %d, userns %s\n", r.label,
      r.endpoint, r.runtime_handler, r.pods, r.concurrency,
      r.userns ? "yes" : "no");
  absl::StrAppendFormat(&out, "  %-18s %5s %9s %9s %9s %9s %9s\n", "rpc (ms)",
                        "n", "p50", "p95", "p99", "max", "mean");
  out += LatencyRow("RunPodSandbox", r.run);
  out += LatencyRow("StopPodSandbox", r.stop);
  out += LatencyRow("RemovePodSandbox", r.remove);
  absl::StrAppendFormat(&out, "  throughput: %.2f pods/s (%d pods in %.2f s)\n",
                        r.PodsPerSecond(), r.run.count,
                        absl::ToDoubleSeconds(r.run_wall));
  if (r.memory.has_value()) {
    const MemoryReport& m = *r.memory;
    absl::StrAppendFormat(
        &out,
        "  memory: %.0f KiB/pod = (%d pod processes, %d KiB PSS + daemon "
        "growth %d KiB [%d -> %d]) / %d pods\n",
        m.PerPodKib(), m.processes, m.pod_processes_pss_kib,
        m.DaemonGrowthKib(), m.daemon_before_kib, m.daemon_after_kib, m.pods);
    if (m.kernel.has_value()) {
      absl::StrAppendFormat(
          &out,
          "  kernel memory (host-wide): %.0f KiB/pod = (%d -> %d KiB) / %d "
          "pods\n",
          m.KernelPerPodKib(), m.kernel->Before().TotalKib(),
          m.kernel->After().TotalKib(), m.pods);
    }
  }
  if (r.errors > 0 || !r.first_error.empty()) {
    absl::StrAppendFormat(&out, "  errors: %d (first: %s)\n", r.errors,
                          r.first_error);
  }
  return out;
}

nlohmann::json ToJson(const RunReport& r) {
  nlohmann::json j = {{"label", r.label},
                      {"endpoint", r.endpoint},
                      {"runtime_handler", r.runtime_handler},
                      {"userns", r.userns},
                      {"pods", r.pods},
                      {"concurrency", r.concurrency},
                      {"run_ms", LatencyJson(r.run)},
                      {"stop_ms", LatencyJson(r.stop)},
                      {"remove_ms", LatencyJson(r.remove)},
                      {"samples_ms",
                       {{"run", SamplesJson(r.run_samples)},
                        {"stop", SamplesJson(r.stop_samples)},
                        {"remove", SamplesJson(r.remove_samples)}}},
                      {"run_wall_s", absl::ToDoubleSeconds(r.run_wall)},
                      {"pods_per_s", r.PodsPerSecond()},
                      {"errors", r.errors},
                      {"first_error", r.first_error}};
  if (r.memory.has_value()) {
    const MemoryReport& m = *r.memory;
    j["memory"] = {{"pods", m.pods},
                   {"processes", m.processes},
                   {"pod_processes_pss_kib", m.pod_processes_pss_kib},
                   {"daemon_before_kib", m.daemon_before_kib},
                   {"daemon_after_kib", m.daemon_after_kib},
                   {"daemon_growth_kib", m.DaemonGrowthKib()},
                   {"per_pod_kib", m.PerPodKib()}};
    if (m.kernel.has_value()) {
      const KernelMemoryReport& k = *m.kernel;
      nlohmann::json before = nlohmann::json::array();
      nlohmann::json after = nlohmann::json::array();
      for (const KernelMemory& s : k.before_samples) {
        before.push_back(KernelJson(s));
      }
      for (const KernelMemory& s : k.after_samples) {
        after.push_back(KernelJson(s));
      }
      j["memory"]["kernel"] = {{"before", KernelJson(k.Before())},
                               {"after", KernelJson(k.After())},
                               {"before_samples", before},
                               {"after_samples", after},
                               {"before_settled", k.before_settled},
                               {"after_settled", k.after_settled},
                               {"delta_kib", k.DeltaKib()},
                               {"per_pod_kib", m.KernelPerPodKib()},
                               {"cgroups_before", k.cgroups_before},
                               {"cgroups_after", k.cgroups_after}};
    }
  }
  if (r.run_cpu.has_value()) {
    const CpuReport& c = *r.run_cpu;
    j["run_cpu"] = {{"cpus", c.cpus},
                    {"host_busy_s", c.host_busy_s},
                    {"host_total_s", c.host_total_s},
                    {"daemon_self_s", c.daemon_self_s},
                    {"daemon_children_s", c.daemon_children_s}};
  }
  return j;
}

}  // namespace podsandbox::bench
