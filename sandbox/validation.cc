#include "sandbox/validation.h"

#include <arpa/inet.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "sys/status.h"

namespace podsandbox::sandbox {
namespace {

constexpr absl::string_view kNamespaceOptions =
    "config.linux.security_context.namespace_options";

absl::Status Invalid(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

bool IsIpAddress(absl::string_view text) {
  std::string address(text);
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, address.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

absl::Status ValidateMetadata(const PodMetadata& metadata) {
  if (metadata.name.empty()) {
    return Invalid("config.metadata.name", "must not be empty");
  }
  if (metadata.namespace_.empty()) {
    return Invalid("config.metadata.namespace", "must not be empty");
  }
  if (metadata.uid.empty()) {
    return Invalid("config.metadata.uid", "must not be empty");
  }
  return absl::OkStatus();
}

// RFC 1123 label: what sethostname(2) accepts is looser, but anything else
// breaks DNS for the pod.
absl::Status ValidateHostname(absl::string_view hostname) {
  if (hostname.empty()) return absl::OkStatus();
  if (hostname.size() > 63) {
    return Invalid("config.hostname",
                   absl::StrCat("is ", hostname.size(),
                                " characters; a DNS label has at most 63"));
  }
  for (char c : hostname) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return Invalid("config.hostname",
                     "must contain only a-z, 0-9 and '-' (a DNS label)");
    }
  }
  if (hostname.front() == '-' || hostname.back() == '-') {
    return Invalid("config.hostname", "must not start or end with '-'");
  }
  return absl::OkStatus();
}

absl::Status ValidateDns(const DnsConfig& dns) {
  for (size_t i = 0; i < dns.servers.size(); ++i) {
    if (!IsIpAddress(dns.servers[i])) {
      return Invalid(absl::StrCat("config.dns_config.servers[", i, "]"),
                     absl::StrCat("\"", dns.servers[i],
                                  "\" is not an IPv4 or IPv6 address"));
    }
  }
  for (size_t i = 0; i < dns.searches.size(); ++i) {
    if (absl::StrContains(dns.searches[i], '\n')) {
      return Invalid(absl::StrCat("config.dns_config.searches[", i, "]"),
                     "must not contain a newline");
    }
  }
  for (size_t i = 0; i < dns.options.size(); ++i) {
    if (absl::StrContains(dns.options[i], '\n')) {
      return Invalid(absl::StrCat("config.dns_config.options[", i, "]"),
                     "must not contain a newline");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePortMappings(const std::vector<PortMapping>& ports) {
  for (size_t i = 0; i < ports.size(); ++i) {
    const PortMapping& p = ports[i];
    std::string field = absl::StrCat("config.port_mappings[", i, "]");
    int protocol = static_cast<int>(p.protocol);
    if (protocol < 0 || protocol > static_cast<int>(Protocol::kSctp)) {
      return Invalid(absl::StrCat(field, ".protocol"),
                     absl::StrCat("unknown protocol ", protocol,
                                  "; want TCP, UDP or SCTP"));
    }
    if (p.container_port <= 0 || p.container_port > 65535) {
      return Invalid(absl::StrCat(field, ".container_port"),
                     absl::StrCat(p.container_port, " is not in 1-65535"));
    }
    if (p.host_port < 0 || p.host_port > 65535) {
      return Invalid(absl::StrCat(field, ".host_port"),
                     absl::StrCat(p.host_port, " is not in 0-65535"));
    }
    if (!p.host_ip.empty() && !IsIpAddress(p.host_ip)) {
      return Invalid(
          absl::StrCat(field, ".host_ip"),
          absl::StrCat("\"", p.host_ip, "\" is not an IPv4 or IPv6 address"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateNamespaceModes(const NamespaceOptions& ns,
                                    const userns::MappingPolicy& policy) {
  // The sandbox owns the pod's namespaces: network and IPC are the pod's or
  // the node's. CONTAINER and TARGET only make sense for containers.
  auto pod_or_node = [](NamespaceMode mode) {
    return mode == NamespaceMode::kPod || mode == NamespaceMode::kNode;
  };
  if (!pod_or_node(ns.network)) {
    return Invalid(absl::StrCat(kNamespaceOptions, ".network"),
                   "must be POD or NODE for a pod sandbox");
  }
  if (!pod_or_node(ns.ipc)) {
    return Invalid(absl::StrCat(kNamespaceOptions, ".ipc"),
                   "must be POD or NODE for a pod sandbox");
  }
  // pid CONTAINER means each container gets its own; the pause still needs
  // one, which it gets as with POD.
  if (ns.pid != NamespaceMode::kPod && ns.pid != NamespaceMode::kContainer &&
      ns.pid != NamespaceMode::kNode) {
    return Invalid(absl::StrCat(kNamespaceOptions, ".pid"),
                   "must be POD, CONTAINER or NODE for a pod sandbox");
  }
  std::string userns_field = absl::StrCat(kNamespaceOptions, ".userns_options");
  const UserNamespaceOptions& user = ns.userns;
  switch (user.mode) {
    case NamespaceMode::kNode:
      if (!user.mappings.uids.empty() || !user.mappings.gids.empty()) {
        return Invalid(userns_field,
                       "mode NODE (the host's user namespace) takes no uid "
                       "or gid mappings");
      }
      return absl::OkStatus();
    case NamespaceMode::kPod:
      return userns::ValidateMappings(user.mappings, policy, userns_field);
    case NamespaceMode::kContainer:
    case NamespaceMode::kTarget:
      return Invalid(absl::StrCat(userns_field, ".mode"),
                     "only POD and NODE are supported for a pod sandbox");
  }
  return Invalid(absl::StrCat(userns_field, ".mode"),
                 absl::StrCat("unknown mode ", static_cast<int>(user.mode)));
}

bool IsSysctlSegment(absl::string_view segment) {
  if (segment.empty()) return false;
  for (char c : segment) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string CanonicalSysctlName(absl::string_view name) {
  return absl::StrReplaceAll(name, {{"/", "."}});
}

absl::Status ValidateSysctl(absl::string_view name, absl::string_view value,
                            const NamespaceOptions& namespaces) {
  std::string field = absl::StrCat("config.linux.sysctls[\"", name, "\"]");
  // Splitting on both separators, every segment must be a plain word: that
  // rules out "..", leading or doubled separators and any path trick.
  for (absl::string_view segment :
       absl::StrSplit(name, absl::ByAnyChar("./"))) {
    if (!IsSysctlSegment(segment)) {
      return Invalid(field,
                     "name must be [a-z0-9_] segments joined by '.' or '/'");
    }
  }
  if (absl::StrContains(value, '\n')) {
    return Invalid(field, "value must not contain a newline");
  }
  std::string canonical = CanonicalSysctlName(name);
  if (absl::StartsWith(canonical, "net.")) {
    if (namespaces.network != NamespaceMode::kPod) {
      return Invalid(field,
                     "net.* sysctls need the pod's own network namespace; "
                     "with host network they would change the host");
    }
    return absl::OkStatus();
  }
  bool ipc = absl::StartsWith(canonical, "kernel.shm") ||
             absl::StartsWith(canonical, "kernel.msg") ||
             canonical == "kernel.sem" ||
             absl::StartsWith(canonical, "fs.mqueue.");
  if (ipc) {
    if (namespaces.ipc != NamespaceMode::kPod) {
      return Invalid(field,
                     "IPC sysctls need the pod's own IPC namespace; with "
                     "host IPC they would change the host");
    }
    return absl::OkStatus();
  }
  return Invalid(field,
                 "not a namespaced sysctl; setting it would change the host");
}

absl::Status ValidatePodConfig(const PodConfig& config,
                               const userns::MappingPolicy& policy) {
  RETURN_IF_ERROR(ValidateMetadata(config.metadata));
  RETURN_IF_ERROR(ValidateHostname(config.hostname));
  RETURN_IF_ERROR(ValidateDns(config.dns));
  RETURN_IF_ERROR(ValidatePortMappings(config.port_mappings));
  RETURN_IF_ERROR(ValidateNamespaceModes(config.namespaces, policy));
  for (const auto& [name, value] : config.sysctls) {
    RETURN_IF_ERROR(ValidateSysctl(name, value, config.namespaces));
  }
  return absl::OkStatus();
}

}  // namespace podsandbox::sandbox
