// Puts the host's network back after tests and benchmarks that run the real
// bridge and portmap plugins, which leave things behind on purpose: bridge
// never deletes its bridge and (with isGateway) turns on
// net.ipv4.ip_forward; portmap keeps its top-level nat chains and their
// jump rules. Snapshot on construction, Restore() (also run by the
// destructor) deletes the bridge, removes nat rules and chains that were
// not there before, and writes ip_forward back.
//
// Not thread-safe; one per test or benchmark.
#ifndef PODSANDBOX_CNI_TESTING_HOST_NETWORK_GUARD_H_
#define PODSANDBOX_CNI_TESTING_HOST_NETWORK_GUARD_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sys/sys.h"

namespace podsandbox::cni {

class HostNetworkGuard {
 public:
  HostNetworkGuard(sys::Sys& sys, std::string bridge);
  ~HostNetworkGuard();
  HostNetworkGuard(const HostNetworkGuard&) = delete;
  HostNetworkGuard& operator=(const HostNetworkGuard&) = delete;

  // Best effort throughout; returns the first failure.
  absl::Status Restore();

  // `iptables -t nat -S`.
  absl::StatusOr<std::string> NatRules();
  const std::string& nat_before() const { return nat_before_; }

  // Runs a tool (absolute path) to completion; its stdout, or Internal with
  // its stderr when it fails.
  static absl::StatusOr<std::string> RunTool(sys::Sys& sys,
                                             std::vector<std::string> args,
                                             std::string stdin_data = "");

 private:
  sys::Sys& sys_;
  const std::string bridge_;
  std::string ip_forward_;
  std::string nat_before_;
};

}  // namespace podsandbox::cni

#endif  // PODSANDBOX_CNI_TESTING_HOST_NETWORK_GUARD_H_
