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

// Pipeline steps, as journalled (sandbox/run_pipeline.cc runs them). Each
// says what it does; its undo (ControllerImpl::UndoStep, the one function
// rollback, Stop, Remove and recovery share; "already gone" is success);
// and what restart recovery does with it: a record still creating has
// every journalled step undone, newest first; a ready or not-ready record
// keeps its resources for Stop and Remove; and what no record names at all
// is collected as an orphan (CollectOrphans).
enum class Step {
  // The pod's user namespace (if it has one) and its netns, made by one
  // cloned helper and bind-mounted on <state>/ns/{userns,netns}/<id>; lo
  // brought up inside. Undo: unmount and remove both pins. Orphans: pins
  // with no record, removed after the CNI DELs (plugins need the netns).
  kNamespaces,
  // CNI ADD of eth0 in the pinned netns; its result cached durably under
  // <root>/cni before ADD returns. Undo: CNI DEL with the cached result
  // (also when the netns is gone), which releases the IPAM lease. Orphans:
  // cache entries with no record, DELed.
  kNetwork,
  // <state>/pods/<id>/{hostname,resolv.conf,hosts}; after kNetwork (hosts
  // names the pod's IPs), so when ADD overlaps the runtime's create it is
  // journalled after kTask, between create and start. Undo: remove the
  // directory. Orphans: directories with no record, removed.
  kPodFiles,
  // The pause: bundle under <state>/bundles/<id>, runtime create, start,
  // pidfd watch. Undo: runtime delete --force (kills a live pause), wait
  // for its exit, remove the bundle. Recovery of a ready record re-attaches
  // the pause by pid and start time, or marks the sandbox not ready when it
  // is gone. Orphans: bundles with no record, deleted with every handler.
  kTask,
  // The pod's /dev/shm (sandbox/pod_shm.h): a tmpfs on <state>/shm/<id>,
  // for a pod that owns its IPC namespace; its containers bind it. Kept
  // by Stop (a stopped pod's containers may still be inspected), undone by
  // Remove. Undo: detach-unmount and remove the directory. Orphans:
  // directories with no record, unmounted and removed.
  kShm,
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
  // Pinned UTS and IPC namespaces of a pod without a pause (infra =
  // "none"); empty when a pause holds them.
  std::string uts_pin;
  std::string ipc_pin;
  std::string shm_path;    // the pod's /dev/shm tmpfs; empty with host IPC
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
