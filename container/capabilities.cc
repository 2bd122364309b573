#include "container/capabilities.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace podsandbox::container {

const std::vector<std::string>& AllCapabilities() {
  // Index = capability number (linux/capability.h).
  static const auto* caps = new std::vector<std::string>{
      "CAP_CHOWN",
      "CAP_DAC_OVERRIDE",
      "CAP_DAC_READ_SEARCH",
      "CAP_FOWNER",
      "CAP_FSETID",
      "CAP_KILL",
      "CAP_SETGID",
      "CAP_SETUID",
      "CAP_SETPCAP",
      "CAP_LINUX_IMMUTABLE",
      "CAP_NET_BIND_SERVICE",
      "CAP_NET_BROADCAST",
      "CAP_NET_ADMIN",
      "CAP_NET_RAW",
      "CAP_IPC_LOCK",
      "CAP_IPC_OWNER",
      "CAP_SYS_MODULE",
      "CAP_SYS_RAWIO",
      "CAP_SYS_CHROOT",
      "CAP_SYS_PTRACE",
      "CAP_SYS_PACCT",
      "CAP_SYS_ADMIN",
      "CAP_SYS_BOOT",
      "CAP_SYS_NICE",
      "CAP_SYS_RESOURCE",
      "CAP_SYS_TIME",
      "CAP_SYS_TTY_CONFIG",
      "CAP_MKNOD",
      "CAP_LEASE",
      "CAP_AUDIT_WRITE",
      "CAP_AUDIT_CONTROL",
      "CAP_SETFCAP",
      "CAP_MAC_OVERRIDE",
      "CAP_MAC_ADMIN",
      "CAP_SYSLOG",
      "CAP_WAKE_ALARM",
      "CAP_BLOCK_SUSPEND",
      "CAP_AUDIT_READ",
      "CAP_PERFMON",
      "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE",
  };
  return *caps;
}

const std::vector<std::string>& DefaultCapabilities() {
  static const auto* caps = new std::vector<std::string>{"CAP_CHOWN",
                                                         "CAP_DAC_OVERRIDE",
                                                         "CAP_FSETID",
                                                         "CAP_FOWNER",
                                                         "CAP_MKNOD",
                                                         "CAP_NET_RAW",
                                                         "CAP_SETGID",
                                                         "CAP_SETUID",
                                                         "CAP_SETFCAP",
                                                         "CAP_SETPCAP",
                                                         "CAP_NET_BIND_SERVICE",
                                                         "CAP_SYS_CHROOT",
                                                         "CAP_KILL",
                                                         "CAP_AUDIT_WRITE"};
  return *caps;
}

std::optional<std::string> NormalizeCapability(absl::string_view name) {
  std::string upper = absl::AsciiStrToUpper(name);
  if (upper == "ALL") return upper;
  if (!absl::StartsWith(upper, "CAP_")) upper = absl::StrCat("CAP_", upper);
  const std::vector<std::string>& all = AllCapabilities();
  if (std::find(all.begin(), all.end(), upper) == all.end()) {
    return std::nullopt;
  }
  return upper;
}

std::vector<std::string> ContainerCapabilities(const Capabilities& caps,
                                               bool privileged) {
  const std::vector<std::string>& all = AllCapabilities();
  if (privileged) return all;
  std::set<std::string> set(DefaultCapabilities().begin(),
                            DefaultCapabilities().end());
  std::vector<std::string> add, drop;
  for (const std::string& name : caps.add) {
    if (std::optional<std::string> n = NormalizeCapability(name)) {
      add.push_back(*n);
    }
  }
  for (const std::string& name : caps.drop) {
    if (std::optional<std::string> n = NormalizeCapability(name)) {
      drop.push_back(*n);
    }
  }
  auto has = [](const std::vector<std::string>& v, absl::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  if (has(add, "ALL")) set.insert(all.begin(), all.end());
  if (has(drop, "ALL")) set.clear();
  for (const std::string& name : add) {
    if (name != "ALL") set.insert(name);
  }
  for (const std::string& name : drop) set.erase(name);
  std::vector<std::string> out;
  for (const std::string& name : all) {
    if (set.count(name) > 0) out.push_back(name);
  }
  return out;
}

}  // namespace podsandbox::container
