#include "container/spec.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "container/capabilities.h"
#include "container/seccomp_profile.h"
#include "oci/spec.h"
#include "sys/file.h"
#include "sys/log.h"
#include "sys/status.h"
#include "userns/id_mapping.h"

namespace podsandbox::container {
namespace {

using nlohmann::json;

constexpr absl::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

size_t Depth(absl::string_view path) {
  size_t n = 0;
  for (absl::string_view p : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (p != ".") ++n;
  }
  return n;
}

std::string Clean(absl::string_view path) {
  std::vector<absl::string_view> parts;
  for (absl::string_view p : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (p != ".") parts.push_back(p);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

absl::string_view PropagationOption(MountPropagation p) {
  switch (p) {
    case MountPropagation::kHostToContainer:
      return "rslave";
    case MountPropagation::kBidirectional:
      return "rshared";
    case MountPropagation::kPrivate:
      break;
  }
  return "rprivate";
}

// linux.rootfsPropagation for the config's mounts (containerd's rule): runc
// makes the container's copy of every mount a slave (rslave on "/") unless
// told otherwise, and a bind of a slave copy only receives, so "rshared" on
// a Bidirectional mount alone would send nothing back to the host. Empty:
// leave it to the runtime.
absl::string_view RootfsPropagation(const std::vector<Mount>& mounts) {
  absl::string_view out;
  for (const Mount& m : mounts) {
    if (m.propagation == MountPropagation::kBidirectional) return "rshared";
    if (m.propagation == MountPropagation::kHostToContainer) out = "rslave";
  }
  return out;
}

// The config's mounts in an order where a parent is mounted before what is
// mounted inside it (containerd sorts the same way), stable otherwise.
std::vector<Mount> OrderedMounts(std::vector<Mount> mounts) {
  std::stable_sort(mounts.begin(), mounts.end(),
                   [](const Mount& a, const Mount& b) {
                     return Depth(a.container_path) < Depth(b.container_path);
                   });
  return mounts;
}

bool MountedByConfig(const ContainerConfig& config, absl::string_view dest) {
  for (const Mount& m : config.mounts) {
    if (Clean(m.container_path) == dest) return true;
  }
  return false;
}

json Mounts(const ContainerConfig& config, const PodContext& pod,
            bool privileged, const HostFeatures& host) {
  bool host_ipc = pod.ipc_ns_path.empty();
  json kernel = oci::KernelMounts(
      {.id_mappings = pod.id_mappings.has_value() ? &*pod.id_mappings : nullptr,
       .host_network = pod.net_ns_path.empty(),
       .host_ipc = host_ipc,
       .host_mqueue = host.host_mqueue,
       .privileged = privileged});
  json mounts = json::array();
  for (json& m : kernel) {
    std::string dest = m["destination"].get<std::string>();
    if (MountedByConfig(config, dest)) continue;
    if (dest == "/dev/shm" && !host_ipc && !pod.shm_path.empty()) {
      // The pod's /dev/shm, so its containers share POSIX shared memory as
      // they share the IPC namespace (a tmpfs of their own would not).
      m = oci::MountEntry("/dev/shm", "bind", pod.shm_path,
                          {"rbind", "rprivate", "nosuid", "nodev", "noexec"});
    }
    mounts.push_back(std::move(m));
  }
  if (!MountedByConfig(config, "/sys/fs/cgroup")) {
    // The container's own cgroup (a cgroup namespace is in the spec), read-
    // only unless privileged: kubelet's cAdvisor-style tools read it.
    mounts.push_back(oci::MountEntry(
        "/sys/fs/cgroup", "cgroup", "cgroup",
        {"nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"}));
  }
  bool ro = config.security.readonly_rootfs;
  for (const auto& [dest, source] :
       {std::pair<absl::string_view, const std::string*>{"/etc/hosts",
                                                         &pod.hosts_path},
        {"/etc/resolv.conf", &pod.resolv_conf_path},
        {"/etc/hostname", &pod.hostname_path}}) {
    if (source->empty() || MountedByConfig(config, dest)) continue;
    mounts.push_back(oci::MountEntry(dest, "bind", *source,
                                     {"rbind", "rprivate", ro ? "ro" : "rw"}));
  }
  for (const Mount& m : OrderedMounts(config.mounts)) {
    std::vector<std::string> options = {
        "rbind", std::string(PropagationOption(m.propagation)),
        m.readonly ? "ro" : "rw"};
    if (m.recursive_read_only) options.push_back("rro");
    mounts.push_back(oci::MountEntry(Clean(m.container_path), "bind",
                                     m.host_path, std::move(options)));
  }
  return mounts;
}

absl::StatusOr<json> Namespaces(const PodContext& pod) {
  json ns = json::array();
  switch (pod.pid_mode) {
    case PidMode::kContainer:
      ns.push_back({{"type", "pid"}});
      break;
    case PidMode::kPod:
      if (pod.pid_ns_path.empty()) {
        return absl::FailedPreconditionError(
            "pod PID namespace requested, but the pod has no PID namespace "
            "path");
      }
      ns.push_back({{"type", "pid"}, {"path", pod.pid_ns_path}});
      break;
    case PidMode::kHost:
      break;
  }
  // An empty path: the host's namespace of that type, i.e. none in the
  // spec.
  for (const auto& [type, path] :
       {std::pair<const char*, const std::string*>{"ipc", &pod.ipc_ns_path},
        {"uts", &pod.uts_ns_path},
        {"network", &pod.net_ns_path}}) {
    if (!path->empty()) ns.push_back({{"type", type}, {"path", *path}});
  }
  ns.push_back({{"type", "mount"}});
  if (pod.id_mappings.has_value()) {
    json user = {{"type", "user"}};
    if (!pod.user_ns_path.empty()) user["path"] = pod.user_ns_path;
    ns.push_back(std::move(user));
  }
  ns.push_back({{"type", "cgroup"}});
  return ns;
}

struct DeviceNode {
  std::string path;  // in the container
  char type = 'c';
  uint32_t major = 0;
  uint32_t minor = 0;
  uint32_t mode = 0;
};

absl::StatusOr<DeviceNode> StatDevice(const std::string& host_path,
                                      const std::string& container_path,
                                      absl::string_view field) {
  struct stat st;
  if (stat(host_path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", host_path, " does not exist"));
    }
    return sys::ErrnoError(err, "stat %s", host_path);
  }
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", host_path, " is not a device node"));
  }
  return DeviceNode{container_path, S_ISCHR(st.st_mode) ? 'c' : 'b',
                    major(st.st_rdev), minor(st.st_rdev),
                    static_cast<uint32_t>(st.st_mode & 07777)};
}

// Every device node of the host's /dev and its subdirectories (one level:
// /dev/net/tun, /dev/dri/*, /dev/snd/*), for a privileged container in the
// host's user namespace. The kernel filesystems mounted under /dev (pts,
// shm, mqueue) are the container's own.
std::vector<DeviceNode> HostDevices() {
  std::vector<DeviceNode> out;
  std::vector<std::string> dirs = {"/dev"};
  for (size_t d = 0; d < dirs.size(); ++d) {
    absl::StatusOr<std::vector<std::string>> names = sys::ListDir(dirs[d]);
    if (!names.ok()) continue;  // unreadable: those devices are not offered
    for (const std::string& name : *names) {
      std::string path = absl::StrCat(dirs[d], "/", name);
      if (path == "/dev/pts" || path == "/dev/shm" || path == "/dev/mqueue" ||
          path == "/dev/console" || path == "/dev/ptmx") {
        continue;
      }
      struct stat st;
      if (lstat(path.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode) && d == 0) {
        dirs.push_back(path);
      } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        out.push_back({path, S_ISCHR(st.st_mode) ? 'c' : 'b', major(st.st_rdev),
                       minor(st.st_rdev),
                       static_cast<uint32_t>(st.st_mode & 07777)});
      }
    }
  }
  return out;
}

json DeviceJson(const DeviceNode& d) {
  return {{"path", d.path},
          {"type", std::string(1, d.type)},
          {"major", d.major},
          {"minor", d.minor},
          {"fileMode", d.mode},
          {"uid", 0},
          {"gid", 0}};
}

json DeviceRule(bool allow, const std::optional<DeviceNode>& d,
                absl::string_view access) {
  json rule = {{"allow", allow}, {"access", access}};
  if (d.has_value()) {
    rule["type"] = std::string(1, d->type);
    rule["major"] = d->major;
    rule["minor"] = d->minor;
  }
  return rule;
}

json ResourcesJson(const Resources& r) {
  json out = json::object();
  json cpu = json::object();
  if (r.cpu_shares > 0) cpu["shares"] = static_cast<uint64_t>(r.cpu_shares);
  if (r.cpu_quota != 0) cpu["quota"] = r.cpu_quota;
  if (r.cpu_period > 0) cpu["period"] = static_cast<uint64_t>(r.cpu_period);
  if (!r.cpuset_cpus.empty()) cpu["cpus"] = r.cpuset_cpus;
  if (!r.cpuset_mems.empty()) cpu["mems"] = r.cpuset_mems;
  if (!cpu.empty()) out["cpu"] = std::move(cpu);
  json memory = json::object();
  if (r.memory_limit_in_bytes > 0) memory["limit"] = r.memory_limit_in_bytes;
  if (r.memory_swap_limit_in_bytes != 0) {
    memory["swap"] = r.memory_swap_limit_in_bytes;
  }
  if (!memory.empty()) out["memory"] = std::move(memory);
  return out;
}

absl::StatusOr<std::optional<std::string>> AppArmorProfile(
    const SecurityContext& security, const HostFeatures& host) {
  if (security.privileged) return std::nullopt;
  const std::optional<SecurityProfile>& p = security.apparmor;
  if (!p.has_value() || p->type == ProfileType::kRuntimeDefault) {
    if (host.apparmor && !host.apparmor_default_profile.empty()) {
      return host.apparmor_default_profile;
    }
    return std::nullopt;
  }
  if (p->type == ProfileType::kUnconfined) return std::nullopt;
  if (!host.apparmor) {
    return absl::FailedPreconditionError(absl::StrCat(
        "config.linux.security_context.apparmor: Localhost profile \"",
        p->localhost_ref,
        "\" requested, but AppArmor is not enabled on this host"));
  }
  // kubelet's older spelling "localhost/<name>" names the same profile.
  return std::string(absl::StripPrefix(p->localhost_ref, "localhost/"));
}

absl::Status CheckMapped(const std::vector<userns::IdMapping>& mappings,
                         uint32_t id, absl::string_view what) {
  if (userns::ToHostId(mappings, id).has_value()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "container user: ", what, " ", id,
      " (from the security context or the image's User) is not mapped by "
      "the pod's user namespace"));
}

}  // namespace

HostFeatures ProbeHostFeatures() {
  HostFeatures host;
  absl::StatusOr<std::string> enabled =
      sys::ReadFile("/sys/module/apparmor/parameters/enabled");
  host.apparmor = enabled.ok() && absl::StartsWith(*enabled, "Y");
  host.host_mqueue = oci::IsMqueueMount("/dev/mqueue");
  // Once, at start: the daemon's capabilities do not change while it runs.
  absl::StatusOr<std::string> status = sys::ReadFile("/proc/self/status");
  absl::StatusOr<std::vector<std::string>> held =
      status.ok() ? HeldCapabilities(*status) : status.status();
  if (held.ok()) {
    host.held_capabilities = *std::move(held);
  } else {
    PSB_LOG(kWarning,
            "reading this process's capabilities: %s; privileged containers "
            "ask for every capability",
            held.status().ToString());
  }
  return host;
}

const std::vector<std::string>& KubernetesMaskedPaths() {
  static const auto* paths = [] {
    auto* p = new std::vector<std::string>(oci::DefaultMaskedPaths());
    // Kubernetes masks RAPL energy counters too: a side channel on the
    // host's CPUs (Platypus, CVE-2020-8694).
    p->push_back("/sys/devices/virtual/powercap");
    return p;
  }();
  return *paths;
}

absl::StatusOr<std::vector<std::string>> ProcessArgs(
    const ContainerConfig& config, const image::ImageConfig& image) {
  std::vector<std::string> argv;
  if (!config.command.empty()) {
    argv = config.command;
    argv.insert(argv.end(), config.args.begin(), config.args.end());
  } else {
    argv = image.entrypoint;
    const std::vector<std::string>& tail =
        config.args.empty() ? image.cmd : config.args;
    argv.insert(argv.end(), tail.begin(), tail.end());
  }
  if (argv.empty() || argv[0].empty()) {
    return absl::InvalidArgumentError(
        "config.command: no command to run: neither the config (command, "
        "args) nor the image (Entrypoint, Cmd) names one");
  }
  return argv;
}

std::vector<std::string> ProcessEnv(const ContainerConfig& config,
                                    const image::ImageConfig& image,
                                    const PodContext& pod) {
  std::vector<std::string> env;
  auto set = [&env](absl::string_view key, absl::string_view value) {
    std::string entry = absl::StrCat(key, "=", value);
    for (std::string& e : env) {
      if (absl::StartsWith(e, absl::StrCat(key, "="))) {
        e = std::move(entry);
        return;
      }
    }
    env.push_back(std::move(entry));
  };
  if (!pod.hostname.empty()) set("HOSTNAME", pod.hostname);
  for (const std::string& e : image.env) {
    std::vector<absl::string_view> kv =
        absl::StrSplit(e, absl::MaxSplits('=', 1));
    if (kv[0].empty()) continue;
    set(kv[0], kv.size() == 2 ? kv[1] : "");
  }
  for (const KeyValue& kv : config.envs) set(kv.key, kv.value);
  bool has_path = std::any_of(env.begin(), env.end(), [](const std::string& e) {
    return absl::StartsWith(e, "PATH=");
  });
  if (!has_path) env.emplace_back(kDefaultPath);
  return env;
}

ProcPaths MaskedAndReadonlyPaths(const SecurityContext& security,
                                 const PodContext& pod) {
  if (security.privileged) return {};
  if (security.masked_paths.empty() && security.readonly_paths.empty()) {
    if (pod.user_namespaced()) return {};
    return {KubernetesMaskedPaths(), oci::DefaultReadonlyPaths()};
  }
  return {security.masked_paths, security.readonly_paths};
}

absl::StatusOr<nlohmann::json> BuildContainerSpec(
    sys::Sys& sys, absl::string_view id, const ContainerConfig& config,
    const image::ImageConfig& image, const PodContext& pod,
    absl::string_view rootfs, const ProcessUser& user,
    const HostFeatures& host) {
  if (rootfs.empty() || rootfs[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("container rootfs ", rootfs, ": must be absolute"));
  }
  const SecurityContext& security = config.security;
  bool privileged = security.privileged;
  if (pod.id_mappings.has_value()) {
    // The image's User can name ids the pod does not map (validation saw
    // only the config's): the runtime would fail with setuid's EINVAL.
    RETURN_IF_ERROR(CheckMapped(pod.id_mappings->uids, user.uid, "uid"));
    RETURN_IF_ERROR(CheckMapped(pod.id_mappings->gids, user.gid, "gid"));
    for (uint32_t gid : user.additional_gids) {
      RETURN_IF_ERROR(
          CheckMapped(pod.id_mappings->gids, gid, "supplementary gid"));
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::string> argv, ProcessArgs(config, image));
  std::vector<std::string> caps =
      ContainerCapabilities(security.capabilities, privileged,
                            host.held_capabilities.value_or(AllCapabilities()));
  ASSIGN_OR_RETURN(std::optional<json> seccomp,
                   SeccompFor(sys, security.seccomp, privileged, caps));
  ASSIGN_OR_RETURN(std::optional<std::string> apparmor,
                   AppArmorProfile(security, host));
  ASSIGN_OR_RETURN(json namespaces, Namespaces(pod));

  std::string cwd = !config.working_dir.empty()  ? config.working_dir
                    : !image.working_dir.empty() ? image.working_dir
                                                 : "/";
  json process = {
      {"terminal", false},
      {"user",
       {{"uid", user.uid},
        {"gid", user.gid},
        {"additionalGids", user.additional_gids}}},
      {"args", std::move(argv)},
      {"env", ProcessEnv(config, image, pod)},
      {"cwd", cwd},
      // Inheritable stays empty (CVE-2022-24769): a non-root process must
      // not regain capabilities through file capabilities.
      {"capabilities",
       {{"bounding", caps},
        {"effective", caps},
        {"permitted", caps},
        {"inheritable", json::array()},
        {"ambient", json::array()}}},
      {"noNewPrivileges", security.no_new_privs && !privileged},
      {"oomScoreAdj", config.resources.oom_score_adj}};
  if (apparmor.has_value()) process["apparmorProfile"] = *apparmor;

  // Devices: the config's, and for a privileged container in the host's
  // user namespace every host device.
  json devices = json::array();
  json device_rules = json::array();
  bool all_devices = privileged && !pod.user_namespaced();
  device_rules.push_back(DeviceRule(all_devices, std::nullopt, "rwm"));
  std::vector<std::string> device_paths;
  if (all_devices) {
    for (const DeviceNode& d : HostDevices()) {
      devices.push_back(DeviceJson(d));
      device_paths.push_back(d.path);
    }
  }
  for (size_t i = 0; i < config.devices.size(); ++i) {
    const Device& d = config.devices[i];
    ASSIGN_OR_RETURN(
        DeviceNode node,
        StatDevice(d.host_path, Clean(d.container_path),
                   absl::StrCat("config.devices[", i, "].host_path")));
    if (std::find(device_paths.begin(), device_paths.end(), node.path) ==
        device_paths.end()) {
      devices.push_back(DeviceJson(node));
      device_paths.push_back(node.path);
    }
    if (!all_devices) {
      device_rules.push_back(DeviceRule(
          true, node, d.permissions.empty() ? "rwm" : d.permissions));
    }
  }

  json resources = ResourcesJson(config.resources);
  resources["devices"] = std::move(device_rules);

  ProcPaths proc_paths = MaskedAndReadonlyPaths(security, pod);
  json linux = {{"namespaces", std::move(namespaces)},
                {"cgroupsPath", absl::StrCat(pod.cgroup_parent, "/", id)},
                {"resources", std::move(resources)},
                {"maskedPaths", proc_paths.masked},
                {"readonlyPaths", proc_paths.readonly}};
  if (pod.id_mappings.has_value()) {
    // The very mappings of the pod's namespace: runc checks a joined user
    // namespace against them, crun chowns the cgroup with them.
    linux["uidMappings"] = oci::OciIdMappings(pod.id_mappings->uids);
    linux["gidMappings"] = oci::OciIdMappings(pod.id_mappings->gids);
  }
  if (!devices.empty()) linux["devices"] = std::move(devices);
  if (seccomp.has_value()) linux["seccomp"] = std::move(*seccomp);
  if (absl::string_view p = RootfsPropagation(config.mounts); !p.empty()) {
    linux["rootfsPropagation"] = std::string(p);
  }

  json annotations = json::object();
  for (const auto& [key, value] : config.annotations) annotations[key] = value;
  // Ours win: runtimes and tools decide from these what the container is.
  annotations["io.kubernetes.cri.container-type"] = "container";
  annotations["io.kubernetes.cri.container-name"] = config.metadata.name;
  annotations["io.kubernetes.cri.sandbox-id"] = pod.sandbox_id;
  annotations["io.kubernetes.cri.sandbox-name"] = pod.pod_name;
  annotations["io.kubernetes.cri.sandbox-namespace"] = pod.pod_namespace;
  annotations["io.kubernetes.cri.sandbox-uid"] = pod.pod_uid;
  annotations["io.kubernetes.cri.image-name"] = config.image;

  return json{
      {"ociVersion", "1.0.2"},
      {"process", std::move(process)},
      {"root", {{"path", rootfs}, {"readonly", security.readonly_rootfs}}},
      {"mounts", Mounts(config, pod, privileged, host)},
      {"annotations", std::move(annotations)},
      {"linux", std::move(linux)}};
}

}  // namespace podsandbox::container
