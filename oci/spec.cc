#include "oci/spec.h"

#include <sys/vfs.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sys/status.h"

namespace podsandbox::oci {
namespace {

using nlohmann::json;

constexpr size_t kMaxIdLength = 1024;
constexpr size_t kMaxHostname = 64;  // HOST_NAME_MAX
// statfs(2)'s f_type of an mqueue filesystem; the kernel defines it in
// ipc/mqueue.c, not in a uapi header.
constexpr long kMqueueMagic = 0x19800202;

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("task.", field, ": ", why));
}

// The OCI runtime id rule runc enforces: ^[\w+-\.]+$, and not "." or "..".
bool ValidId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength || id == "." || id == "..") {
    return false;
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '.' &&
        c != '+') {
      return false;
    }
  }
  return true;
}

bool HasDotDot(absl::string_view path) {
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") return true;
  }
  return false;
}

absl::Status ValidatePath(absl::string_view field, absl::string_view path) {
  if (path.empty()) return absl::OkStatus();
  if (path[0] != '/') return Invalid(field, "must be absolute");
  if (HasDotDot(path)) return Invalid(field, "must not contain \"..\"");
  return absl::OkStatus();
}

bool ValidSysctlKey(absl::string_view key) {
  if (key.empty() || key.front() == '.' || key.back() == '.') return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-' &&
        c != '/') {
      return false;
    }
  }
  return !absl::StrContains(key, "..");
}

bool Maps(const std::vector<userns::IdMapping>& list, uint32_t id) {
  return userns::ToHostId(list, id).has_value();
}

json Mount(absl::string_view destination, absl::string_view type,
           absl::string_view source, std::vector<std::string> options) {
  return MountEntry(destination, type, source, std::move(options));
}

}  // namespace

const std::vector<std::string>& DefaultMaskedPaths() {
  static const auto* paths = new std::vector<std::string>{
      "/proc/acpi",        "/proc/asound",        "/proc/kcore",
      "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
      "/proc/timer_stats", "/proc/sched_debug",   "/proc/scsi",
      "/sys/firmware"};
  return *paths;
}

const std::vector<std::string>& DefaultReadonlyPaths() {
  static const auto* paths = new std::vector<std::string>{
      "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  return *paths;
}

nlohmann::json MountEntry(absl::string_view destination, absl::string_view type,
                          absl::string_view source,
                          std::vector<std::string> options) {
  return {{"destination", destination},
          {"type", type},
          {"source", source},
          {"options", std::move(options)}};
}

bool IsMqueueMount(absl::string_view path) {
  struct statfs fs;
  return ::statfs(std::string(path).c_str(), &fs) == 0 &&
         fs.f_type == kMqueueMagic;
}

nlohmann::json KernelMounts(const KernelMountOptions& options) {
  const userns::IdMappings* id_mappings = options.id_mappings;
  bool userns = id_mappings != nullptr;
  bool host_network = options.host_network;
  json mounts = json::array();
  mounts.push_back(
      Mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  mounts.push_back(Mount("/dev", "tmpfs", "tmpfs",
                         {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  std::vector<std::string> pts = {"nosuid", "noexec", "newinstance",
                                  "ptmxmode=0666", "mode=0620"};
  // devpts refuses a gid= that the mounting user namespace does not map.
  if (!userns || Maps(id_mappings->gids, 5)) pts.push_back("gid=5");
  mounts.push_back(Mount("/dev/pts", "devpts", "devpts", std::move(pts)));
  if (options.host_ipc) {
    // The host's IPC namespace: its shm and mqueue, which a pod user
    // namespace could not mount anew anyway.
    mounts.push_back(Mount("/dev/shm", "bind", "/dev/shm",
                           {"rbind", "nosuid", "nodev", "noexec"}));
    // The host's queues are those its /dev/mqueue shows. A host that has
    // not mounted one has nothing to share there (a bind of the bare
    // directory would hide nothing and show nothing, and runtimes refuse a
    // missing source), and a fresh mqueue mount is refused inside a pod
    // user namespace, which does not own the host's IPC namespace: then
    // the pod has no /dev/mqueue, as the host has none.
    if (options.host_mqueue) {
      mounts.push_back(Mount("/dev/mqueue", "bind", "/dev/mqueue",
                             {"rbind", "nosuid", "nodev", "noexec"}));
    }
  } else {
    mounts.push_back(Mount("/dev/shm", "tmpfs", "shm",
                           {"nosuid", "noexec", "nodev", "mode=1777",
                            absl::StrCat("size=", kShmBytes)}));
    mounts.push_back(Mount("/dev/mqueue", "mqueue", "mqueue",
                           {"nosuid", "noexec", "nodev"}));
  }
  std::string sys_access = options.privileged ? "rw" : "ro";
  if (userns && host_network) {
    // sysfs may only be mounted by a holder of CAP_SYS_ADMIN over the user
    // namespace owning the netns: here that is the host's, not the pod's.
    mounts.push_back(Mount("/sys", "bind", "/sys",
                           {"rbind", "nosuid", "noexec", "nodev",
                            options.privileged ? "rw" : "rro"}));
  } else {
    mounts.push_back(Mount("/sys", "sysfs", "sysfs",
                           {"nosuid", "noexec", "nodev", sys_access}));
  }
  return mounts;
}

namespace {

json Mounts(const TaskSpec& spec) {
  return KernelMounts({.id_mappings = spec.id_mappings.has_value()
                                          ? &*spec.id_mappings
                                          : nullptr,
                       .host_network = spec.netns_path.empty(),
                       .host_ipc = spec.host_ipc,
                       .host_mqueue = spec.host_mqueue,
                       .privileged = spec.privileged});
}

json Namespaces(const TaskSpec& spec, RuntimeType type) {
  json namespaces = json::array();
  if (!spec.host_pid) namespaces.push_back({{"type", "pid"}});
  if (!spec.host_ipc) namespaces.push_back({{"type", "ipc"}});
  if (!spec.netns_path.empty()) namespaces.push_back({{"type", "uts"}});
  namespaces.push_back({{"type", "mount"}});
  if (!spec.netns_path.empty()) {
    namespaces.push_back({{"type", "network"}, {"path", spec.netns_path}});
  }
  if (spec.id_mappings.has_value()) {
    json user = {{"type", "user"}};
    if (!spec.userns_path.empty() &&
        CapabilitiesOf(type).joins_userns_by_path) {
      user["path"] = spec.userns_path;
    }
    namespaces.push_back(std::move(user));
  }
  return namespaces;
}

json Annotations(const TaskSpec& spec) {
  json annotations = json::object();
  for (const auto& [key, value] : spec.annotations) annotations[key] = value;
  // Ours win over extra ones: runtimes decide from these what they run.
  annotations["io.kubernetes.cri.container-type"] = "sandbox";
  annotations["io.kubernetes.cri.sandbox-id"] = spec.sandbox_id;
  annotations["io.kubernetes.cri.sandbox-name"] = spec.pod_name;
  annotations["io.kubernetes.cri.sandbox-namespace"] = spec.pod_namespace;
  annotations["io.kubernetes.cri.sandbox-uid"] = spec.pod_uid;
  return annotations;
}

}  // namespace

nlohmann::json OciIdMappings(const std::vector<userns::IdMapping>& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const userns::IdMapping& m : list) {
    out.push_back({{"containerID", m.container_id},
                   {"hostID", m.host_id},
                   {"size", m.length}});
  }
  return out;
}

absl::Status ValidateTaskSpec(const TaskSpec& spec) {
  if (!ValidId(spec.sandbox_id)) {
    return Invalid("sandbox_id",
                   "must be 1 to 1024 of [A-Za-z0-9_+.-], not . or ..");
  }
  if (spec.hostname.size() > kMaxHostname) {
    return Invalid("hostname", "longer than 64 characters");
  }
  RETURN_IF_ERROR(ValidatePath("netns_path", spec.netns_path));
  RETURN_IF_ERROR(ValidatePath("userns_path", spec.userns_path));
  RETURN_IF_ERROR(ValidatePath("cgroup_parent", spec.cgroup_parent));
  if (!spec.userns_path.empty() && !spec.id_mappings.has_value()) {
    return Invalid("userns_path", "set without id_mappings");
  }
  if (spec.id_mappings.has_value()) {
    if (spec.id_mappings->uids.empty() || spec.id_mappings->gids.empty()) {
      return Invalid("id_mappings", "needs both uid and gid mappings");
    }
    // A netns we created outside the pod's user namespace belongs to the
    // host's: the pod's root could not mount sysfs for it.
    if (!spec.netns_path.empty() && spec.userns_path.empty()) {
      return Invalid("userns_path",
                     "required with id_mappings and a pod network namespace "
                     "(the netns must belong to the pod's user namespace)");
    }
  }
  for (const auto& [key, value] : spec.sysctls) {
    if (!ValidSysctlKey(key)) {
      return Invalid(absl::StrCat("sysctls[", key, "]"), "not a sysctl name");
    }
    if (absl::StrContains(value, '\n') || absl::StrContains(value, '\0')) {
      return Invalid(absl::StrCat("sysctls[", key, "]"),
                     "value holds a newline or NUL");
    }
  }
  if (spec.oom_score_adj < -1000 || spec.oom_score_adj > 1000) {
    return Invalid("oom_score_adj", "must be within -1000..1000");
  }
  return PauseUser(spec).status();
}

absl::StatusOr<uint32_t> PauseUser(const TaskSpec& spec) {
  if (!spec.id_mappings.has_value()) return kPauseId;
  const userns::IdMappings& m = *spec.id_mappings;
  if (Maps(m.uids, kPauseId) && Maps(m.gids, kPauseId)) return kPauseId;
  if (Maps(m.uids, 0) && Maps(m.gids, 0)) return 0;
  return Invalid("id_mappings", "map neither uid/gid 65535 nor 0");
}

absl::StatusOr<json> BuildOciSpec(const TaskSpec& spec, RuntimeType type,
                                  absl::string_view rootfs) {
  RETURN_IF_ERROR(ValidateTaskSpec(spec));
  if (rootfs.empty() || rootfs[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("pause rootfs ", rootfs, ": must be absolute"));
  }
  ASSIGN_OR_RETURN(uint32_t user, PauseUser(spec));
  json process = {
      {"terminal", false},
      {"user", {{"uid", user}, {"gid", user}}},
      {"args", {"/pause"}},
      {"env",
       {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
      {"cwd", "/"},
      {"capabilities",
       {{"bounding", json::array()},
        {"effective", json::array()},
        {"inheritable", json::array()},
        {"permitted", json::array()},
        {"ambient", json::array()}}},
      {"noNewPrivileges", true},
      {"oomScoreAdj", spec.oom_score_adj}};

  json linux = {
      {"namespaces", Namespaces(spec, type)},
      {"cgroupsPath",
       absl::StrCat(spec.cgroup_parent.empty() ? "" : spec.cgroup_parent, "/",
                    spec.sandbox_id)},
      // The device cgroup: the pause needs no device nodes.
      {"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}}};
  if (spec.id_mappings.has_value()) {
    linux["uidMappings"] = OciIdMappings(spec.id_mappings->uids);
    linux["gidMappings"] = OciIdMappings(spec.id_mappings->gids);
  }
  if (!spec.sysctls.empty()) linux["sysctl"] = spec.sysctls;
  if (!spec.privileged) {
    linux["maskedPaths"] = DefaultMaskedPaths();
    linux["readonlyPaths"] = DefaultReadonlyPaths();
  }

  json config = {{"ociVersion", "1.0.2"},
                 {"process", std::move(process)},
                 {"root", {{"path", rootfs}, {"readonly", true}}},
                 {"mounts", Mounts(spec)},
                 {"annotations", Annotations(spec)},
                 {"linux", std::move(linux)}};
  // With host network the UTS namespace is the host's, and runtimes refuse
  // to set a hostname there.
  if (!spec.netns_path.empty() && !spec.hostname.empty()) {
    config["hostname"] = spec.hostname;
  }
  return config;
}

absl::Status CheckOomScoreAdj(int oom_score_adj, bool has_cap_sys_resource) {
  if (oom_score_adj >= 0 || has_cap_sys_resource) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "task.oom_score_adj ", oom_score_adj,
      ": lowering oom_score_adj below 0 needs CAP_SYS_RESOURCE, which this "
      "process does not have (the runtime would fail writing "
      "/proc/self/oom_score_adj with EACCES)"));
}

}  // namespace podsandbox::oci
