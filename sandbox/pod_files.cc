#include "sandbox/pod_files.h"

#include <fcntl.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::sandbox {
namespace {

absl::Status Chown(sys::Sys& sys, const std::string& path,
                   const PodFileOwner& owner) {
  ASSIGN_OR_RETURN(sys::UniqueFd fd,
                   sys::OpenFile(sys, path, O_RDONLY | O_NOFOLLOW));
  if (sys::SysResult r = sys.Fchown(fd.get(), owner.uid, owner.gid); !r.ok()) {
    return sys::ErrnoError(r.err, "chown %s to %u:%u", path, owner.uid,
                           owner.gid);
  }
  return absl::OkStatus();
}

}  // namespace

std::string ResolvConfText(const DnsConfig& dns) {
  std::string text;
  for (const std::string& server : dns.servers) {
    absl::StrAppend(&text, "nameserver ", server, "\n");
  }
  if (!dns.searches.empty()) {
    absl::StrAppend(&text, "search ", absl::StrJoin(dns.searches, " "), "\n");
  }
  if (!dns.options.empty()) {
    absl::StrAppend(&text, "options ", absl::StrJoin(dns.options, " "), "\n");
  }
  return text;
}

std::string HostsText(absl::string_view hostname,
                      const std::vector<std::string>& ips) {
  std::string text =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n";
  if (!hostname.empty()) {
    for (const std::string& ip : ips) {
      absl::StrAppend(&text, ip, "\t", hostname, "\n");
    }
  }
  return text;
}

absl::Status WritePodFiles(sys::Sys& sys, const std::string& dir,
                           const PodConfig& config, absl::string_view hostname,
                           const std::vector<std::string>& ips,
                           std::optional<PodFileOwner> owner,
                           absl::string_view host_resolv_conf) {
  std::string resolv = ResolvConfText(config.dns);
  if (resolv.empty()) {
    absl::StatusOr<std::string> host = sys::ReadFile(host_resolv_conf);
    // A host without resolv.conf gives the pod none either; that is the
    // host's state, not an error of ours.
    if (!host.ok() && !absl::IsNotFound(host.status())) return host.status();
    if (host.ok()) resolv = *std::move(host);
  }
  RETURN_IF_ERROR(sys::MakeDirs(sys, dir, 0755));
  absl::Cleanup remove = [&sys, &dir] { (void)sys::RemoveTree(sys, dir); };
  const std::pair<const char*, std::string> files[] = {
      {"hostname", absl::StrCat(hostname, "\n")},
      {"resolv.conf", resolv},
      {"hosts", HostsText(hostname, ips)},
  };
  for (const auto& [name, text] : files) {
    std::string path = absl::StrCat(dir, "/", name);
    // Not fsynced: they live under the volatile state dir and matter only
    // while the pause runs, which a reboot ends.
    RETURN_IF_ERROR(sys::WriteFileAtomically(sys, path, text, 0644,
                                             /*durable=*/false));
    if (owner.has_value()) RETURN_IF_ERROR(Chown(sys, path, *owner));
  }
  std::move(remove).Cancel();
  return absl::OkStatus();
}

absl::Status RemovePodFiles(sys::Sys& sys, const std::string& dir) {
  return sys::RemoveTree(sys, dir);
}

}  // namespace podsandbox::sandbox
