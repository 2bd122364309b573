#include "cni/testing/host_network_guard.h"

#include <fcntl.h>

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sys/file.h"
#include "sys/status.h"
#include "sys/subprocess.h"

namespace podsandbox::cni {
namespace {

constexpr char kIpForward[] = "/proc/sys/net/ipv4/ip_forward";

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

}  // namespace

absl::StatusOr<std::string> HostNetworkGuard::RunTool(
    sys::Sys& sys, std::vector<std::string> args, std::string stdin_data) {
  sys::Command command;
  command.path = args[0];
  command.args = std::move(args);
  command.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  command.stdin_data = std::move(stdin_data);
  command.timeout = absl::Seconds(30);
  ASSIGN_OR_RETURN(sys::SubprocessResult r, sys::RunSubprocess(sys, command));
  if (!r.success()) {
    return absl::InternalError(absl::StrCat(
        command.path, " ", sys::DescribeExit(r), ": ", r.stderr_data));
  }
  return r.stdout_data;
}

HostNetworkGuard::HostNetworkGuard(sys::Sys& sys, std::string bridge)
    : sys_(sys), bridge_(std::move(bridge)) {
  ip_forward_ = sys::ReadFile(kIpForward).value_or("0\n");
  nat_before_ = NatRules().value_or("");
}

HostNetworkGuard::~HostNetworkGuard() {
  // Failures were reported by an explicit Restore(), if the owner cared.
  Restore().IgnoreError();
}

absl::StatusOr<std::string> HostNetworkGuard::NatRules() {
  return RunTool(sys_, {"/usr/sbin/iptables", "-t", "nat", "-S"});
}

absl::Status HostNetworkGuard::Restore() {
  absl::Status status;
  if (::access(absl::StrCat("/sys/class/net/", bridge_).c_str(), F_OK) == 0) {
    status.Update(
        RunTool(sys_, {"/usr/sbin/ip", "link", "del", bridge_}).status());
  }
  // Rules and chains that are new since the snapshot go, through
  // iptables-restore --noflush, which parses portmap's quoted comments.
  absl::StatusOr<std::string> now = NatRules();
  status.Update(now.status());
  if (now.ok() && *now != nat_before_) {
    std::vector<std::string> before = Lines(nat_before_);
    std::set<std::string> old(before.begin(), before.end());
    std::vector<std::string> new_chains;
    std::vector<std::string> new_rules;
    for (const std::string& line : Lines(*now)) {
      if (old.count(line) != 0) continue;
      if (absl::StartsWith(line, "-N ")) new_chains.push_back(line.substr(3));
      if (absl::StartsWith(line, "-A ")) new_rules.push_back(line.substr(3));
    }
    std::string script = "*nat\n";
    for (const std::string& chain : new_chains) {
      absl::StrAppend(&script, "-F ", chain, "\n");
    }
    for (const std::string& rule : new_rules) {
      std::string chain = rule.substr(0, rule.find(' '));
      // Rules inside new chains went with the flush.
      if (std::find(new_chains.begin(), new_chains.end(), chain) ==
          new_chains.end()) {
        absl::StrAppend(&script, "-D ", rule, "\n");
      }
    }
    for (const std::string& chain : new_chains) {
      absl::StrAppend(&script, "-X ", chain, "\n");
    }
    absl::StrAppend(&script, "COMMIT\n");
    status.Update(
        RunTool(sys_, {"/usr/sbin/iptables-restore", "--noflush"}, script)
            .status());
  }
  // A sysctl file cannot be replaced by rename: write it in place.
  absl::StatusOr<sys::UniqueFd> fd =
      sys::OpenFile(sys_, kIpForward, O_WRONLY | O_TRUNC);
  status.Update(fd.status());
  if (fd.ok()) status.Update(sys::WriteAll(sys_, fd->get(), ip_forward_));
  return status;
}

}  // namespace podsandbox::cni
