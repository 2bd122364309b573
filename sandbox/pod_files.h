// The files a pod's containers share from the sandbox: hostname,
// resolv.conf and hosts, written under the sandbox's own directory before
// the pause task starts, and owned by the pod's root when the pod has a user
// namespace (host root's files would be read-only, or unreadable, inside).
//
// The directory itself stays root's (0755) even then: a host process
// running as the pod root's uid may write the files, but can never rename,
// replace or add an entry in the directory, so nothing it does there can
// redirect a write or a removal of ours (RemoveTree never follows links
// either).
#ifndef PODSANDBOX_SANDBOX_POD_FILES_H_
#define PODSANDBOX_SANDBOX_POD_FILES_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "sandbox/pod_config.h"
#include "sys/sys.h"

namespace podsandbox::sandbox {

struct PodFileOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// resolv.conf's text from the pod's DNS config; empty when the config has
// none (then the host's file is used).
std::string ResolvConfText(const DnsConfig& dns);

// hosts' text: loopback names, and `hostname` on each pod IP.
std::string HostsText(absl::string_view hostname,
                      const std::vector<std::string>& ips);

// Creates `dir` (root's, 0755) and writes the three files into it, each
// atomically. With `owner`, the files (not the directory) belong to that
// host uid/gid (the pod's root). `host_resolv_conf` is read when the config
// has no DNS settings. Atomic: on failure `dir` is removed.
absl::Status WritePodFiles(
    sys::Sys& sys, const std::string& dir, const PodConfig& config,
    absl::string_view hostname, const std::vector<std::string>& ips,
    std::optional<PodFileOwner> owner,
    absl::string_view host_resolv_conf = "/etc/resolv.conf");

// Removes `dir` and its files. Idempotent.
absl::Status RemovePodFiles(sys::Sys& sys, const std::string& dir);

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_POD_FILES_H_
