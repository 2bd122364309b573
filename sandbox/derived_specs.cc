#include "sandbox/derived_specs.h"

#include "oci/spec.h"

namespace podsandbox::sandbox {
namespace {

const char* ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kSctp:
      return "sctp";
  }
  return "tcp";
}

}  // namespace

oci::TaskSpec TaskSpecFor(const SandboxRecord& record, int oom_score_adj) {
  const PodConfig& config = record.config;
  oci::TaskSpec spec;
  spec.sandbox_id = record.id;
  spec.pod_name = config.metadata.name;
  spec.pod_namespace = config.metadata.namespace_;
  spec.pod_uid = config.metadata.uid;
  spec.hostname = config.hostname;
  spec.netns_path = record.netns_pin;
  if (config.user_namespaced()) {
    spec.id_mappings = config.namespaces.userns.mappings;
    spec.userns_path = record.userns_pin;
  }
  spec.host_pid = config.namespaces.pid == NamespaceMode::kNode;
  spec.host_ipc = config.namespaces.ipc == NamespaceMode::kNode;
  spec.host_mqueue = spec.host_ipc && oci::IsMqueueMount("/dev/mqueue");
  spec.privileged = config.privileged;
  spec.cgroup_parent = config.cgroup_parent;
  spec.sysctls = config.sysctls;
  spec.oom_score_adj = oom_score_adj;
  return spec;
}

cni::Attachment AttachmentFor(const SandboxRecord& record) {
  const PodConfig& config = record.config;
  cni::Attachment a;
  a.container_id = record.id;
  a.netns = record.netns_pin;
  a.pod_namespace = config.metadata.namespace_;
  a.pod_name = config.metadata.name;
  a.pod_uid = config.metadata.uid;
  for (const PortMapping& p : config.port_mappings) {
    // Only published ports go to portmap; the rest are informational.
    if (p.host_port <= 0) continue;
    a.port_mappings.push_back(
        {p.host_port, p.container_port, ProtocolName(p.protocol), p.host_ip});
  }
  a.dns = {config.dns.servers, config.dns.searches, config.dns.options};
  return a;
}

std::optional<PodFileOwner> PodRootOwner(const PodConfig& config) {
  if (!config.user_namespaced()) return std::nullopt;
  const userns::IdMappings& maps = config.namespaces.userns.mappings;
  std::optional<uint32_t> uid = userns::ToHostId(maps.uids, 0);
  std::optional<uint32_t> gid = userns::ToHostId(maps.gids, 0);
  if (!uid.has_value() || !gid.has_value()) return std::nullopt;
  return PodFileOwner{*uid, *gid};
}

}  // namespace podsandbox::sandbox
