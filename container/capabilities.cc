#include "container/capabilities.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

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

absl::StatusOr<std::vector<std::string>> HeldCapabilities(
    absl::string_view proc_status) {
  std::optional<uint64_t> effective, bounding;
  for (absl::string_view line : absl::StrSplit(proc_status, '\n')) {
    std::optional<uint64_t>* target = nullptr;
    if (absl::ConsumePrefix(&line, "CapEff:")) target = &effective;
    if (absl::ConsumePrefix(&line, "CapBnd:")) target = &bounding;
    if (target == nullptr) continue;
    uint64_t mask = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(line), &mask)) {
      return absl::InternalError(absl::StrCat(
          "process status: capability mask \"", line, "\" is not hexadecimal"));
    }
    *target = mask;
  }
  if (!effective.has_value() || !bounding.has_value()) {
    return absl::InternalError(
        "process status: no CapEff or CapBnd line (not a /proc status?)");
  }
  // A capability the daemon has in effect but not in its bounding set is
  // lost at the runtime's own execve(2), so it counts only with both.
  uint64_t held = *effective & *bounding;
  const std::vector<std::string>& all = AllCapabilities();
  std::vector<std::string> out;
  for (size_t i = 0; i < all.size(); ++i) {
    if ((held >> i) & 1) out.push_back(all[i]);
  }
  return out;
}

std::vector<std::string> ContainerCapabilities(
    const Capabilities& caps, bool privileged,
    const std::vector<std::string>& held) {
  const std::vector<std::string>& all = AllCapabilities();
  // Only what the daemon holds: every known capability would make the
  // runtime fail on a host whose bounding set lacks one (seen: a host
  // without CAP_SYS_RESOURCE, where every privileged container failed).
  std::set<std::string> everything(held.begin(), held.end());
  auto in_order = [&all](const std::set<std::string>& set) {
    std::vector<std::string> out;
    for (const std::string& name : all) {
      if (set.count(name) > 0) out.push_back(name);
    }
    return out;
  };
  if (privileged) return in_order(everything);
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
  // containerd replaces the set: even a default one the daemon lacks goes.
  if (has(add, "ALL")) set = everything;
  if (has(drop, "ALL")) set.clear();
  for (const std::string& name : add) {
    if (name != "ALL") set.insert(name);
  }
  for (const std::string& name : drop) set.erase(name);
  return in_order(set);
}

}  // namespace podsandbox::container
