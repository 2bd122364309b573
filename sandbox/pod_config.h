// A pod sandbox's configuration as the library sees it: the fields of CRI
// v1's PodSandboxConfig that a sandbox needs, as plain C++ types, so nothing
// below cri/ knows gRPC. cri/ translates to and from the wire types.
//
// Enum values mirror the CRI's numbering, so cri/ converts with a cast after
// a range check.
#ifndef PODSANDBOX_SANDBOX_POD_CONFIG_H_
#define PODSANDBOX_SANDBOX_POD_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "userns/id_mapping.h"

namespace podsandbox::sandbox {

// CRI NamespaceMode: POD = 0, CONTAINER = 1, NODE = 2, TARGET = 3.
enum class NamespaceMode { kPod = 0, kContainer = 1, kNode = 2, kTarget = 3 };

// CRI Protocol: TCP = 0, UDP = 1, SCTP = 2.
enum class Protocol { kTcp = 0, kUdp = 1, kSctp = 2 };

struct PodMetadata {
  std::string name;
  std::string uid;
  std::string namespace_;  // CRI's `namespace`
  uint32_t attempt = 0;

  friend bool operator==(const PodMetadata& a, const PodMetadata& b) {
    return a.name == b.name && a.uid == b.uid && a.namespace_ == b.namespace_ &&
           a.attempt == b.attempt;
  }
};

struct DnsConfig {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;

  friend bool operator==(const DnsConfig& a, const DnsConfig& b) {
    return a.servers == b.servers && a.searches == b.searches &&
           a.options == b.options;
  }
};

struct PortMapping {
  Protocol protocol = Protocol::kTcp;
  int32_t container_port = 0;
  int32_t host_port = 0;
  std::string host_ip;

  friend bool operator==(const PortMapping& a, const PortMapping& b) {
    return a.protocol == b.protocol && a.container_port == b.container_port &&
           a.host_port == b.host_port && a.host_ip == b.host_ip;
  }
};

struct UserNamespaceOptions {
  // kNode: the host's user namespace (no mappings). kPod: a user namespace
  // of the pod's own, with `mappings`.
  NamespaceMode mode = NamespaceMode::kNode;
  userns::IdMappings mappings;

  friend bool operator==(const UserNamespaceOptions& a,
                         const UserNamespaceOptions& b) {
    return a.mode == b.mode && a.mappings == b.mappings;
  }
};

struct NamespaceOptions {
  NamespaceMode network = NamespaceMode::kPod;
  NamespaceMode pid = NamespaceMode::kPod;
  NamespaceMode ipc = NamespaceMode::kPod;
  UserNamespaceOptions userns;

  friend bool operator==(const NamespaceOptions& a, const NamespaceOptions& b) {
    return a.network == b.network && a.pid == b.pid && a.ipc == b.ipc &&
           a.userns == b.userns;
  }
};

struct PodConfig {
  PodMetadata metadata;
  std::string hostname;
  std::string log_directory;
  DnsConfig dns;
  std::vector<PortMapping> port_mappings;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string cgroup_parent;
  std::map<std::string, std::string> sysctls;
  NamespaceOptions namespaces;
  bool privileged = false;

  bool user_namespaced() const {
    return namespaces.userns.mode == NamespaceMode::kPod;
  }
  bool host_network() const {
    return namespaces.network == NamespaceMode::kNode;
  }

  friend bool operator==(const PodConfig& a, const PodConfig& b) {
    return a.metadata == b.metadata && a.hostname == b.hostname &&
           a.log_directory == b.log_directory && a.dns == b.dns &&
           a.port_mappings == b.port_mappings && a.labels == b.labels &&
           a.annotations == b.annotations &&
           a.cgroup_parent == b.cgroup_parent && a.sysctls == b.sysctls &&
           a.namespaces == b.namespaces && a.privileged == b.privileged;
  }
};

// Bounds on what one request may ask for, checked before any side effect
// with the rest of the config (sandbox/validation.h). The defaults are far
// above anything kubelet sends; they exist so that one request cannot make
// the daemon write megabytes of records, resolv.conf lines or iptables
// rules.
struct PodLimits {
  // Labels and annotations together, keys and values: the API server caps
  // annotations at 256 KiB and labels are small; kubelet adds a few of
  // each.
  size_t max_label_annotation_bytes = 1 << 20;
  // Kubelet passes every container port of the pod, and the API sets no
  // count; a pod with thousands of ports is not a pod kubelet runs.
  size_t max_port_mappings = 4096;
  // Pod sysctls: the kernel namespaces a few hundred at most.
  size_t max_sysctls = 1024;
  // DNS servers, searches and options together: kubelet sends at most 3
  // servers and 32 searches.
  size_t max_dns_entries = 256;
  // cgroup_parent must be this cgroupfs path or below it; "/" allows any.
  std::string cgroup_parent_prefix = "/";
};

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_POD_CONFIG_H_
