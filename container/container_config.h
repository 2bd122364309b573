// A container's configuration as the library sees it: the fields of CRI v1's
// ContainerConfig (and its LinuxContainerConfig) that a container needs, as
// plain C++ types, so nothing below cri/ knows gRPC. cri/container_convert
// fills it from the wire; container/validation checks it before any side
// effect; container/spec turns it into config.json.
//
// The values are what the client sent, unchanged: defaults (the image's
// entrypoint, the default capability set, the Kubernetes masked paths...)
// are applied by container/spec, never here. Enum values mirror the CRI's
// numbering, so cri/ converts with a cast after a range check.
#ifndef PODSANDBOX_CONTAINER_CONTAINER_CONFIG_H_
#define PODSANDBOX_CONTAINER_CONTAINER_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace podsandbox::container {

struct ContainerMetadata {
  std::string name;
  uint32_t attempt = 0;

  friend bool operator==(const ContainerMetadata& a,
                         const ContainerMetadata& b) {
    return a.name == b.name && a.attempt == b.attempt;
  }
};

// CRI MountPropagation: PRIVATE = 0, HOST_TO_CONTAINER = 1,
// BIDIRECTIONAL = 2.
enum class MountPropagation {
  kPrivate = 0,
  kHostToContainer = 1,
  kBidirectional = 2,
};

// A bind mount of a host path into the container. selinux_relabel is
// ignored (no SELinux here); id-mapped and image volume mounts are refused
// by cri/ before they get here.
struct Mount {
  std::string container_path;
  std::string host_path;
  bool readonly = false;
  // Recursively read-only (mount_setattr AT_RECURSIVE, runc >= 1.1 "rro").
  bool recursive_read_only = false;
  MountPropagation propagation = MountPropagation::kPrivate;

  friend bool operator==(const Mount& a, const Mount& b) {
    return a.container_path == b.container_path && a.host_path == b.host_path &&
           a.readonly == b.readonly &&
           a.recursive_read_only == b.recursive_read_only &&
           a.propagation == b.propagation;
  }
};

// A host device node made available in the container.
struct Device {
  std::string container_path;
  std::string host_path;
  // cgroup device permissions: a non-empty subset of "rwm".
  std::string permissions;

  friend bool operator==(const Device& a, const Device& b) {
    return a.container_path == b.container_path && a.host_path == b.host_path &&
           a.permissions == b.permissions;
  }
};

struct KeyValue {
  std::string key;
  std::string value;

  friend bool operator==(const KeyValue& a, const KeyValue& b) {
    return a.key == b.key && a.value == b.value;
  }
};

// CRI LinuxContainerResources. Zero means "not set" for every number, as on
// the wire. hugepage_limits and unified are not kept: cri/ says so when
// they are set (hugepages: the pod cgroup carries them; unified: no cgroup
// v2 passthrough yet).
struct Resources {
  int64_t cpu_period = 0;  // microseconds
  int64_t cpu_quota = 0;   // microseconds per period; 0 or -1: unlimited
  int64_t cpu_shares = 0;  // cgroup v1 shares, 2..262144
  int64_t memory_limit_in_bytes = 0;
  int64_t memory_swap_limit_in_bytes = 0;
  int64_t oom_score_adj = 0;  // -1000..1000
  std::string cpuset_cpus;    // "0-3,5"
  std::string cpuset_mems;

  friend bool operator==(const Resources& a, const Resources& b) {
    return a.cpu_period == b.cpu_period && a.cpu_quota == b.cpu_quota &&
           a.cpu_shares == b.cpu_shares &&
           a.memory_limit_in_bytes == b.memory_limit_in_bytes &&
           a.memory_swap_limit_in_bytes == b.memory_swap_limit_in_bytes &&
           a.oom_score_adj == b.oom_score_adj &&
           a.cpuset_cpus == b.cpuset_cpus && a.cpuset_mems == b.cpuset_mems;
  }
};

// CRI SecurityProfile.ProfileType: RuntimeDefault = 0, Unconfined = 1,
// Localhost = 2.
enum class ProfileType { kRuntimeDefault = 0, kUnconfined = 1, kLocalhost = 2 };

struct SecurityProfile {
  // RuntimeDefault: the confined choice for code that builds a config
  // itself (bench, tests: spec_test's default spec expects the default
  // seccomp filter). A CRI request with no seccomp field means Unconfined
  // instead, as in containerd 1.6 and as critest checks:
  // cri/container_convert.cc sets that explicitly, so the daemon never
  // relies on this default (kubelet always sends the field anyway).
  ProfileType type = ProfileType::kRuntimeDefault;
  // For kLocalhost: an absolute path on the host (seccomp: a JSON profile
  // file; apparmor: a profile name, loaded already).
  std::string localhost_ref;

  friend bool operator==(const SecurityProfile& a, const SecurityProfile& b) {
    return a.type == b.type && a.localhost_ref == b.localhost_ref;
  }
};

struct Capabilities {
  // Names as Kubernetes spells them, with or without "CAP_" ("NET_ADMIN",
  // "CAP_NET_ADMIN"), any case; "ALL" means every capability.
  std::vector<std::string> add;
  std::vector<std::string> drop;

  friend bool operator==(const Capabilities& a, const Capabilities& b) {
    return a.add == b.add && a.drop == b.drop;
  }
};

// CRI LinuxContainerSecurityContext (namespace_options are the pod's: a
// container joins its sandbox's namespaces, see pod_context.h).
struct SecurityContext {
  Capabilities capabilities;
  bool privileged = false;
  // Unset: the image's user (or root when the image names none).
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  // Used when run_as_user is unset; resolved in the image's /etc/passwd.
  std::string run_as_username;
  bool readonly_rootfs = false;
  std::vector<int64_t> supplemental_groups;
  bool no_new_privs = false;
  // As sent. kubelet sends the Kubernetes defaults for procMount Default
  // and two empty lists for procMount Unmasked; what empty lists mean is
  // decided in container/spec.h (they depend on the pod's user namespace).
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  SecurityProfile seccomp;
  // Unset: no apparmor profile requested (runtime default when the host
  // has apparmor).
  std::optional<SecurityProfile> apparmor;

  friend bool operator==(const SecurityContext& a, const SecurityContext& b) {
    return a.capabilities == b.capabilities && a.privileged == b.privileged &&
           a.run_as_user == b.run_as_user && a.run_as_group == b.run_as_group &&
           a.run_as_username == b.run_as_username &&
           a.readonly_rootfs == b.readonly_rootfs &&
           a.supplemental_groups == b.supplemental_groups &&
           a.no_new_privs == b.no_new_privs &&
           a.masked_paths == b.masked_paths &&
           a.readonly_paths == b.readonly_paths && a.seccomp == b.seccomp &&
           a.apparmor == b.apparmor;
  }
};

struct ContainerConfig {
  ContainerMetadata metadata;
  // The image reference as the client sent it (ImageSpec.image): a name,
  // a name@digest or an image id; resolved by the image store.
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::string working_dir;
  std::vector<KeyValue> envs;
  std::vector<Mount> mounts;
  std::vector<Device> devices;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  // Relative to the pod's log_directory (kubelet: "<name>/<attempt>.log").
  std::string log_path;
  // Refused by validation (Unimplemented): they need Attach, a later issue.
  bool stdin_ = false;  // CRI's `stdin` (a macro name in <cstdio>)
  bool stdin_once = false;
  bool tty = false;
  Resources resources;
  SecurityContext security;

  friend bool operator==(const ContainerConfig& a, const ContainerConfig& b) {
    return a.metadata == b.metadata && a.image == b.image &&
           a.command == b.command && a.args == b.args &&
           a.working_dir == b.working_dir && a.envs == b.envs &&
           a.mounts == b.mounts && a.devices == b.devices &&
           a.labels == b.labels && a.annotations == b.annotations &&
           a.log_path == b.log_path && a.stdin_ == b.stdin_ &&
           a.stdin_once == b.stdin_once && a.tty == b.tty &&
           a.resources == b.resources && a.security == b.security;
  }
};

// The ids the container's process runs with, in the container's user
// namespace: the result of container/image_user.h.
struct ProcessUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  // Supplementary groups: the user's groups in the image's /etc/group, then
  // the config's supplemental_groups, without duplicates.
  std::vector<uint32_t> additional_gids;

  friend bool operator==(const ProcessUser& a, const ProcessUser& b) {
    return a.uid == b.uid && a.gid == b.gid &&
           a.additional_gids == b.additional_gids;
  }
};

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_CONTAINER_CONFIG_H_
