#include "cri/pod_stats.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "netns/libnl_netlink.h"
#include "netns/link_stats.h"
#include "nlohmann/json.hpp"
#include "sys/file.h"
#include "sys/real_sys.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

// The v1 mount whose last component lists `controller`, else the
// conventional <root>/<controller> (systemd's symlinks for joint mounts).
std::string V1Root(const std::vector<std::string>& mounts,
                   absl::string_view root, absl::string_view controller) {
  for (const std::string& mount : mounts) {
    absl::string_view name = mount;
    if (size_t slash = name.rfind('/'); slash != absl::string_view::npos) {
      name.remove_prefix(slash + 1);
    }
    for (absl::string_view c : absl::StrSplit(name, ',')) {
      if (c == controller) return mount;
    }
  }
  return absl::StrCat(root, "/", controller);
}

void Add(const container::CgroupUsage& from, container::CgroupUsage& to) {
  to.cpu_usage_core_nanos += from.cpu_usage_core_nanos;
  to.memory_usage_bytes += from.memory_usage_bytes;
  to.memory_working_set_bytes += from.memory_working_set_bytes;
  to.memory_rss_bytes += from.memory_rss_bytes;
  to.page_faults += from.page_faults;
  to.major_page_faults += from.major_page_faults;
  to.process_count += from.process_count;
  to.oom_kills += from.oom_kills;
}

void ToCri(const netns::LinkStats& link, v1::NetworkInterfaceUsage* out) {
  out->set_name(link.name);
  out->mutable_rx_bytes()->set_value(link.rx_bytes);
  out->mutable_rx_errors()->set_value(link.rx_errors);
  out->mutable_tx_bytes()->set_value(link.tx_bytes);
  out->mutable_tx_errors()->set_value(link.tx_errors);
}

// The interface CNI plugins create in the pod (CNI_IFNAME).
constexpr char kDefaultInterface[] = "eth0";

}  // namespace

CgroupRoots CgroupRootsFor(sys::CgroupLayout layout,
                           const std::vector<std::string>& v1_mounts,
                           absl::string_view root) {
  CgroupRoots out;
  if (layout == sys::CgroupLayout::kV2) {
    out.unified = true;
    out.memory = out.cpu = out.pids = std::string(root);
    return out;
  }
  // Hybrid hosts mount cgroup2 at <root>/unified too, usually with no
  // controller in it: the counters are in the v1 hierarchies.
  out.memory = V1Root(v1_mounts, root, "memory");
  out.cpu = V1Root(v1_mounts, root, "cpuacct");
  out.pids = V1Root(v1_mounts, root, "pids");
  return out;
}

absl::StatusOr<CgroupRoots> HostCgroupRoots() {
  absl::StatusOr<sys::CgroupLayout> layout = sys::DetectCgroupLayout();
  if (!layout.ok()) return layout.status();
  std::vector<std::string> mounts;
  if (*layout != sys::CgroupLayout::kV2) {
    absl::StatusOr<std::string> mountinfo =
        sys::ReadFile("/proc/self/mountinfo");
    if (!mountinfo.ok()) return mountinfo.status();
    mounts = sys::CgroupV1MountPoints(*mountinfo);
  }
  return CgroupRootsFor(*layout, mounts);
}

container::CgroupStatDirs StatDirsFor(const CgroupRoots& roots,
                                      absl::string_view path) {
  container::CgroupStatDirs dirs;
  dirs.unified = roots.unified;
  dirs.memory = absl::StrCat(roots.memory, path);
  dirs.cpu = absl::StrCat(roots.cpu, path);
  dirs.pids = absl::StrCat(roots.pids, path);
  return dirs;
}

container::CgroupUsage ReadPodCgroupUsage(
    const CgroupRoots& roots, absl::string_view cgroup_parent,
    absl::string_view pod_id, const std::vector<std::string>& container_ids) {
  if (!cgroup_parent.empty() && cgroup_parent != "/") {
    return container::ReadCgroupStats(StatDirsFor(roots, cgroup_parent),
                                      /*count_subtree=*/true);
  }
  // No pod cgroup: the pause's and the containers' cgroups sit side by
  // side at the top (oci/spec.cc and container/spec.cc name them
  // "<cgroup_parent>/<id>"). The root cgroup itself would be the host's.
  container::CgroupUsage sum =
      container::ReadCgroupStats(StatDirsFor(roots, absl::StrCat("/", pod_id)),
                                 /*count_subtree=*/true);
  for (const std::string& id : container_ids) {
    Add(container::ReadCgroupStats(StatDirsFor(roots, absl::StrCat("/", id)),
                                   /*count_subtree=*/true),
        sum);
  }
  return sum;
}

std::optional<uint64_t> CpuSampler::NanoCores(const std::string& key,
                                              uint64_t usage_core_nanos,
                                              absl::Time at) {
  absl::MutexLock lock(&mu_);
  if (samples_.size() >= kMaxSamples && !samples_.contains(key)) {
    samples_.clear();
  }
  auto [it, first] = samples_.try_emplace(key, Sample{usage_core_nanos, at});
  if (first) return std::nullopt;
  Sample& previous = it->second;
  const int64_t window = absl::ToInt64Nanoseconds(at - previous.at);
  if (window <= 0) return std::nullopt;
  const bool went_back = usage_core_nanos < previous.usage_core_nanos;
  const uint64_t used = usage_core_nanos - previous.usage_core_nanos;
  previous = Sample{usage_core_nanos, at};
  if (went_back) return std::nullopt;
  // Core-nanoseconds per second: a busy core is 1e9.
  return static_cast<uint64_t>(static_cast<double>(used) /
                               static_cast<double>(window) * 1e9);
}

void CpuSampler::Retain(const absl::flat_hash_set<std::string>& live) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(samples_, [&live](const auto& entry) {
    return !live.contains(entry.first);
  });
}

size_t CpuSampler::size() const {
  absl::MutexLock lock(&mu_);
  return samples_.size();
}

PodStatsReader::PodStatsReader(CgroupRoots roots, LinkReader links)
    : roots_(std::move(roots)), links_(std::move(links)) {}

void PodStatsReader::FillPod(
    const sandbox::SandboxStatus& status,
    const std::vector<container::ContainerStats>& containers, absl::Time at,
    v1::PodSandboxStats* out) {
  const int64_t at_nanos = absl::ToUnixNanos(at);
  v1::PodSandboxAttributes* attributes = out->mutable_attributes();
  attributes->set_id(status.id);
  v1::PodSandboxMetadata* metadata = attributes->mutable_metadata();
  metadata->set_name(status.config.metadata.name);
  metadata->set_uid(status.config.metadata.uid);
  metadata->set_namespace_(status.config.metadata.namespace_);
  metadata->set_attempt(status.config.metadata.attempt);
  attributes->mutable_labels()->insert(status.config.labels.begin(),
                                       status.config.labels.end());
  attributes->mutable_annotations()->insert(status.config.annotations.begin(),
                                            status.config.annotations.end());

  std::vector<std::string> ids;
  ids.reserve(containers.size());
  for (const container::ContainerStats& c : containers) ids.push_back(c.id);
  const container::CgroupUsage usage =
      ReadPodCgroupUsage(roots_, status.config.cgroup_parent, status.id, ids);

  v1::LinuxPodSandboxStats* linux = out->mutable_linux();
  v1::CpuUsage* cpu = linux->mutable_cpu();
  cpu->set_timestamp(at_nanos);
  cpu->mutable_usage_core_nano_seconds()->set_value(usage.cpu_usage_core_nanos);
  if (std::optional<uint64_t> cores =
          cpu_.NanoCores(status.id, usage.cpu_usage_core_nanos, at)) {
    cpu->mutable_usage_nano_cores()->set_value(*cores);
  }
  v1::MemoryUsage* memory = linux->mutable_memory();
  memory->set_timestamp(at_nanos);
  memory->mutable_working_set_bytes()->set_value(
      usage.memory_working_set_bytes);
  memory->mutable_usage_bytes()->set_value(usage.memory_usage_bytes);
  memory->mutable_rss_bytes()->set_value(usage.memory_rss_bytes);
  memory->mutable_page_faults()->set_value(usage.page_faults);
  memory->mutable_major_page_faults()->set_value(usage.major_page_faults);
  // As cAdvisor and containerd: what the limit leaves above the working
  // set; nothing to say without a limit.
  if (usage.memory_limit_bytes.has_value()) {
    const uint64_t limit = *usage.memory_limit_bytes;
    memory->mutable_available_bytes()->set_value(
        limit > usage.memory_working_set_bytes
            ? limit - usage.memory_working_set_bytes
            : 0);
  }
  v1::ProcessUsage* process = linux->mutable_process();
  process->set_timestamp(at_nanos);
  process->mutable_process_count()->set_value(usage.process_count);

  if (status.config.host_network()) return;
  nlohmann::json info = nlohmann::json::parse(status.info_json, nullptr,
                                              /*allow_exceptions=*/false);
  if (info.is_discarded() || !info.is_object()) return;
  const std::string netns = info.value("netNamespacePath", "");
  if (netns.empty()) return;
  absl::StatusOr<std::vector<netns::LinkStats>> links = links_(netns);
  if (!links.ok()) return;
  v1::NetworkUsage* network = linux->mutable_network();
  network->set_timestamp(at_nanos);
  for (const netns::LinkStats& link : *links) {
    if (link.loopback) continue;
    ToCri(link, link.name == kDefaultInterface
                    ? network->mutable_default_interface()
                    : network->add_interfaces());
  }
}

std::optional<uint64_t> PodStatsReader::ContainerNanoCores(
    const container::ContainerStats& stats) {
  return cpu_.NanoCores(stats.id, stats.cpu_usage_core_nanos, stats.timestamp);
}

absl::StatusOr<std::shared_ptr<PodStatsReader>> MakeHostPodStatsReader() {
  absl::StatusOr<CgroupRoots> roots = HostCgroupRoots();
  if (!roots.ok()) return roots.status();
  // Both stateless and thread-safe; shared by every call of the reader.
  auto sys = std::make_shared<sys::RealSys>();
  auto netlink = std::make_shared<netns::LibnlNetlink>();
  return std::make_shared<PodStatsReader>(
      *std::move(roots), [sys, netlink](absl::string_view netns_path) {
        return netns::ReadLinkStats(*sys, *netlink, netns_path);
      });
}

}  // namespace podsandbox::cri
