// A sandbox's record: everything the controller knows about one sandbox, in
// one place, persisted as JSON. It is the single source of truth: memory
// holds a copy, disk holds the same, and restart recovery needs nothing
// else (containerd keeps two copies and has lost pod IPs on restart).
//
// The step journal lists, in order, every pipeline step whose side effect
// may have started. A step is appended (and the record saved) before its
// side effect, so after a crash the undo of every listed step is run; each
// undo is idempotent, so running one whose effect never happened is fine.
#ifndef PODSANDBOX_SANDBOX_RECORD_H_
#define PODSANDBOX_SANDBOX_RECORD_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sandbox/pod_config.h"

namespace podsandbox::sandbox {

// Pipeline steps, in order, as journalled.
enum class Step {
  kNamespaces,  // user namespace + pinned netns
  kNetwork,     // lo up + CNI ADD
  kPodFiles,    // hostname, resolv.conf, hosts
  kTask,        // pause task create + start
};

absl::string_view StepName(Step step);

enum class Phase {
  kCreating,  // RunPodSandbox in progress; rolled back if found at start
  kReady,     // pause running
  kNotReady,  // pause exited or stopped; resources may remain until Stop
  kStopped,   // Stop completed: only the record and files remain
};

absl::string_view PhaseName(Phase phase);

struct SandboxRecord {
  std::string id;
  PodConfig config;
  std::string runtime_handler;  // the resolved handler name
  Phase phase = Phase::kCreating;
  std::vector<Step> steps;

  std::string netns_pin;   // empty with host network
  std::string userns_pin;  // empty without a pod user namespace
  std::string cni_result;  // the CNI result's JSON, for status
  std::vector<std::string> ips;

  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // /proc/<pid>/stat field 22

  absl::Time created_at = absl::InfinitePast();
  absl::Time ready_at = absl::InfinitePast();
  absl::Time exited_at = absl::InfinitePast();
  int exit_status = 0;

  // Consecutive Stops whose CNI DEL failed; see the controller's policy.
  int failed_cni_deletes = 0;

  bool HasStep(Step step) const;
};

std::string RecordToJson(const SandboxRecord& record);

// InvalidArgument naming the field when `json` is not a valid record.
absl::StatusOr<SandboxRecord> RecordFromJson(absl::string_view json);

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_RECORD_H_
