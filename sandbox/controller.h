// sandbox::Controller: the library's public API. A CRI server links it to
// implement the sandbox half of RuntimeService; podsandboxd is one such
// server.
//
// RunPodSandbox follows the pipeline of docs/design.md: validate, reserve
// the name, user namespace, network namespace inside it (pinned), lo up,
// CNI ADD, pod files, pause task create + start, READY. Every step is
// journalled in the sandbox's on-disk record before its side effect and
// pushes its undo on a cleanup stack, so a failure, or a crash followed by
// a restart, leaves nothing behind.
//
// Thread-safety: every method may be called from any thread. Operations on
// different sandboxes run in parallel; operations on one sandbox are
// serialised. No lock is held across a CNI plugin or runtime exec.
#ifndef PODSANDBOX_SANDBOX_CONTROLLER_H_
#define PODSANDBOX_SANDBOX_CONTROLLER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sandbox/controller_options.h"
#include "sandbox/pod_config.h"
#include "sys/sys.h"

namespace podsandbox::sys {
class OrphanReaper;  // sys/orphan_reaper.h
}  // namespace podsandbox::sys

namespace podsandbox::sandbox {

enum class SandboxState { kReady = 0, kNotReady = 1 };  // CRI's numbering

struct SandboxStatus {
  std::string id;
  PodConfig config;  // metadata, labels, annotations, namespace options...
  std::string runtime_handler;
  SandboxState state = SandboxState::kNotReady;
  absl::Time created_at;
  std::string ip;  // empty with host network or before CNI ADD
  std::vector<std::string> additional_ips;
  // Verbose only: containerd-shaped JSON ("pid", "netNamespacePath",
  // "runtimeType", "uidMappings", "cniResult", "steps", ...).
  std::string info_json;
};

struct ListFilter {
  std::optional<std::string> id;  // an exact id
  std::optional<SandboxState> state;
  std::map<std::string, std::string> label_selector;  // all must match
};

class Controller {
 public:
  // Opens (creating if needed) the root and state directories, takes their
  // lock, and recovers: loads every record, re-attaches live pause
  // processes, rolls back sandboxes left mid-creation and collects orphaned
  // pins, bundles, runtime state and CNI cache entries.
  // Errors: InvalidArgument for bad options, FailedPrecondition when
  // another controller holds the root, or the first error opening the dirs.
  static absl::StatusOr<std::unique_ptr<Controller>> Create(
      sys::Sys& sys, ControllerOptions options);

  virtual ~Controller() = default;

  // Returns the new sandbox's 64-hex id once it is READY.
  // Errors: InvalidArgument naming the bad field; FailedPrecondition when
  // the runtime handler cannot honour the request or the network is not
  // ready; AlreadyExists when the name is held by a sandbox with another
  // config; the failing step's error otherwise (after a full rollback).
  // A retry with the same config while the first call runs waits for it
  // and returns the same id.
  virtual absl::StatusOr<std::string> RunPodSandbox(
      const PodConfig& config, absl::string_view runtime_handler) = 0;

  // Stops the pause task, runs CNI DEL, unpins the namespaces; the sandbox
  // stays listed as NOTREADY. Idempotent; unknown ids succeed.
  virtual absl::Status StopPodSandbox(absl::string_view id) = 0;

  // Stops if needed, then deletes the runtime state, bundle, pod files and
  // record and releases the name. Idempotent; unknown ids succeed.
  virtual absl::Status RemovePodSandbox(absl::string_view id) = 0;

  // NotFound for unknown ids (and for a sandbox still being created).
  // Reads memory only, under short locks: never waits for an operation in
  // progress on any sandbox, so a server may answer it on any thread.
  virtual absl::StatusOr<SandboxStatus> PodSandboxStatus(absl::string_view id,
                                                         bool verbose) = 0;

  // Sandboxes matching `filter`, oldest first; those still being created
  // are left out. Reads memory only, as PodSandboxStatus.
  virtual std::vector<SandboxStatus> ListPodSandbox(
      const ListFilter& filter) = 0;

  // OK when a valid CNI network is configured, else FailedPrecondition
  // saying why (for the CRI Status's NetworkReady condition). May exec the
  // network's plugins (VERSION, and STATUS for CNI 1.1.0), so it can block
  // up to the CNI timeout: a server answering Status caches it.
  virtual absl::Status NetworkReady() = 0;

  // OK when the default runtime handler's binary runs `--version`
  // successfully, else FailedPrecondition naming the handler and why (for
  // the CRI Status's RuntimeReady condition). Execs the binary, so it can
  // block up to the handler's timeout: a server answering Status caches it.
  virtual absl::Status RuntimeReady() = 0;

  // The controller's subreaper (it adopts every process a runtime leaves
  // behind), so that another owner of such processes (the container
  // manager) can claim its pids before the reaper's scan reaps them. Null
  // when the controller has none. Owned by the controller.
  virtual sys::OrphanReaper* reaper() { return nullptr; }
};

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_CONTROLLER_H_
