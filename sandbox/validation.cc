#include "sandbox/validation.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

// Kubernetes' longest object name (a DNS subdomain) and label.
constexpr size_t kMaxSubdomain = 253;
constexpr size_t kMaxLabel = 63;
// The longest sysctl value: what one write to /proc/sys takes (a page).
constexpr size_t kMaxSysctlValue = 4096;
// PATH_MAX, for paths we write into specs.
constexpr size_t kMaxPath = 4096;

bool IsControl(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// The first control character of `text`, described for a message, or "".
std::string FindControl(absl::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsControl(text[i])) {
      return absl::StrFormat("control character 0x%02x at byte %d",
                             static_cast<unsigned char>(text[i]), i);
    }
  }
  return "";
}

// Why `text` cannot be a pod's name, namespace or uid ("" when it can).
// CRI asks nothing of them, and critest sends names like
// "PodSandbox-for-create-container-<uuid>", so Kubernetes' DNS rules are
// not imposed. What is refused is what would break their uses: they reach
// CNI_ARGS (';' splits pairs, '=' splits key from value, NUL ends it),
// annotations, logs and the reservation key (joined with spaces).
std::string MetadataTextReason(absl::string_view text, size_t max) {
  if (text.empty()) return "must not be empty";
  if (text.size() > max) {
    return absl::StrCat("is ", text.size(), " bytes; at most ", max);
  }
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c <= ' ' || c > '~' || c == ';' || c == '=') {
      return absl::StrFormat(
          "byte 0x%02x at %d: must be printable ASCII other than space, ';' "
          "and '=' (CNI_ARGS separators)",
          static_cast<unsigned char>(c), i);
    }
  }
  return "";
}

absl::Status ValidateMetadata(const PodMetadata& metadata) {
  const struct {
    absl::string_view field;
    const std::string& text;
    size_t max;
  } texts[] = {
      {"config.metadata.name", metadata.name, kMaxSubdomain},
      {"config.metadata.namespace", metadata.namespace_, kMaxLabel},
      {"config.metadata.uid", metadata.uid, kMaxSubdomain},
  };
  for (const auto& t : texts) {
    if (std::string why = MetadataTextReason(t.text, t.max); !why.empty()) {
      return Invalid(t.field, why);
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateLogDirectory(absl::string_view dir) {
  if (dir.empty()) return absl::OkStatus();
  if (std::string why = UncleanPathReason(dir); !why.empty()) {
    return Invalid("config.log_directory", why);
  }
  return absl::OkStatus();
}

absl::Status ValidateCgroupParent(absl::string_view parent,
                                  absl::string_view prefix) {
  constexpr absl::string_view kField = "config.linux.cgroup_parent";
  if (parent.empty()) return absl::OkStatus();
  if (std::string why = UncleanPathReason(parent); !why.empty()) {
    return Invalid(kField, why);
  }
  if (prefix == "/" || parent == prefix ||
      absl::StartsWith(parent, absl::StrCat(prefix, "/"))) {
    return absl::OkStatus();
  }
  return Invalid(kField, absl::StrCat("must be ", prefix,
                                      " or below it (the configured "
                                      "cgroup_parent_prefix)"));
}

absl::Status ValidateSizes(const PodConfig& config, const PodLimits& limits) {
  size_t bytes = 0;
  for (const auto* map : {&config.labels, &config.annotations}) {
    for (const auto& [key, value] : *map) bytes += key.size() + value.size();
  }
  if (bytes > limits.max_label_annotation_bytes) {
    return Invalid("config.labels, config.annotations",
                   absl::StrCat("are ", bytes, " bytes together; at most ",
                                limits.max_label_annotation_bytes));
  }
  if (config.port_mappings.size() > limits.max_port_mappings) {
    return Invalid(
        "config.port_mappings",
        absl::StrCat("has ", config.port_mappings.size(), " entries; at most ",
                     limits.max_port_mappings));
  }
  if (config.sysctls.size() > limits.max_sysctls) {
    return Invalid("config.linux.sysctls",
                   absl::StrCat("has ", config.sysctls.size(),
                                " entries; at most ", limits.max_sysctls));
  }
  size_t dns = config.dns.servers.size() + config.dns.searches.size() +
               config.dns.options.size();
  if (dns > limits.max_dns_entries) {
    return Invalid(
        "config.dns_config",
        absl::StrCat("has ", dns, " servers, searches and options; at most ",
                     limits.max_dns_entries));
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
  // Each entry becomes one word of a resolv.conf line: whitespace would
  // split it into several, a newline would add a line of its own.
  for (const auto& [list, entries] :
       {std::pair<absl::string_view, const std::vector<std::string>*>{
            "searches", &dns.searches},
        {"options", &dns.options}}) {
    for (size_t i = 0; i < entries->size(); ++i) {
      const std::string& entry = (*entries)[i];
      std::string field = absl::StrCat("config.dns_config.", list, "[", i, "]");
      for (size_t j = 0; j < entry.size(); ++j) {
        if (IsControl(entry[j]) || absl::ascii_isspace(entry[j])) {
          return Invalid(
              field,
              absl::StrFormat("must not contain whitespace or a control "
                              "character (a newline...): byte 0x%02x at %d",
                              static_cast<unsigned char>(entry[j]), j));
        }
      }
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
  // The runtime writes the value to /proc/sys in one write of at most a
  // page; a control character has no meaning in any sysctl.
  if (value.size() > kMaxSysctlValue) {
    return Invalid(field, absl::StrCat("value is ", value.size(),
                                       " bytes; at most ", kMaxSysctlValue));
  }
  if (std::string control = FindControl(value); !control.empty()) {
    return Invalid(field,
                   absl::StrCat("value must not contain a newline or other "
                                "control character: ",
                                control));
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

std::string UncleanPathReason(absl::string_view path) {
  if (path.empty() || path[0] != '/') return "must be an absolute path";
  if (path.size() > kMaxPath) {
    return absl::StrCat("is ", path.size(), " bytes; at most ", kMaxPath);
  }
  if (std::string control = FindControl(path); !control.empty()) {
    return absl::StrCat("must not contain a ", control);
  }
  if (path == "/") return "";
  for (absl::string_view part : absl::StrSplit(path.substr(1), '/')) {
    if (part.empty()) {
      return "must be clean: no \"//\" and no trailing '/'";
    }
    if (part == "." || part == "..") {
      return "must be clean: no \".\" or \"..\" component";
    }
  }
  return "";
}

absl::Status CheckSearchableByOthers(absl::string_view dir) {
  std::vector<std::string> chain = {"/"};
  std::string path;
  for (absl::string_view part : absl::StrSplit(dir, '/', absl::SkipEmpty())) {
    absl::StrAppend(&path, "/", part);
    chain.push_back(path);
  }
  for (const std::string& d : chain) {
    struct stat st;
    if (::stat(d.c_str(), &st) != 0) {
      // What does not exist yet, the controller creates 0711.
      if (errno == ENOENT) return absl::OkStatus();
      return sys::ErrnoError(errno, "stat %s", d);
    }
    if (S_ISDIR(st.st_mode) && (st.st_mode & S_IXOTH) == 0) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "directory %s (mode %04o) needs o+x (chmod o+x %s): the pods' "
          "root, a host uid with no other right, must search it to reach "
          "%s, or every user-namespaced pod fails at create with "
          "\"permission denied\"",
          d, st.st_mode & 07777, d, dir));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePodConfig(const PodConfig& config,
                               const userns::MappingPolicy& policy,
                               const PodLimits& limits) {
  // Sizes first: the per-entry checks below then run over bounded lists.
  RETURN_IF_ERROR(ValidateSizes(config, limits));
  RETURN_IF_ERROR(ValidateMetadata(config.metadata));
  RETURN_IF_ERROR(ValidateHostname(config.hostname));
  RETURN_IF_ERROR(ValidateLogDirectory(config.log_directory));
  RETURN_IF_ERROR(
      ValidateCgroupParent(config.cgroup_parent, limits.cgroup_parent_prefix));
  RETURN_IF_ERROR(ValidateDns(config.dns));
  RETURN_IF_ERROR(ValidatePortMappings(config.port_mappings));
  RETURN_IF_ERROR(ValidateNamespaceModes(config.namespaces, policy));
  for (const auto& [name, value] : config.sysctls) {
    RETURN_IF_ERROR(ValidateSysctl(name, value, config.namespaces));
  }
  return absl::OkStatus();
}

}  // namespace podsandbox::sandbox
