// What every check needs: the CRI client, the options, unique pod configs
// with user namespace requests, and stop+remove of the pods it started,
// with failures of that cleanup kept for the check's verdict.
//
// Each check owns one CheckEnv. Host id ranges come from per-check slots
// (options.host_id_base + slot * kSlotSize), so two pods in one check can
// get disjoint maps and nothing depends on what another check left.
//
// Thread-safety: one CheckEnv per thread.
#ifndef PODSANDBOX_HARNESS_CHECK_ENV_H_
#define PODSANDBOX_HARNESS_CHECK_ENV_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cri/api.pb.h"
#include "harness/cri_client.h"
#include "harness/pin_probe.h"
#include "harness/verdict.h"
#include "userns/id_mapping.h"

namespace podsandbox::harness {

struct HarnessOptions {
  // The CRI runtime_handler of every pod; "" is the runtime's default.
  std::string runtime_handler;
  // Host ids the checks map into; each pod gets ranges at or above this.
  // Must leave room for 16 slots below 2^32.
  uint32_t host_id_base = 1u << 20;
  // Each CRI call's deadline.
  absl::Duration rpc_timeout = absl::Minutes(2);
  // How long after Remove the pause and pins may take to disappear.
  absl::Duration teardown_timeout = absl::Seconds(10);
  // Every pod's linux.security_context.namespace_options.pid. POD (the
  // enum's default) asks for a pod-level PID namespace, whose init a
  // pause must be; kubelet sends CONTAINER unless shareProcessNamespace,
  // which lets a runtime run the pod without a pause (podsandboxd's
  // infra = "none").
  runtime::v1::NamespaceMode pid_mode = runtime::v1::POD;
  // Pod names start with this, then the check's name.
  std::string name_prefix = "uh";
};

// Host ids per slot: two 65536-id ranges, with room for a split map.
inline constexpr uint32_t kSlotSize = 2 * 65536;

// The CRI wire form of one map line.
runtime::v1::IDMapping ToCri(const userns::IdMapping& m);

// Sets linux.security_context.namespace_options.userns_options.
void SetUserNamespace(runtime::v1::NamespaceMode mode,
                      const userns::IdMappings& mappings,
                      runtime::v1::PodSandboxConfig* config);

// The FAIL verdict for a runtime that refused a request every check
// expects to succeed.
Verdict ValidRequestRefused(const absl::Status& status);

// CLOCK_MONOTONIC in clock ticks (sysconf(_SC_CLK_TCK)), the unit of a
// process's start time in /proc/<pid>/stat. That start time counts from
// boot on CLOCK_BOOTTIME (Linux >= 5.5) or CLOCK_MONOTONIC (before), never
// less than CLOCK_MONOTONIC: a process started after this reading never
// shows a smaller start time.
uint64_t MonotonicClockTicks();

// OK when `info.pid`, reported for pod `id`, shows every mark of that pod
// that can be read (see CheckEnv::PauseInfo), and, when `run_called_at`
// (MonotonicClockTicks() before RunPodSandbox was called) is given, started
// no earlier. DataLoss naming each mark it lacks; FailedPrecondition when
// `info` has no pid.
absl::Status VerifyPauseOfPod(const std::string& id, const PodInfo& info,
                              const runtime::v1::PodSandboxConfig* config,
                              std::optional<uint64_t> run_called_at);

// The verdict for a pod whose pause could not be verified (an error of
// CheckEnv::PauseInfo): SKIP for FailedPrecondition, else FAIL.
Verdict Unverified(const absl::Status& status);

class CheckEnv {
 public:
  CheckEnv(CriClient& client, const HarnessOptions& options,
           absl::string_view check_name);

  CriClient& client() { return client_; }
  const HarnessOptions& options() const { return options_; }

  // The first host id of slot `slot` (0..15).
  uint32_t HostBase(int slot) const;

  // One range, 65536 ids at HostBase(slot), for both uids and gids.
  userns::IdMappings SimpleMappings(int slot) const;

  // A pod config with a name no other pod has (check name, our pid, a
  // counter and the time), pod-network, no user namespace yet.
  runtime::v1::PodSandboxConfig NewPod();

  // RunPodSandbox with the configured handler: the id, or the runtime's
  // error.
  absl::StatusOr<std::string> Run(const runtime::v1::PodSandboxConfig& config);

  // Stop then Remove; NotFound counts as done. Errors are kept for
  // cleanup_errors() rather than returned: callers run this from an
  // absl::Cleanup, where a verdict is already decided.
  void StopAndRemove(const std::string& id);

  // The verbose info of pod `id` (started by Run), with a pause pid that
  // is proven to be that pod's: the pid is alive and started after Run
  // called RunPodSandbox, and, where the runtime
  // reported them or the pod asked for them, its netns is the reported
  // netns path's, its user namespace the reported userns path's, its UTS
  // namespace its own with the requested hostname, and every pod IP is an
  // address in its netns. A runtime could otherwise report any process
  // with the right maps (a decoy) and pass every check.
  // Errors (turn them into a verdict with Unverified):
  //  - FailedPrecondition: no pid, but pinned namespace paths (something
  //    checkable was reported; the pid-based check SKIPs);
  //  - DataLoss: the pid is not the pod's (which of the above failed), or
  //    the pod asked for a user namespace and the runtime reports nothing
  //    checkable (no pid, no pins): FAIL.
  // A pod whose info says "infra": "none" has no pause by design: the pid
  // returned is then a PinProbe's, started (once per pod) in the reported
  // user, net, UTS and IPC pins and checked as a pause would be; notes()
  // says so. DataLoss when a pin is not reported or the probe cannot join
  // it (a pin not owned by the pod's user namespace).
  absl::StatusOr<PodInfo> PauseInfo(const std::string& id);

  // Kills and reaps the probe PauseInfo started for pod `id`, if any, so
  // that nothing of ours holds the pod's namespaces. Errors are kept for
  // cleanup_errors(). StopAndRemove calls it first.
  void EndProbe(const std::string& id);

  // PauseInfo's pid alone.
  absl::StatusOr<pid_t> PausePid(const std::string& id);

  // The config Run started pod `id` with; nullptr for another id.
  const runtime::v1::PodSandboxConfig* ConfigOf(const std::string& id) const;

  // The parsed verbose info; errors as CriClient::PodSandboxInfo.
  absl::StatusOr<PodInfo> Info(const std::string& id);

  const std::vector<std::string>& cleanup_errors() const {
    return cleanup_errors_;
  }

  // What the verdict's detail must also say: how a pod without a pause was
  // checked ("pins (no pause): ...").
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  // The pid of the probe in the pins of pod `id` (a pod without a pause),
  // started on first use. DataLoss as PauseInfo says.
  absl::StatusOr<pid_t> ProbePins(const std::string& id, const PodInfo& info);

  CriClient& client_;
  const HarnessOptions& options_;
  std::string check_name_;
  int pods_ = 0;
  std::map<std::string, runtime::v1::PodSandboxConfig> configs_;
  // MonotonicClockTicks() before RunPodSandbox, per pod id.
  std::map<std::string, uint64_t> run_called_at_;
  std::vector<std::string> cleanup_errors_;
  std::vector<std::string> notes_;
  // The probes standing in for pods without a pause, per pod id; killed
  // and reaped by EndProbe or on destruction.
  std::map<std::string, std::unique_ptr<PinProbe>> probes_;
};

}  // namespace podsandbox::harness

#endif  // PODSANDBOX_HARNESS_CHECK_ENV_H_
