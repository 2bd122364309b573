#include "cni/attachment.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace podsandbox::cni {
namespace {

// IFNAMSIZ - 1: the kernel's limit on interface names.
constexpr size_t kMaxIfnameLength = 15;

absl::Status ValidateIfname(absl::string_view ifname) {
  if (ifname.empty() || ifname.size() > kMaxIfnameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("ifname \"", ifname, "\": must be 1 to ", kMaxIfnameLength,
                     " characters"));
  }
  if (ifname == "." || ifname == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("ifname \"", ifname, "\": not a valid interface name"));
  }
  for (char c : ifname) {
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ifname \"", ifname, "\": must not contain '/', ':' or spaces"));
    }
  }
  return absl::OkStatus();
}

// CNI_ARGS is "K=V;K=V" with no escaping, so a value holding either
// separator would smuggle in another key.
absl::Status ValidateArgValue(absl::string_view field, absl::string_view v) {
  if (v.find_first_of(";=") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", v, "\": must not contain ';' or '='"));
  }
  return absl::OkStatus();
}

absl::Status ValidatePortMapping(size_t i, const PortMapping& m) {
  std::string field = absl::StrCat("port_mappings[", i, "]");
  if (m.host_port < 0 || m.host_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".host_port: must be 0 to 65535"));
  }
  if (m.container_port < 1 || m.container_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".container_port: must be 1 to 65535"));
  }
  if (m.protocol != "tcp" && m.protocol != "udp" && m.protocol != "sctp") {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".protocol \"", m.protocol,
                     "\": must be tcp, udp or sctp (lower case)"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidCniIdentifier(absl::string_view s) {
  if (s.empty() || !std::isalnum(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

absl::Status ValidateAttachment(const Attachment& a, bool for_del) {
  if (!IsValidCniIdentifier(a.container_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("container_id \"", a.container_id,
                     "\": must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$"));
  }
  if (absl::Status s = ValidateIfname(a.ifname); !s.ok()) return s;
  if (a.netns.empty() ? !for_del : a.netns[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("netns \"", a.netns, "\": must be an absolute path"));
  }
  for (const auto& [field, value] : {std::pair<const char*, const std::string&>{
                                         "pod_namespace", a.pod_namespace},
                                     {"pod_name", a.pod_name},
                                     {"pod_uid", a.pod_uid}}) {
    if (absl::Status s = ValidateArgValue(field, value); !s.ok()) return s;
  }
  for (size_t i = 0; i < a.port_mappings.size(); ++i) {
    if (absl::Status s = ValidatePortMapping(i, a.port_mappings[i]); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

std::vector<std::pair<std::string, std::string>> CniArgs(const Attachment& a) {
  return {{"IgnoreUnknown", "1"},
          {"K8S_POD_NAMESPACE", a.pod_namespace},
          {"K8S_POD_NAME", a.pod_name},
          {"K8S_POD_INFRA_CONTAINER_ID", a.container_id},
          {"K8S_POD_UID", a.pod_uid}};
}

std::string JoinCniArgs(
    const std::vector<std::pair<std::string, std::string>>& args) {
  return absl::StrJoin(args, ";", absl::PairFormatter("="));
}

nlohmann::json CapabilityArgs(const Attachment& a) {
  nlohmann::json caps = nlohmann::json::object();
  nlohmann::json ports = nlohmann::json::array();
  for (const PortMapping& m : a.port_mappings) {
    // Like containerd: a mapping without a host port exposes nothing.
    if (m.host_port == 0) continue;
    nlohmann::json port = {{"hostPort", m.host_port},
                           {"containerPort", m.container_port},
                           {"protocol", m.protocol}};
    if (!m.host_ip.empty()) port["hostIP"] = m.host_ip;
    ports.push_back(std::move(port));
  }
  if (!ports.empty()) caps["portMappings"] = std::move(ports);
  if (!a.dns.empty()) {
    caps["dns"] = {{"servers", a.dns.servers},
                   {"searches", a.dns.searches},
                   {"options", a.dns.options}};
  }
  return caps;
}

}  // namespace podsandbox::cni
