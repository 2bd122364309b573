#include "cri/convert.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cri/api.pb.h"
#include "sandbox/controller.h"
#include "sandbox/pod_config.h"
#include "userns/id_mapping.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

constexpr absl::string_view kNamespaceOptions =
    "config.linux.security_context.namespace_options";

absl::Status UnknownValue(absl::string_view field, int value) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": unknown value ", value));
}

// Range-checks a wire NamespaceMode; the library's enum shares the CRI's
// numbering, so a checked value converts with a cast.
absl::StatusOr<sandbox::NamespaceMode> ToMode(int value,
                                              absl::string_view field) {
  if (!v1::NamespaceMode_IsValid(value)) return UnknownValue(field, value);
  return static_cast<sandbox::NamespaceMode>(value);
}

std::vector<userns::IdMapping> FromCri(
    const google::protobuf::RepeatedPtrField<v1::IDMapping>& mappings) {
  std::vector<userns::IdMapping> out;
  out.reserve(mappings.size());
  for (const v1::IDMapping& m : mappings) {
    out.push_back({m.container_id(), m.host_id(), m.length()});
  }
  return out;
}

void ToCri(const std::vector<userns::IdMapping>& mappings,
           google::protobuf::RepeatedPtrField<v1::IDMapping>* out) {
  for (const userns::IdMapping& m : mappings) {
    v1::IDMapping* wire = out->Add();
    wire->set_container_id(m.container_id);
    wire->set_host_id(m.host_id);
    wire->set_length(m.length);
  }
}

absl::StatusOr<sandbox::NamespaceOptions> FromCri(
    const v1::NamespaceOption& wire) {
  sandbox::NamespaceOptions out;
  auto field = [](absl::string_view name) {
    return absl::StrCat(kNamespaceOptions, ".", name);
  };
  absl::StatusOr<sandbox::NamespaceMode> mode =
      ToMode(wire.network(), field("network"));
  if (!mode.ok()) return mode.status();
  out.network = *mode;
  mode = ToMode(wire.pid(), field("pid"));
  if (!mode.ok()) return mode.status();
  out.pid = *mode;
  mode = ToMode(wire.ipc(), field("ipc"));
  if (!mode.ok()) return mode.status();
  out.ipc = *mode;
  if (wire.has_userns_options()) {
    const v1::UserNamespace& userns = wire.userns_options();
    mode = ToMode(userns.mode(), field("userns_options.mode"));
    if (!mode.ok()) return mode.status();
    out.userns.mode = *mode;
    out.userns.mappings.uids = FromCri(userns.uids());
    out.userns.mappings.gids = FromCri(userns.gids());
  } else {
    out.userns.mode = sandbox::NamespaceMode::kNode;
  }
  return out;
}

template <typename Map>
std::map<std::string, std::string> ToStdMap(const Map& map) {
  return std::map<std::string, std::string>(map.begin(), map.end());
}

template <typename Map>
void CopyMap(const std::map<std::string, std::string>& from, Map* to) {
  for (const auto& [key, value] : from) (*to)[key] = value;
}

}  // namespace

absl::StatusOr<sandbox::PodConfig> FromCri(const v1::PodSandboxConfig& config) {
  sandbox::PodConfig out;
  out.metadata.name = config.metadata().name();
  out.metadata.uid = config.metadata().uid();
  out.metadata.namespace_ = config.metadata().namespace_();
  out.metadata.attempt = config.metadata().attempt();
  out.hostname = config.hostname();
  out.log_directory = config.log_directory();
  const v1::DNSConfig& dns = config.dns_config();
  out.dns.servers.assign(dns.servers().begin(), dns.servers().end());
  out.dns.searches.assign(dns.searches().begin(), dns.searches().end());
  out.dns.options.assign(dns.options().begin(), dns.options().end());
  for (int i = 0; i < config.port_mappings_size(); ++i) {
    const v1::PortMapping& wire = config.port_mappings(i);
    if (!v1::Protocol_IsValid(wire.protocol())) {
      return UnknownValue(
          absl::StrCat("config.port_mappings[", i, "].protocol"),
          wire.protocol());
    }
    sandbox::PortMapping port;
    port.protocol = static_cast<sandbox::Protocol>(wire.protocol());
    port.container_port = wire.container_port();
    port.host_port = wire.host_port();
    port.host_ip = wire.host_ip();
    out.port_mappings.push_back(std::move(port));
  }
  out.labels = ToStdMap(config.labels());
  out.annotations = ToStdMap(config.annotations());
  const v1::LinuxPodSandboxConfig& linux_config = config.linux();
  out.cgroup_parent = linux_config.cgroup_parent();
  out.sysctls = ToStdMap(linux_config.sysctls());
  out.privileged = linux_config.security_context().privileged();
  absl::StatusOr<sandbox::NamespaceOptions> namespaces =
      FromCri(linux_config.security_context().namespace_options());
  if (!namespaces.ok()) return namespaces.status();
  out.namespaces = *std::move(namespaces);
  return out;
}

absl::StatusOr<sandbox::ListFilter> FromCri(
    const v1::PodSandboxFilter& filter) {
  sandbox::ListFilter out;
  if (!filter.id().empty()) out.id = filter.id();
  if (filter.has_state()) {
    const int state = filter.state().state();
    if (!v1::PodSandboxState_IsValid(state)) {
      return UnknownValue("filter.state.state", state);
    }
    out.state = static_cast<sandbox::SandboxState>(state);
  }
  out.label_selector = ToStdMap(filter.label_selector());
  return out;
}

v1::PodSandboxMetadata ToCriMetadata(const sandbox::PodMetadata& metadata) {
  v1::PodSandboxMetadata out;
  out.set_name(metadata.name);
  out.set_uid(metadata.uid);
  out.set_namespace_(metadata.namespace_);
  out.set_attempt(metadata.attempt);
  return out;
}

v1::NamespaceOption ToCriNamespaceOption(
    const sandbox::NamespaceOptions& namespaces) {
  v1::NamespaceOption out;
  out.set_network(static_cast<v1::NamespaceMode>(namespaces.network));
  out.set_pid(static_cast<v1::NamespaceMode>(namespaces.pid));
  out.set_ipc(static_cast<v1::NamespaceMode>(namespaces.ipc));
  v1::UserNamespace* userns = out.mutable_userns_options();
  userns->set_mode(static_cast<v1::NamespaceMode>(namespaces.userns.mode));
  ToCri(namespaces.userns.mappings.uids, userns->mutable_uids());
  ToCri(namespaces.userns.mappings.gids, userns->mutable_gids());
  return out;
}

v1::PodSandboxConfig ToCri(const sandbox::PodConfig& config) {
  v1::PodSandboxConfig out;
  *out.mutable_metadata() = ToCriMetadata(config.metadata);
  out.set_hostname(config.hostname);
  out.set_log_directory(config.log_directory);
  v1::DNSConfig* dns = out.mutable_dns_config();
  for (const std::string& s : config.dns.servers) dns->add_servers(s);
  for (const std::string& s : config.dns.searches) dns->add_searches(s);
  for (const std::string& s : config.dns.options) dns->add_options(s);
  for (const sandbox::PortMapping& port : config.port_mappings) {
    v1::PortMapping* wire = out.add_port_mappings();
    wire->set_protocol(static_cast<v1::Protocol>(port.protocol));
    wire->set_container_port(port.container_port);
    wire->set_host_port(port.host_port);
    wire->set_host_ip(port.host_ip);
  }
  CopyMap(config.labels, out.mutable_labels());
  CopyMap(config.annotations, out.mutable_annotations());
  v1::LinuxPodSandboxConfig* linux_config = out.mutable_linux();
  linux_config->set_cgroup_parent(config.cgroup_parent);
  CopyMap(config.sysctls, linux_config->mutable_sysctls());
  v1::LinuxSandboxSecurityContext* security =
      linux_config->mutable_security_context();
  security->set_privileged(config.privileged);
  *security->mutable_namespace_options() =
      ToCriNamespaceOption(config.namespaces);
  return out;
}

v1::PodSandboxState ToCriState(sandbox::SandboxState state) {
  return state == sandbox::SandboxState::kReady ? v1::SANDBOX_READY
                                                : v1::SANDBOX_NOTREADY;
}

v1::PodSandboxStatus ToCriStatus(const sandbox::SandboxStatus& status) {
  v1::PodSandboxStatus out;
  out.set_id(status.id);
  *out.mutable_metadata() = ToCriMetadata(status.config.metadata);
  out.set_state(ToCriState(status.state));
  out.set_created_at(absl::ToUnixNanos(status.created_at));
  v1::PodSandboxNetworkStatus* network = out.mutable_network();
  network->set_ip(status.ip);
  for (const std::string& ip : status.additional_ips) {
    network->add_additional_ips()->set_ip(ip);
  }
  *out.mutable_linux()->mutable_namespaces()->mutable_options() =
      ToCriNamespaceOption(status.config.namespaces);
  CopyMap(status.config.labels, out.mutable_labels());
  CopyMap(status.config.annotations, out.mutable_annotations());
  out.set_runtime_handler(status.runtime_handler);
  return out;
}

v1::PodSandbox ToCriPodSandbox(const sandbox::SandboxStatus& status) {
  v1::PodSandbox out;
  out.set_id(status.id);
  *out.mutable_metadata() = ToCriMetadata(status.config.metadata);
  out.set_state(ToCriState(status.state));
  out.set_created_at(absl::ToUnixNanos(status.created_at));
  CopyMap(status.config.labels, out.mutable_labels());
  CopyMap(status.config.annotations, out.mutable_annotations());
  out.set_runtime_handler(status.runtime_handler);
  return out;
}

}  // namespace podsandbox::cri
