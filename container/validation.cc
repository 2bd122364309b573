#include "container/validation.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "container/capabilities.h"
#include "sys/file.h"
#include "sys/mountinfo_field.h"
#include "sys/status.h"

namespace podsandbox::container {
namespace {

constexpr absl::string_view kSecurity = "config.linux.security_context";
constexpr absl::string_view kResources = "config.linux.resources";
constexpr size_t kMaxNameBytes = 253;

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

std::string Indexed(absl::string_view field, size_t i) {
  return absl::StrCat(field, "[", i, "]");
}

bool HasNul(absl::string_view s) { return absl::StrContains(s, '\0'); }

bool HasDotDot(absl::string_view path) {
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") return true;
  }
  return false;
}

// An absolute path without "..", NUL or a newline (config.json and mount
// options are text; runc refuses relative destinations).
absl::Status CheckAbsolute(absl::string_view field, absl::string_view path,
                           const ContainerLimits& limits) {
  if (path.empty()) return Invalid(field, "must not be empty");
  if (path.size() > limits.max_path_bytes) {
    return Invalid(
        field, absl::StrCat("longer than ", limits.max_path_bytes, " bytes"));
  }
  if (path[0] != '/') return Invalid(field, "must be absolute");
  if (HasNul(path) || absl::StrContains(path, '\n')) {
    return Invalid(field, "holds a NUL or newline");
  }
  if (HasDotDot(path)) return Invalid(field, "must not contain \"..\"");
  return absl::OkStatus();
}

// Compares container paths as the kernel would resolve them: "/a//b/" is
// "/a/b".
std::string CleanPath(absl::string_view path) {
  std::vector<absl::string_view> parts;
  for (absl::string_view p : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (p != ".") parts.push_back(p);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

absl::Status CheckMetadata(const ContainerConfig& c,
                           const ContainerLimits& limits) {
  const std::string& name = c.metadata.name;
  if (name.empty()) return Invalid("config.metadata.name", "must not be empty");
  if (name.size() > kMaxNameBytes) {
    return Invalid("config.metadata.name", "longer than 253 bytes");
  }
  for (char ch : name) {
    if (!absl::ascii_isalnum(ch) && ch != '-' && ch != '_' && ch != '.') {
      return Invalid("config.metadata.name",
                     "may hold only [A-Za-z0-9._-] (it names log files and "
                     "runtime state)");
    }
  }
  if (c.image.empty())
    return Invalid("config.image.image", "must not be empty");
  if (c.image.size() > limits.max_path_bytes || HasNul(c.image)) {
    return Invalid("config.image.image", "too long or holds a NUL");
  }
  return absl::OkStatus();
}

absl::Status CheckProcess(const ContainerConfig& c,
                          const ContainerLimits& limits) {
  if (c.stdin_ || c.stdin_once || c.tty) {
    return absl::UnimplementedError(absl::StrCat(
        c.tty ? "config.tty"
              : (c.stdin_ ? "config.stdin" : "config.stdin_once"),
        ": not implemented: a terminal or stdin needs Attach, which "
        "podsandboxd does not serve yet"));
  }
  if (c.command.size() + c.args.size() > limits.max_args) {
    return Invalid("config.command",
                   absl::StrCat("command and args hold more than ",
                                limits.max_args, " strings"));
  }
  if (c.envs.size() > limits.max_envs) {
    return Invalid("config.envs",
                   absl::StrCat("more than ", limits.max_envs, " entries"));
  }
  size_t bytes = 0;
  for (size_t i = 0; i < c.command.size(); ++i) {
    if (HasNul(c.command[i])) {
      return Invalid(Indexed("config.command", i), "holds a NUL");
    }
    bytes += c.command[i].size() + 1;
  }
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (HasNul(c.args[i])) {
      return Invalid(Indexed("config.args", i), "holds a NUL");
    }
    bytes += c.args[i].size() + 1;
  }
  for (size_t i = 0; i < c.envs.size(); ++i) {
    const KeyValue& kv = c.envs[i];
    std::string field = absl::StrCat(Indexed("config.envs", i), ".key");
    if (kv.key.empty()) return Invalid(field, "must not be empty");
    if (absl::StrContains(kv.key, '=') || HasNul(kv.key)) {
      return Invalid(field, "holds '=' or a NUL");
    }
    if (HasNul(kv.value)) {
      return Invalid(absl::StrCat(Indexed("config.envs", i), ".value"),
                     "holds a NUL");
    }
    bytes += kv.key.size() + kv.value.size() + 2;
  }
  if (bytes > limits.max_exec_bytes) {
    return Invalid("config.envs",
                   absl::StrCat("command, args and envs take ", bytes,
                                " bytes, more than ", limits.max_exec_bytes));
  }
  if (!c.working_dir.empty()) {
    RETURN_IF_ERROR(CheckAbsolute("config.working_dir", c.working_dir, limits));
  }
  if (!c.log_path.empty()) {
    if (c.log_path[0] == '/' || HasDotDot(c.log_path) || HasNul(c.log_path) ||
        c.log_path.size() > limits.max_path_bytes) {
      return Invalid("config.log_path",
                     "must be relative to the pod's log directory, without "
                     "\"..\" or NUL, at most 4096 bytes");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMounts(const ContainerConfig& c,
                         const ContainerLimits& limits) {
  if (c.mounts.size() > limits.max_mounts) {
    return Invalid("config.mounts",
                   absl::StrCat("more than ", limits.max_mounts, " mounts"));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < c.mounts.size(); ++i) {
    const Mount& m = c.mounts[i];
    std::string field = Indexed("config.mounts", i);
    RETURN_IF_ERROR(CheckAbsolute(absl::StrCat(field, ".container_path"),
                                  m.container_path, limits));
    std::string dest = CleanPath(m.container_path);
    if (dest == "/") {
      return Invalid(absl::StrCat(field, ".container_path"),
                     "must not be the root");
    }
    // A bind over /proc (or in it) would undo masked and read-only paths,
    // and runc refuses most of them anyway.
    if (dest == "/proc" || absl::StartsWith(dest, "/proc/")) {
      return Invalid(absl::StrCat(field, ".container_path"),
                     "must not be /proc or below it");
    }
    if (!seen.insert(dest).second) {
      return Invalid(absl::StrCat(field, ".container_path"),
                     absl::StrCat(dest, " is mounted twice"));
    }
    RETURN_IF_ERROR(
        CheckAbsolute(absl::StrCat(field, ".host_path"), m.host_path, limits));
    int propagation = static_cast<int>(m.propagation);
    if (propagation < 0 || propagation > 2) {
      return Invalid(absl::StrCat(field, ".propagation"), "unknown value");
    }
    if (m.recursive_read_only && !m.readonly) {
      return Invalid(absl::StrCat(field, ".recursive_read_only"),
                     "needs readonly");
    }
    if (m.recursive_read_only && m.propagation != MountPropagation::kPrivate) {
      // The kernel cannot make a mount tree read-only for mounts that keep
      // arriving through propagation.
      return Invalid(absl::StrCat(field, ".recursive_read_only"),
                     "needs propagation PROPAGATION_PRIVATE");
    }
  }
  if (c.devices.size() > limits.max_devices) {
    return Invalid("config.devices",
                   absl::StrCat("more than ", limits.max_devices, " devices"));
  }
  for (size_t i = 0; i < c.devices.size(); ++i) {
    const Device& d = c.devices[i];
    std::string field = Indexed("config.devices", i);
    RETURN_IF_ERROR(CheckAbsolute(absl::StrCat(field, ".container_path"),
                                  d.container_path, limits));
    if (!absl::StartsWith(CleanPath(d.container_path), "/dev/")) {
      return Invalid(absl::StrCat(field, ".container_path"),
                     "must be below /dev");
    }
    RETURN_IF_ERROR(
        CheckAbsolute(absl::StrCat(field, ".host_path"), d.host_path, limits));
    if (d.permissions.size() > 3 ||
        d.permissions.find_first_not_of("rwm") != std::string::npos) {
      return Invalid(absl::StrCat(field, ".permissions"),
                     "must be a subset of \"rwm\"");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckLabels(const ContainerConfig& c,
                         const ContainerLimits& limits) {
  size_t bytes = 0;
  for (const auto* map : {&c.labels, &c.annotations}) {
    absl::string_view field =
        map == &c.labels ? "config.labels" : "config.annotations";
    for (const auto& [key, value] : *map) {
      if (key.empty()) return Invalid(field, "holds an empty key");
      bytes += key.size() + value.size();
    }
  }
  if (bytes > limits.max_label_annotation_bytes) {
    return Invalid(
        "config.labels",
        absl::StrCat("labels and annotations take ", bytes,
                     " bytes, more than ", limits.max_label_annotation_bytes));
  }
  return absl::OkStatus();
}

// "0-3,5,7-8"
bool ValidCpuList(absl::string_view list) {
  if (list.empty()) return true;
  for (absl::string_view range : absl::StrSplit(list, ',')) {
    std::vector<absl::string_view> ends = absl::StrSplit(range, '-');
    if (ends.size() > 2) return false;
    for (absl::string_view n : ends) {
      if (n.empty() || n.size() > 5 ||
          n.find_first_not_of("0123456789") != absl::string_view::npos) {
        return false;
      }
    }
  }
  return true;
}

absl::Status CheckResources(const Resources& r) {
  auto field = [](absl::string_view name) {
    return absl::StrCat(kResources, ".", name);
  };
  // The kernel's CFS bounds (kernel/sched/core.c): period 1 ms..1 s, quota
  // at least 1 ms.
  if (r.cpu_period != 0 && (r.cpu_period < 1000 || r.cpu_period > 1000000)) {
    return Invalid(field("cpu_period"),
                   "must be 0 (unset) or 1000..1000000 microseconds");
  }
  if (r.cpu_quota != 0 && r.cpu_quota != -1 && r.cpu_quota < 1000) {
    return Invalid(field("cpu_quota"),
                   "must be 0 or -1 (unlimited) or at least 1000 "
                   "microseconds");
  }
  if (r.cpu_shares != 0 && (r.cpu_shares < 2 || r.cpu_shares > 262144)) {
    return Invalid(field("cpu_shares"), "must be 0 (unset) or 2..262144");
  }
  if (r.memory_limit_in_bytes < 0) {
    return Invalid(field("memory_limit_in_bytes"), "must not be negative");
  }
  if (r.memory_swap_limit_in_bytes < -1) {
    return Invalid(field("memory_swap_limit_in_bytes"),
                   "must be -1 (unlimited), 0 (unset) or a size");
  }
  if (r.memory_swap_limit_in_bytes > 0 &&
      r.memory_swap_limit_in_bytes < r.memory_limit_in_bytes) {
    return Invalid(field("memory_swap_limit_in_bytes"),
                   "counts memory plus swap: must not be below "
                   "memory_limit_in_bytes");
  }
  if (r.oom_score_adj < -1000 || r.oom_score_adj > 1000) {
    return Invalid(field("oom_score_adj"), "must be within -1000..1000");
  }
  if (!ValidCpuList(r.cpuset_cpus)) {
    return Invalid(field("cpuset_cpus"), "not a CPU list such as \"0-3,5\"");
  }
  if (!ValidCpuList(r.cpuset_mems)) {
    return Invalid(field("cpuset_mems"), "not a node list such as \"0-1\"");
  }
  return absl::OkStatus();
}

bool Maps(const std::vector<userns::IdMapping>& list, int64_t id) {
  return id >= 0 && id <= UINT32_MAX &&
         userns::ToHostId(list, static_cast<uint32_t>(id)).has_value();
}

absl::Status CheckId(absl::string_view field, int64_t id,
                     const std::vector<userns::IdMapping>* mappings) {
  if (id < 0 || id >= UINT32_MAX) {
    return Invalid(field,
                   absl::StrCat(id, " is not a valid id (0..4294967294)"));
  }
  if (mappings != nullptr && !Maps(*mappings, id)) {
    return Invalid(field, absl::StrCat(id,
                                       " is not mapped by the pod's user "
                                       "namespace"));
  }
  return absl::OkStatus();
}

absl::Status CheckProfile(absl::string_view field, const SecurityProfile& p) {
  int type = static_cast<int>(p.type);
  if (type < 0 || type > 2) return Invalid(field, "unknown profile_type");
  std::string ref = absl::StrCat(field, ".localhost_ref");
  if (p.type != ProfileType::kLocalhost) {
    if (!p.localhost_ref.empty()) {
      return Invalid(ref, "set for a profile type other than Localhost");
    }
    return absl::OkStatus();
  }
  if (p.localhost_ref.empty()) {
    return Invalid(ref, "required for profile type Localhost");
  }
  return absl::OkStatus();
}

absl::Status CheckSecurity(const SecurityContext& s, const PodContext& pod,
                           const ContainerLimits& limits) {
  auto field = [](absl::string_view name) {
    return absl::StrCat(kSecurity, ".", name);
  };
  for (size_t i = 0; i < s.capabilities.add.size(); ++i) {
    if (!NormalizeCapability(s.capabilities.add[i]).has_value()) {
      return Invalid(
          Indexed(field("capabilities.add_capabilities"), i),
          absl::StrCat("unknown capability \"", s.capabilities.add[i], "\""));
    }
  }
  for (size_t i = 0; i < s.capabilities.drop.size(); ++i) {
    if (!NormalizeCapability(s.capabilities.drop[i]).has_value()) {
      return Invalid(
          Indexed(field("capabilities.drop_capabilities"), i),
          absl::StrCat("unknown capability \"", s.capabilities.drop[i], "\""));
    }
  }
  if (s.privileged && !pod.privileged) {
    return Invalid(field("privileged"),
                   "a privileged container needs a privileged pod "
                   "(config.linux.security_context.privileged of the "
                   "sandbox)");
  }
  const userns::IdMappings* maps =
      pod.id_mappings.has_value() ? &*pod.id_mappings : nullptr;
  if (s.run_as_user.has_value()) {
    RETURN_IF_ERROR(CheckId(field("run_as_user"), *s.run_as_user,
                            maps ? &maps->uids : nullptr));
  }
  if (s.run_as_group.has_value()) {
    RETURN_IF_ERROR(CheckId(field("run_as_group"), *s.run_as_group,
                            maps ? &maps->gids : nullptr));
  }
  if (s.run_as_username.size() > 256 || HasNul(s.run_as_username) ||
      absl::StrContains(s.run_as_username, ':') ||
      absl::StrContains(s.run_as_username, '\n')) {
    return Invalid(field("run_as_username"),
                   "not a user name (':', newline, NUL or over 256 bytes)");
  }
  // The CRI's rule (containerd's too): a group alone would pair with the
  // image's user, which the client did not choose.
  if (s.run_as_group.has_value() && !s.run_as_user.has_value() &&
      s.run_as_username.empty()) {
    return Invalid(field("run_as_group"),
                   "needs run_as_user or run_as_username");
  }
  if (s.supplemental_groups.size() > limits.max_supplemental_groups) {
    return Invalid(
        field("supplemental_groups"),
        absl::StrCat("more than ", limits.max_supplemental_groups, " groups"));
  }
  for (size_t i = 0; i < s.supplemental_groups.size(); ++i) {
    RETURN_IF_ERROR(CheckId(Indexed(field("supplemental_groups"), i),
                            s.supplemental_groups[i],
                            maps ? &maps->gids : nullptr));
  }
  for (const auto& [name, paths] :
       {std::pair<absl::string_view, const std::vector<std::string>*>{
            "masked_paths", &s.masked_paths},
        {"readonly_paths", &s.readonly_paths}}) {
    if (paths->size() > limits.max_masked_paths) {
      return Invalid(
          field(name),
          absl::StrCat("more than ", limits.max_masked_paths, " paths"));
    }
    for (size_t i = 0; i < paths->size(); ++i) {
      RETURN_IF_ERROR(
          CheckAbsolute(Indexed(field(name), i), (*paths)[i], limits));
    }
  }
  RETURN_IF_ERROR(CheckProfile(field("seccomp"), s.seccomp));
  if (s.seccomp.type == ProfileType::kLocalhost) {
    RETURN_IF_ERROR(CheckAbsolute(field("seccomp.localhost_ref"),
                                  s.seccomp.localhost_ref, limits));
  }
  if (s.apparmor.has_value()) {
    RETURN_IF_ERROR(CheckProfile(field("apparmor"), *s.apparmor));
    const std::string& name = s.apparmor->localhost_ref;
    if (name.size() > 256 || HasNul(name) || absl::StrContains(name, '\n')) {
      return Invalid(field("apparmor.localhost_ref"),
                     "not a profile name (newline, NUL or over 256 bytes)");
    }
  }
  return absl::OkStatus();
}

bool IsAtOrBelow(absl::string_view path, absl::string_view mount_point) {
  if (mount_point == "/") return true;
  return absl::StartsWith(path, mount_point) &&
         (path.size() == mount_point.size() || path[mount_point.size()] == '/');
}

absl::string_view PropagationName(MountPropagation p) {
  return p == MountPropagation::kBidirectional ? "Bidirectional"
                                               : "HostToContainer";
}

// A Bidirectional mount cannot reach the host from a pod with its own user
// namespace: a mount namespace created there is less privileged than the
// host's, and the kernel turns the shared mounts it copies into slaves
// (mount_namespaces(7), "Restrictions on mount namespaces"), so the
// container's mounts would never come back, without a word.
absl::Status CheckBidirectionalInUserns(const ContainerConfig& c,
                                        const PodContext& pod) {
  if (!pod.user_namespaced()) return absl::OkStatus();
  for (size_t i = 0; i < c.mounts.size(); ++i) {
    if (c.mounts[i].propagation == MountPropagation::kBidirectional) {
      return Invalid(
          absl::StrCat(Indexed("config.mounts", i), ".propagation"),
          "Bidirectional cannot propagate to the host from a pod with a "
          "user namespace (its shared mounts become slaves there)");
    }
  }
  return absl::OkStatus();
}

// A non-private mount's source must propagate as asked (containerd's
// ensureShared and ensureSharedOrSlave): runc would mount it all the same
// and nothing would ever cross, without a word.
absl::Status CheckPropagation(const ContainerConfig& c) {
  std::optional<std::string> mountinfo;
  for (size_t i = 0; i < c.mounts.size(); ++i) {
    const Mount& m = c.mounts[i];
    if (m.propagation == MountPropagation::kPrivate) continue;
    std::string field =
        absl::StrCat(Indexed("config.mounts", i), ".propagation");
    char resolved[PATH_MAX];
    if (realpath(m.host_path.c_str(), resolved) == nullptr) {
      return sys::Annotate(sys::ErrnoError(errno, "realpath %s", m.host_path),
                           field);
    }
    if (!mountinfo.has_value()) {
      absl::StatusOr<std::string> text = sys::ReadFile("/proc/self/mountinfo");
      if (!text.ok()) return sys::Annotate(text.status(), field);
      mountinfo = *std::move(text);
    }
    HostPropagation have = HostPropagationOf(*mountinfo, resolved);
    bool ok = have == HostPropagation::kShared ||
              (have == HostPropagation::kSlave &&
               m.propagation == MountPropagation::kHostToContainer);
    if (!ok) {
      return absl::FailedPreconditionError(absl::StrCat(
          field, ": ", PropagationName(m.propagation), " needs ", m.host_path,
          " on a ",
          m.propagation == MountPropagation::kBidirectional ? "shared"
                                                            : "shared or slave",
          " mount, and its mount is ",
          have == HostPropagation::kSlave ? "a slave" : "private",
          " (mount --make-rshared on the host)"));
    }
  }
  return absl::OkStatus();
}

// The host side, after every pure check: stat(2) only.
absl::Status CheckHostPaths(const ContainerConfig& c) {
  for (size_t i = 0; i < c.mounts.size(); ++i) {
    struct stat st;
    if (stat(c.mounts[i].host_path.c_str(), &st) != 0) {
      int err = errno;
      std::string field =
          absl::StrCat(Indexed("config.mounts", i), ".host_path");
      if (err == ENOENT || err == ENOTDIR) {
        return Invalid(field, absl::StrCat(c.mounts[i].host_path,
                                           " does not exist (podsandboxd "
                                           "never creates host paths)"));
      }
      return sys::Annotate(
          sys::ErrnoError(err, "stat %s", c.mounts[i].host_path), field);
    }
  }
  for (size_t i = 0; i < c.devices.size(); ++i) {
    std::string field =
        absl::StrCat(Indexed("config.devices", i), ".host_path");
    struct stat st;
    if (stat(c.devices[i].host_path.c_str(), &st) != 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) {
        return Invalid(field,
                       absl::StrCat(c.devices[i].host_path, " does not exist"));
      }
      return sys::Annotate(
          sys::ErrnoError(err, "stat %s", c.devices[i].host_path), field);
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
      return Invalid(
          field, absl::StrCat(c.devices[i].host_path, " is not a device node"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateContainerConfig(const ContainerConfig& config,
                                     const PodContext& pod,
                                     const ContainerLimits& limits) {
  RETURN_IF_ERROR(CheckMetadata(config, limits));
  RETURN_IF_ERROR(CheckProcess(config, limits));
  RETURN_IF_ERROR(CheckMounts(config, limits));
  RETURN_IF_ERROR(CheckLabels(config, limits));
  RETURN_IF_ERROR(CheckResources(config.resources));
  RETURN_IF_ERROR(CheckSecurity(config.security, pod, limits));
  RETURN_IF_ERROR(CheckBidirectionalInUserns(config, pod));
  RETURN_IF_ERROR(CheckHostPaths(config));
  return CheckPropagation(config);
}

HostPropagation HostPropagationOf(absl::string_view mountinfo,
                                  absl::string_view path) {
  HostPropagation out = HostPropagation::kPrivate;
  size_t best = 0;
  bool found = false;
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    // id parent major:minor root mount-point options [optional...] - ...
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    if (f.size() < 7) continue;
    std::string point = sys::UnescapeMountInfoField(f[4]);
    if (!IsAtOrBelow(path, point)) continue;
    if (found && point.size() < best) continue;
    found = true;
    best = point.size();
    bool shared = false, slave = false;
    for (size_t i = 6; i < f.size() && f[i] != "-"; ++i) {
      shared = shared || absl::StartsWith(f[i], "shared:");
      slave = slave || absl::StartsWith(f[i], "master:");
    }
    out = shared  ? HostPropagation::kShared
          : slave ? HostPropagation::kSlave
                  : HostPropagation::kPrivate;
  }
  return out;
}

}  // namespace podsandbox::container
