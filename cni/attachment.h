// What the runtime attaches to a network: one container's netns, one
// interface name, the pod's identity (CNI_ARGS) and the capability arguments
// that plugins declaring them receive as runtimeConfig (port mappings, DNS).
//
// Validation happens here, before any plugin runs: every value ends up in a
// plugin's environment or a cache file name, so nothing is passed through
// unchecked.
#ifndef PODSANDBOX_CNI_ATTACHMENT_H_
#define PODSANDBOX_CNI_ATTACHMENT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace podsandbox::cni {

// One hostPort -> containerPort forwarding, the "portMappings" capability.
struct PortMapping {
  int32_t host_port = 0;         // 0: not exposed on the host; dropped
  int32_t container_port = 0;    // 1..65535
  std::string protocol = "tcp";  // "tcp", "udp" or "sctp", lower case
  std::string host_ip;           // empty: every host address
};

// The "dns" capability.
struct DnsArgs {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;

  bool empty() const {
    return servers.empty() && searches.empty() && options.empty();
  }
};

struct Attachment {
  std::string container_id;  // the sandbox id: CNI_CONTAINERID
  std::string netns;         // the netns pin: CNI_NETNS
  std::string ifname = "eth0";
  std::string pod_namespace;
  std::string pod_name;
  std::string pod_uid;
  std::vector<PortMapping> port_mappings;
  DnsArgs dns;
};

// Whether `s` matches ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$, the spec's rule for
// container ids and network names (both end up in cache file names).
bool IsValidCniIdentifier(absl::string_view s);

// InvalidArgument naming the field when `a` cannot be passed to plugins:
// container_id must match ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$, ifname must be 1..15
// characters without '/', ':' or whitespace (and not "." or ".."), netns
// must be an absolute path (it may be empty only when `for_del`), pod fields
// must not contain ';' or '=' (CNI_ARGS separators), port mappings must have
// ports in 1..65535 and a known protocol.
absl::Status ValidateAttachment(const Attachment& a, bool for_del);

// The CNI_ARGS pairs CRI runtimes send: IgnoreUnknown=1 (so plugins accept
// the K8S_* keys they do not know) and the pod's identity.
std::vector<std::pair<std::string, std::string>> CniArgs(const Attachment& a);

// "K=V;K=V" for CNI_ARGS.
std::string JoinCniArgs(
    const std::vector<std::pair<std::string, std::string>>& args);

// The capability arguments as the runtimeConfig keys the conventions name:
// {"portMappings": [...], "dns": {...}}. Entries with host_port 0 are left
// out; empty capabilities are omitted.
nlohmann::json CapabilityArgs(const Attachment& a);

}  // namespace podsandbox::cni

#endif  // PODSANDBOX_CNI_ATTACHMENT_H_
