#include "cri/ctl/container_verbs.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/ctl/pod_verbs.h"
#include "cri/ctl/verb_support.h"
#include "nlohmann/json.hpp"
#include "sys/status.h"

namespace podsandbox::cri::ctl {
namespace {

namespace v1 = ::runtime::v1;
using json = nlohmann::json;

// How often `logs -f` looks at the file again: a CLI following a file on
// another process's schedule has nothing to wait on but time (the log is
// written by podsandboxd's relay, and the container's end is only seen
// through ContainerStatus).
constexpr absl::Duration kFollowPoll = absl::Milliseconds(200);

// The full id a (possibly abbreviated) container id names; see the header.
absl::StatusOr<std::string> ResolveContainerId(CriClient& client,
                                               const std::string& id) {
  ASSIGN_OR_RETURN(std::vector<v1::Container> all, client.ListContainers());
  std::vector<std::string> ids;
  for (const v1::Container& c : all) ids.push_back(c.id());
  return ResolveIdPrefix(ids, id, "container");
}

const char* StateName(v1::ContainerState state) {
  switch (state) {
    case v1::CONTAINER_CREATED:
      return "Created";
    case v1::CONTAINER_RUNNING:
      return "Running";
    case v1::CONTAINER_EXITED:
      return "Exited";
    default:
      return "Unknown";
  }
}

// `ps --state`'s spellings (checked by cli.h, any case).
std::optional<v1::ContainerState> ParseState(absl::string_view name) {
  if (absl::EqualsIgnoreCase(name, "created")) return v1::CONTAINER_CREATED;
  if (absl::EqualsIgnoreCase(name, "running")) return v1::CONTAINER_RUNNING;
  if (absl::EqualsIgnoreCase(name, "exited")) return v1::CONTAINER_EXITED;
  if (absl::EqualsIgnoreCase(name, "unknown")) return v1::CONTAINER_UNKNOWN;
  return std::nullopt;
}

// The image as a table shows it: a bare image id is cut like other ids.
std::string ImageColumn(const v1::ImageSpec& image, bool no_trunc) {
  if (absl::StartsWith(image.image(), "sha256:")) {
    return ShortId(image.image(), no_trunc);
  }
  return image.image();
}

void WritePsTable(const std::vector<v1::Container>& containers,
                  const std::map<std::string, std::string>& pod_names,
                  bool no_trunc, std::ostream& out) {
  const int id_width = no_trunc ? 64 : 13;
  // As wide as the longest image, so every row lines up.
  size_t image_width = 5;
  for (const v1::Container& c : containers) {
    image_width =
        std::max(image_width, ImageColumn(c.image(), no_trunc).size());
  }
  out << absl::StrFormat("%-*s  %-*s  %-16s  %-8s  %-16s  %-7s  %-*s  %s\n",
                         id_width, "CONTAINER", image_width, "IMAGE", "CREATED",
                         "STATE", "NAME", "ATTEMPT", id_width, "POD ID", "POD");
  for (const v1::Container& c : containers) {
    auto pod = pod_names.find(c.pod_sandbox_id());
    out << absl::StrFormat("%-*s  %-*s  %-16s  %-8s  %-16s  %-7u  %-*s  %s\n",
                           id_width, ShortId(c.id(), no_trunc), image_width,
                           ImageColumn(c.image(), no_trunc),
                           Ago(c.created_at()), StateName(c.state()),
                           c.metadata().name(), c.metadata().attempt(),
                           id_width, ShortId(c.pod_sandbox_id(), no_trunc),
                           pod == pod_names.end() ? "" : pod->second);
  }
}

// One CRI log line ("<RFC3339Nano> <stream> <tag> <content>", kubelet's
// format) written to its stream; a partial ("P") line gets no newline, so
// the next part continues it. Lines of another shape are printed whole.
void WriteLogLine(absl::string_view line, bool timestamps, std::ostream& out,
                  std::ostream& err) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(line, absl::MaxSplits(' ', 3));
  if (parts.size() < 3) {
    out << line << "\n";
    return;
  }
  const absl::string_view content = parts.size() == 4 ? parts[3] : "";
  std::ostream& stream = parts[1] == "stderr" ? err : out;
  if (timestamps) stream << parts[0] << " ";
  stream << content;
  if (!absl::StartsWith(parts[2], "P")) stream << "\n";
  stream.flush();
}

// CPU use between two cumulative samples, as a percentage of one core.
std::string CpuPercent(uint64_t before_ns, int64_t before_at, uint64_t after_ns,
                       int64_t after_at) {
  if (after_at <= before_at || after_ns < before_ns) return "-";
  return absl::StrFormat("%.2f", 100.0 * (after_ns - before_ns) /
                                     static_cast<double>(after_at - before_at));
}

// Two samples `seconds` apart (one when `seconds` is 0): the first's CPU
// counters by id, and the second sample.
template <typename Sample, typename Fetch, typename Key>
absl::StatusOr<std::pair<std::map<std::string, Sample>, std::vector<Sample>>>
TwoSamples(int64_t seconds, Fetch fetch, Key key) {
  std::map<std::string, Sample> first;
  if (seconds > 0) {
    ASSIGN_OR_RETURN(std::vector<Sample> before, fetch());
    for (Sample& s : before) first[key(s)] = std::move(s);
    absl::SleepFor(absl::Seconds(seconds));
  }
  ASSIGN_OR_RETURN(std::vector<Sample> after, fetch());
  return std::make_pair(std::move(first), std::move(after));
}

// The CPU % column of one sample: from two samples when there are, else
// the runtime's own usage_nano_cores.
std::string CpuColumn(const v1::CpuUsage* before, const v1::CpuUsage& after) {
  if (before != nullptr) {
    return CpuPercent(
        before->usage_core_nano_seconds().value(), before->timestamp(),
        after.usage_core_nano_seconds().value(), after.timestamp());
  }
  if (!after.has_usage_nano_cores()) return "-";
  return absl::StrFormat("%.2f", after.usage_nano_cores().value() / 1e7);
}

}  // namespace

absl::StatusOr<v1::ContainerConfig> ReadContainerConfig(
    const std::string& path) {
  v1::ContainerConfig config;
  RETURN_IF_ERROR(ReadConfigMessage(path, config));
  return config;
}

absl::Status Create(CriClient& client, const CreateOptions& options,
                    std::ostream& out) {
  // Both files are read before any RPC: a bad file changes nothing.
  ASSIGN_OR_RETURN(v1::ContainerConfig config,
                   ReadContainerConfig(options.container_config_path));
  ASSIGN_OR_RETURN(v1::PodSandboxConfig pod,
                   ReadPodConfig(options.pod_config_path));
  ASSIGN_OR_RETURN(std::string pod_id, ResolvePodId(client, options.pod_id));
  ASSIGN_OR_RETURN(std::string id, client.CreateContainer(pod_id, config, pod));
  out << id << "\n";
  return absl::OkStatus();
}

absl::Status Start(CriClient& client, const std::vector<std::string>& ids,
                   std::ostream& out) {
  for (const std::string& arg : ids) {
    ASSIGN_OR_RETURN(std::string id, ResolveContainerId(client, arg));
    RETURN_IF_ERROR(client.StartContainer(id));
    out << id << "\n";
  }
  return absl::OkStatus();
}

absl::Status Stop(CriClient& client, const std::vector<std::string>& ids,
                  absl::Duration timeout, std::ostream& out) {
  for (const std::string& arg : ids) {
    ASSIGN_OR_RETURN(std::string id, ResolveContainerId(client, arg));
    RETURN_IF_ERROR(client.StopContainer(id, timeout));
    out << id << "\n";
  }
  return absl::OkStatus();
}

absl::Status Rm(CriClient& client, const RmOptions& options,
                std::ostream& out) {
  std::vector<std::string> ids;
  if (options.all) {
    ASSIGN_OR_RETURN(std::vector<v1::Container> all, client.ListContainers());
    for (const v1::Container& c : all) ids.push_back(c.id());
  } else {
    for (const std::string& arg : options.ids) {
      ASSIGN_OR_RETURN(std::string id, ResolveContainerId(client, arg));
      ids.push_back(id);
    }
  }
  // crictl's rule, checked for every container before the first removal.
  std::set<std::string> running;
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(v1::ContainerStatusResponse status,
                     client.ContainerStatus(id, /*verbose=*/false));
    if (status.status().state() != v1::CONTAINER_RUNNING) continue;
    if (!options.force) {
      return absl::FailedPreconditionError(absl::StrCat(
          "container ", id, " is running: stop it first, or use -f"));
    }
    running.insert(id);
  }
  for (const std::string& id : ids) {
    if (running.count(id) > 0) {
      RETURN_IF_ERROR(client.StopContainer(id, absl::ZeroDuration()));
    }
    RETURN_IF_ERROR(client.RemoveContainer(id));
    out << id << "\n";
  }
  return absl::OkStatus();
}

absl::Status Ps(CriClient& client, const PsOptions& options,
                std::ostream& out) {
  v1::ContainerFilter filter;
  filter.set_id(options.id);
  if (!options.pod.empty()) {
    ASSIGN_OR_RETURN(std::string pod_id, ResolvePodId(client, options.pod));
    filter.set_pod_sandbox_id(pod_id);
  }
  if (std::optional<v1::ContainerState> state = ParseState(options.state)) {
    filter.mutable_state()->set_state(*state);
  } else if (!options.all) {
    filter.mutable_state()->set_state(v1::CONTAINER_RUNNING);
  }
  AddLabels(options.labels, filter.mutable_label_selector());
  ASSIGN_OR_RETURN(std::vector<v1::Container> all,
                   client.ListContainers(filter));
  std::vector<v1::Container> containers;
  for (v1::Container& c : all) {
    if (absl::StrContains(c.metadata().name(), options.name)) {
      containers.push_back(std::move(c));
    }
  }
  NewestFirst(containers, options.last);
  if (options.quiet) {
    for (const v1::Container& c : containers) out << c.id() << "\n";
    return absl::OkStatus();
  }
  if (options.format == OutputFormat::kTable) {
    ASSIGN_OR_RETURN(std::vector<v1::PodSandbox> pods, client.ListPodSandbox());
    std::map<std::string, std::string> pod_names;
    for (const v1::PodSandbox& pod : pods) {
      pod_names[pod.id()] = pod.metadata().name();
    }
    WritePsTable(containers, pod_names, options.no_trunc, out);
    return absl::OkStatus();
  }
  v1::ListContainersResponse listed;
  for (const v1::Container& c : containers) *listed.add_containers() = c;
  WriteStructured(ProtoToJson(listed), options.format, out);
  return absl::OkStatus();
}

absl::Status Inspect(CriClient& client, const std::vector<std::string>& ids,
                     OutputFormat format, std::ostream& out) {
  for (const std::string& arg : ids) {
    ASSIGN_OR_RETURN(std::string id, ResolveContainerId(client, arg));
    ASSIGN_OR_RETURN(v1::ContainerStatusResponse response,
                     client.ContainerStatus(id, /*verbose=*/true));
    WriteStructured(InspectJson(response.status(), response.info()), format,
                    out);
  }
  return absl::OkStatus();
}

absl::Status Logs(CriClient& client, const LogsOptions& options,
                  std::ostream& out, std::ostream& err) {
  ASSIGN_OR_RETURN(std::string id, ResolveContainerId(client, options.id));
  ASSIGN_OR_RETURN(v1::ContainerStatusResponse status,
                   client.ContainerStatus(id, /*verbose=*/false));
  const std::string& path = status.status().log_path();
  if (path.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", id, " has no log path"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("open log file ", path));

  // What is there now; --tail keeps the last N lines of it.
  std::stringstream text;
  text << in.rdbuf();
  std::string pending = text.str();
  std::deque<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos;
       start = nl + 1) {
    lines.emplace_back(pending, start, nl - start);
    if (options.tail >= 0 && lines.size() > static_cast<size_t>(options.tail)) {
      lines.pop_front();
    }
  }
  pending.erase(0, start);  // a line the relay has not finished yet
  for (const std::string& line : lines) {
    WriteLogLine(line, options.timestamps, out, err);
  }
  if (!options.follow) return absl::OkStatus();

  for (;;) {
    // The state first, then the file: a container seen ended after the
    // read has nothing more coming than what the next read finds.
    ASSIGN_OR_RETURN(status, client.ContainerStatus(id, /*verbose=*/false));
    const bool running = status.status().state() == v1::CONTAINER_RUNNING;
    in.clear();
    std::stringstream more;
    more << in.rdbuf();
    const std::string got = more.str();
    if (got.empty() && !running) return absl::OkStatus();
    pending += got;
    size_t from = 0;
    for (size_t nl; (nl = pending.find('\n', from)) != std::string::npos;
         from = nl + 1) {
      WriteLogLine(absl::string_view(pending).substr(from, nl - from),
                   options.timestamps, out, err);
    }
    pending.erase(0, from);
    if (got.empty()) absl::SleepFor(kFollowPoll);
  }
}

absl::Status Exec(CriClient& client, const ExecOptions& options,
                  std::ostream& out, std::ostream& err, int* exit_code) {
  if (!options.sync) {
    return absl::UnimplementedError(
        "only exec -s/--sync (ExecSync) is supported: podsandboxd does not "
        "implement the streaming Exec RPC (a later issue)");
  }
  ASSIGN_OR_RETURN(std::string id, ResolveContainerId(client, options.id));
  ASSIGN_OR_RETURN(
      v1::ExecSyncResponse response,
      client.ExecSync(id, options.cmd, absl::Seconds(options.timeout_seconds)));
  out << response.stdout();
  err << response.stderr();
  *exit_code = response.exit_code();
  return absl::OkStatus();
}

absl::Status Stats(CriClient& client, const StatsOptions& options,
                   std::ostream& out) {
  v1::ContainerStatsFilter filter;
  filter.set_id(options.id);
  if (!options.pod.empty()) {
    ASSIGN_OR_RETURN(std::string pod_id, ResolvePodId(client, options.pod));
    filter.set_pod_sandbox_id(pod_id);
  }
  AddLabels(options.labels, filter.mutable_label_selector());
  // The runtime's stats cover every container; crictl shows running ones
  // unless -a.
  std::optional<std::set<std::string>> shown;
  if (!options.all) {
    v1::ContainerFilter running;
    running.mutable_state()->set_state(v1::CONTAINER_RUNNING);
    ASSIGN_OR_RETURN(std::vector<v1::Container> listed,
                     client.ListContainers(running));
    shown.emplace();
    for (const v1::Container& c : listed) shown->insert(c.id());
  }
  const int64_t seconds =
      options.format == OutputFormat::kTable ? options.seconds : 0;
  auto samples = TwoSamples<v1::ContainerStats>(
      seconds, [&] { return client.ListContainerStats(filter); },
      [](const v1::ContainerStats& s) { return s.attributes().id(); });
  if (!samples.ok()) return samples.status();
  auto& [before, after] = *samples;
  std::vector<v1::ContainerStats> stats;
  for (v1::ContainerStats& s : after) {
    if (!shown || shown->count(s.attributes().id()) > 0) {
      stats.push_back(std::move(s));
    }
  }
  if (options.format != OutputFormat::kTable) {
    v1::ListContainerStatsResponse listed;
    for (const v1::ContainerStats& s : stats) *listed.add_stats() = s;
    WriteStructured(ProtoToJson(listed), options.format, out);
    return absl::OkStatus();
  }
  out << absl::StrFormat("%-13s  %-16s  %-7s  %-10s  %-10s  %s\n", "CONTAINER",
                         "NAME", "CPU %", "MEM", "DISK", "INODES");
  for (const v1::ContainerStats& s : stats) {
    auto it = before.find(s.attributes().id());
    out << absl::StrFormat(
        "%-13s  %-16s  %-7s  %-10s  %-10s  %u\n",
        ShortId(s.attributes().id(), false), s.attributes().metadata().name(),
        CpuColumn(it == before.end() ? nullptr : &it->second.cpu(), s.cpu()),
        HumanSize(s.memory().working_set_bytes().value()),
        HumanSize(s.writable_layer().used_bytes().value()),
        s.writable_layer().inodes_used().value());
  }
  return absl::OkStatus();
}

absl::Status Statsp(CriClient& client, const StatspOptions& options,
                    std::ostream& out) {
  v1::PodSandboxStatsFilter filter;
  if (!options.id.empty()) {
    ASSIGN_OR_RETURN(std::string pod_id, ResolvePodId(client, options.id));
    filter.set_id(pod_id);
  }
  AddLabels(options.labels, filter.mutable_label_selector());
  const int64_t seconds =
      options.format == OutputFormat::kTable ? options.seconds : 0;
  auto samples = TwoSamples<v1::PodSandboxStats>(
      seconds, [&] { return client.ListPodSandboxStats(filter); },
      [](const v1::PodSandboxStats& s) { return s.attributes().id(); });
  if (!samples.ok()) return samples.status();
  auto& [before, after] = *samples;
  if (options.format != OutputFormat::kTable) {
    v1::ListPodSandboxStatsResponse listed;
    for (const v1::PodSandboxStats& s : after) *listed.add_stats() = s;
    WriteStructured(ProtoToJson(listed), options.format, out);
    return absl::OkStatus();
  }
  out << absl::StrFormat("%-24s  %-13s  %-7s  %-10s  %-10s  %s\n", "POD",
                         "POD ID", "CPU %", "MEM", "RX", "TX");
  for (const v1::PodSandboxStats& s : after) {
    auto it = before.find(s.attributes().id());
    const v1::NetworkInterfaceUsage& net =
        s.linux().network().default_interface();
    out << absl::StrFormat(
        "%-24s  %-13s  %-7s  %-10s  %-10s  %s\n",
        s.attributes().metadata().name(), ShortId(s.attributes().id(), false),
        CpuColumn(it == before.end() ? nullptr : &it->second.linux().cpu(),
                  s.linux().cpu()),
        HumanSize(s.linux().memory().working_set_bytes().value()),
        HumanSize(net.rx_bytes().value()), HumanSize(net.tx_bytes().value()));
  }
  return absl::OkStatus();
}

absl::Status Update(CriClient& client, const UpdateOptions& options,
                    std::ostream& out) {
  for (const std::string& arg : options.ids) {
    ASSIGN_OR_RETURN(std::string id, ResolveContainerId(client, arg));
    ASSIGN_OR_RETURN(v1::ContainerStatusResponse status,
                     client.ContainerStatus(id, /*verbose=*/false));
    v1::LinuxContainerResources resources = status.status().resources().linux();
    if (options.memory) resources.set_memory_limit_in_bytes(*options.memory);
    if (options.cpu_quota) resources.set_cpu_quota(*options.cpu_quota);
    if (options.cpu_period) resources.set_cpu_period(*options.cpu_period);
    if (options.cpu_shares) resources.set_cpu_shares(*options.cpu_shares);
    RETURN_IF_ERROR(client.UpdateContainerResources(id, resources));
    out << id << "\n";
  }
  return absl::OkStatus();
}

}  // namespace podsandbox::cri::ctl
