// The Controller: the pipeline of docs/design.md over userns/, netns/, cni/
// and the pause task, with every sandbox's truth in one persisted record.
//
// Locking: `mu_` guards the id -> sandbox map only. Each sandbox has
// `op_mu`, which serialises operations on that sandbox (it is held across
// plugin and runtime execs, but guards no data that readers need), and
// `mu`, which guards its record and is only held to copy or change it.
// Status and List take `mu_` and each `mu` briefly, never `op_mu`, so they
// never wait for an exec. Lock order: op_mu, then mu_, then mu.
//
// One class, its parts in files named after them: controller_impl.cc
// (start, record helpers, RunPodSandbox's refusals and name reservation),
// run_pipeline.cc (the step list, each step's act and undo),
// stop_remove.cc, status_list.cc and recovery.cc (restart recovery and
// orphan collection).
#ifndef PODSANDBOX_SANDBOX_CONTROLLER_IMPL_H_
#define PODSANDBOX_SANDBOX_CONTROLLER_IMPL_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "cni/executor.h"
#include "oci/runtime_factory.h"
#include "oci/runtime_handler.h"
#include "sandbox/cleanup_stack.h"
#include "sandbox/controller.h"
#include "sandbox/name_registry.h"
#include "sandbox/overlap.h"
#include "sandbox/pause_task.h"
#include "sandbox/pod_netns.h"
#include "sandbox/pod_shm.h"
#include "sandbox/range_registry.h"
#include "sandbox/record.h"
#include "sandbox/store.h"
#include "sys/orphan_reaper.h"
#include "sys/unique_fd.h"

namespace podsandbox::sandbox {

// After this many failed CNI DELs of one sandbox, Remove goes ahead without
// one (leaving the cache entry for the orphan collection at the next start)
// so that a broken plugin cannot make a sandbox unremovable forever. Stop
// keeps returning the error until then, so kubelet retries.
inline constexpr int kMaxFailedCniDeletes = 3;

// What tests without root replace (controller_test.cc); the defaults
// are the host's.
struct ControllerSeams {
  // Null: HostPodNetns under <state>/ns.
  std::unique_ptr<PodNetns> netns;
  // Empty: oci::MakeOciRuntime on `sys`.
  oci::OciRuntimeMaker make_runtime;
  // How long Stop waits for the pause after SIGKILL
  // (PauseTask::Options::kill_wait).
  absl::Duration kill_wait = absl::Seconds(10);
  // Empty: the pod's /dev/shm is a tmpfs (HostPodShm on `sys`).
  std::optional<PodShmOps> shm;
};

class ControllerImpl : public Controller {
 public:
  using Seams = ControllerSeams;

  ControllerImpl(sys::Sys& sys, ControllerOptions options,
                 oci::HandlerRegistry handlers, Seams seams = {});
  ~ControllerImpl() override;

  // Directories, lock, subreaper, pause rootfs, then recovery.
  absl::Status Init();

  // sandbox::Controller
  absl::StatusOr<std::string> RunPodSandbox(
      const PodConfig& config, absl::string_view runtime_handler) override;
  absl::Status StopPodSandbox(absl::string_view id) override;
  absl::Status RemovePodSandbox(absl::string_view id) override;
  absl::StatusOr<SandboxStatus> PodSandboxStatus(absl::string_view id,
                                                 bool verbose) override;
  std::vector<SandboxStatus> ListPodSandbox(const ListFilter& filter) override;
  absl::Status NetworkReady() override;
  absl::Status RuntimeReady() override;
  sys::OrphanReaper* reaper() override { return &reaper_; }

  // Test-only: called after each pipeline step's side effect, with the
  // step; crash-consistency tests SIGKILL the process from here.
  void SetStepHookForTesting(absl::AnyInvocable<void(Step)> hook) {
    step_hook_ = std::move(hook);
  }
  // Test-only: called by name at each point where a crash leaves work half
  // done that the step hook does not reach: "journalled <step>" (the entry
  // is on disk, the side effect not begun), inside Stop ("stop: ..."),
  // Remove ("remove: ..."), and recovery ("recover: ...", "collect: ...").
  // Set it before Init() to reach recovery's points.
  void SetCrashPointHookForTesting(
      absl::AnyInvocable<void(absl::string_view)> hook) {
    crash_point_hook_ = std::move(hook);
  }

 private:
  struct Sandbox {
    explicit Sandbox(std::string id) : id(std::move(id)) {}

    const std::string id;
    absl::Mutex op_mu;    // serialises operations; see the file comment
    absl::Mutex save_mu;  // serialises writes of the record file
    absl::Mutex mu;
    SandboxRecord record ABSL_GUARDED_BY(mu);
  };

  std::shared_ptr<Sandbox> Find(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);
  // The sandbox `id` names, exactly or as a unique prefix. NotFound,
  // InvalidArgument when empty or ambiguous.
  absl::StatusOr<std::shared_ptr<Sandbox>> Resolve(absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Whether `sandbox` is still the one listed under `id` (not removed).
  bool StillListed(absl::string_view id,
                   const std::shared_ptr<Sandbox>& sandbox)
      ABSL_LOCKS_EXCLUDED(mu_);
  SandboxRecord Snapshot(Sandbox& sandbox);
  // `sandbox`'s List entry, unless the filter excludes it.
  std::optional<SandboxStatus> ListEntry(Sandbox& sandbox,
                                         const ListFilter& filter);
  // Applies `change` to the record in memory only.
  void Change(Sandbox& sandbox, absl::FunctionRef<void(SandboxRecord&)> change);
  // Applies `change` to the record, then writes it.
  absl::Status Update(Sandbox& sandbox,
                      absl::FunctionRef<void(SandboxRecord&)> change,
                      bool durable);
  // Journals `step` (before its side effect).
  absl::Status Journal(Sandbox& sandbox, Step step, bool durable);

  // Holds the host ranges of a user-namespaced `config` for `id`, unless
  // the policy allows overlaps. InvalidArgument as RangeRegistry::Reserve.
  absl::Status ReserveRanges(const PodConfig& config, const std::string& id);

  // Makes the sandbox `id` (name reserved): the pipeline, or its rollback.
  absl::StatusOr<std::string> CreateSandbox(const PodConfig& config,
                                            const oci::RuntimeHandler& handler,
                                            const std::string& id);
  // RunPodSandbox's steps in order (run_pipeline.cc); each finished step's
  // undo is on `undo` when it returns, whatever it returns.
  absl::Status RunPipeline(Sandbox& sandbox, const oci::RuntimeHandler& handler,
                           CleanupStack& undo);

  // What a pipeline step learned (pins, IPs, the pause's pid), applied to
  // the record in memory once the step is done.
  using Learned = std::function<void(SandboxRecord&)>;
  // One step: journal `step`, run `act`, then FinishStep.
  absl::Status RunStep(Sandbox& sandbox, CleanupStack& undo, Step step,
                       absl::FunctionRef<absl::StatusOr<Learned>()> act);
  // A step whose act succeeded: push its undo (UndoStep), record what it
  // learned, report it done. Returns `learned`'s error otherwise.
  absl::Status FinishStep(Sandbox& sandbox, CleanupStack& undo, Step step,
                          absl::StatusOr<Learned> learned);
  // The steps' acts, in pipeline order.
  // With `no_pause`, the UTS and IPC namespaces are pinned too, the
  // hostname set in the pinned UTS namespace.
  absl::StatusOr<Learned> PinNamespaces(Sandbox& sandbox, bool no_pause);
  absl::Status BringUpLoopback(Sandbox& sandbox);
  // The network step: journalled, then CNI ADD of the sandbox's attachment
  // started, on a thread of its own when `concurrent`; its outcome, taken
  // by Join or when the NetworkStep goes, finishes the step (FinishStep of
  // NetworkLearned). `sandbox` and `undo` outlive the NetworkStep.
  using NetworkStep = Overlap<absl::StatusOr<cni::Result>>;
  absl::StatusOr<std::unique_ptr<NetworkStep>> StartNetwork(Sandbox& sandbox,
                                                            CleanupStack& undo,
                                                            bool concurrent);
  static absl::StatusOr<Learned> NetworkLearned(
      absl::StatusOr<cni::Result> added);
  absl::StatusOr<Learned> WriteFiles(Sandbox& sandbox);
  absl::StatusOr<Learned> MountShm(Sandbox& sandbox);
  absl::StatusOr<Learned> StartPause(
      Sandbox& sandbox, const oci::RuntimeHandler& handler,
      absl::FunctionRef<absl::Status()> before_start);
  absl::Status MarkReady(Sandbox& sandbox);

  // The idempotent undo of each step, shared by rollback, Stop, Remove and
  // recovery.
  absl::Status UndoStep(const SandboxRecord& record, Step step);
  // Undoes every journalled step, newest first; returns the first error
  // with the others attached.
  absl::Status RollBack(const SandboxRecord& record);
  // Runs `op` on the sandbox `id` names, holding its op_mu. OK with nothing
  // done when `id` names no sandbox, or names one a concurrent Remove took
  // away while we waited for the lock (CRI's Stop and Remove are
  // idempotent); Resolve's other errors otherwise.
  absl::Status WithSandboxOp(absl::string_view id,
                             absl::FunctionRef<absl::Status(Sandbox&)> op)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Stop with the lock held. With `force_network`, a CNI DEL that failed
  // kMaxFailedCniDeletes times is given up on.
  absl::Status StopLocked(Sandbox& sandbox, bool force_network);
  // Stop's parts, in order (stop_remove.cc). The pause's kill, as a call
  // that may run beside DeleteNetwork; PauseKilled takes its outcome.
  absl::AnyInvocable<absl::Status()> KillPause(const SandboxRecord& record);
  absl::Status PauseKilled(Sandbox& sandbox, const SandboxRecord& record,
                           absl::Status killed);
  absl::Status DeleteNetwork(Sandbox& sandbox, const SandboxRecord& record,
                             bool force_network);
  absl::Status UnpinNamespaces(Sandbox& sandbox, const SandboxRecord& record);
  // Remove with the lock held: Stop (giving up a failing CNI DEL), then
  // the task, the pod files, the record and the reservations.
  absl::Status RemoveLocked(Sandbox& sandbox);

  absl::Status Recover();
  absl::Status RecoverRecord(SandboxRecord record);
  void CollectOrphans();
  void OnPauseExit(const oci::ProcessExit& exit) ABSL_LOCKS_EXCLUDED(mu_);

  std::string BundleDir(absl::string_view id) const;
  std::string PodFilesDir(absl::string_view id) const;
  std::string ShmDir(absl::string_view id) const;
  absl::StatusOr<const oci::RuntimeHandler*> HandlerOf(
      const SandboxRecord& record);
  void StepDone(Step step);
  void CrashPoint(absl::string_view point);

  sys::Sys& sys_;
  const ControllerOptions options_;
  const oci::HandlerRegistry handlers_;
  const oci::OciRuntimeMaker make_runtime_;
  const std::unique_ptr<PodNetns> netns_;
  const PodShmOps shm_;
  Store store_;
  cni::Executor cni_;
  NameRegistry names_;
  RangeRegistry ranges_;
  sys::OrphanReaper reaper_;
  PauseTask tasks_;
  sys::UniqueFd lock_;
  absl::AnyInvocable<void(Step)> step_hook_;
  absl::AnyInvocable<void(absl::string_view)> crash_point_hook_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Sandbox>> sandboxes_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_CONTROLLER_IMPL_H_
