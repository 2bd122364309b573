// RunPodSandbox's pipeline: the sandbox's creation (CreateSandbox), its
// step list (RunPipeline), the one helper every step goes through
// (RunStep: journal, act, push the undo, record what was learned, step
// done), each step's act, and each step's undo (UndoStep), which rollback,
// Stop, Remove and recovery share.
#include <memory>
#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "oci/runtime_type.h"
#include "sandbox/cleanup_stack.h"
#include "sandbox/controller_impl.h"
#include "sandbox/derived_specs.h"
#include "sandbox/overlap.h"
#include "sandbox/pod_files.h"
#include "sandbox/validation.h"
#include "sys/log.h"
#include "sys/status.h"

namespace podsandbox::sandbox {
namespace {

// Whether CNI ADD may run while the runtime creates the pause (see
// RunPipeline). runc and crun apply the pod's sysctls inside the netns at
// create, and an interface sysctl (net.ipv4.conf.eth0.*) needs eth0 there,
// so a pod with net.* sysctls on those runtimes gets its network first.
bool OverlapsNetworkWithCreate(const oci::RuntimeHandler& handler,
                               const PodConfig& config) {
  if (oci::CapabilitiesOf(handler.type).netns_ready_by ==
      oci::NetnsReadyBy::kStart) {
    return true;
  }
  for (const auto& [name, value] : config.sysctls) {
    if (absl::StartsWith(CanonicalSysctlName(name), "net.")) return false;
  }
  return true;
}

// Whether the pod runs with no pause at all (infra = "none" for its handler
// or globally; docs/design.md, "Pods without a pause"): only when nothing
// needs a process. A pod-level PID namespace needs its init; the pod's
// sysctls are written by the runtime inside the pause's namespaces; a
// host-network pod or one in the host's IPC namespace would have no pinned
// netns beside which its UTS and IPC namespaces could be made.
bool WithoutPause(const ControllerOptions& options,
                  const oci::RuntimeHandler& handler, const PodConfig& config) {
  return (options.infra_none || handler.infra_none) && !config.host_network() &&
         config.namespaces.pid != NamespaceMode::kPod &&
         config.namespaces.ipc == NamespaceMode::kPod && config.sysctls.empty();
}

}  // namespace

absl::StatusOr<std::string> ControllerImpl::CreateSandbox(
    const PodConfig& config, const oci::RuntimeHandler& handler,
    const std::string& id) {
  auto sandbox = std::make_shared<Sandbox>(id);
  absl::MutexLock op(&sandbox->op_mu);
  {
    absl::MutexLock lock(&sandbox->mu);
    sandbox->record.id = id;
    sandbox->record.config = config;
    sandbox->record.runtime_handler = handler.name;
    sandbox->record.phase = Phase::kCreating;
    sandbox->record.created_at = absl::Now();
  }
  {
    absl::MutexLock lock(&mu_);
    sandboxes_[id] = sandbox;
  }
  absl::Status status;
  bool undo_failed = false;
  {
    CleanupStack undo(absl::StrCat("pod ", id));
    status = RunPipeline(*sandbox, handler, undo);
    if (status.ok()) {
      std::move(undo).Commit();
    } else {
      status = undo.Unwind(std::move(status));
      undo_failed = undo.undo_failures() > 0;
    }
  }
  if (status.ok()) return id;

  // Rolled back. The record goes unless an undo failed: then it stays,
  // still "creating", so the next start rolls it back again.
  {
    absl::MutexLock lock(&mu_);
    sandboxes_.erase(id);
  }
  if (!undo_failed) {
    if (absl::Status s = store_.Remove(id); !s.ok()) {
      PSB_LOG(kWarning, "remove record of rolled-back pod=%s: %s", id,
              s.ToString());
    }
  }
  return status;
}

// RunPodSandbox's steps, in the order they run (docs/design.md, "The
// RunPodSandbox pipeline"). Each step line journals, acts, pushes its undo
// and records what it learned through RunStep.
absl::Status ControllerImpl::RunPipeline(Sandbox& sandbox,
                                         const oci::RuntimeHandler& handler,
                                         CleanupStack& undo) {
  const PodConfig config = Snapshot(sandbox).config;
  const bool with_network = !config.host_network();
  const bool no_pause = WithoutPause(options_, handler, config);
  // CNI ADD on a thread of its own while the runtime creates the pause,
  // where the runtime and the pod allow it (docs/design.md, "Overlap of CNI
  // ADD and the runtime's create").
  const bool overlap = with_network && !no_pause &&
                       options_.overlap_network_with_create &&
                       OverlapsNetworkWithCreate(handler, config);
  auto step = [&](Step s, absl::FunctionRef<absl::StatusOr<Learned>()> act) {
    return RunStep(sandbox, undo, s, act);
  };

  if (config.namespaces.ipc == NamespaceMode::kPod) {
    RETURN_IF_ERROR(step(Step::kShm, [&] { return MountShm(sandbox); }));
  }
  std::unique_ptr<NetworkStep> network;  // CNI ADD, maybe beside create
  if (with_network) {
    RETURN_IF_ERROR(step(Step::kNamespaces,
                         [&] { return PinNamespaces(sandbox, no_pause); }));
    RETURN_IF_ERROR(BringUpLoopback(sandbox));
    ASSIGN_OR_RETURN(network, StartNetwork(sandbox, undo, overlap));
  }
  // The hosts file names the pod's IPs: ADD's outcome first.
  auto network_then_pod_files = [&]() -> absl::Status {
    if (network != nullptr) RETURN_IF_ERROR(network->Join());
    return step(Step::kPodFiles, [&] { return WriteFiles(sandbox); });
  };
  if (!overlap) RETURN_IF_ERROR(network_then_pod_files());
  // Between the runtime's create and start: what start needs.
  auto before_start = [&]() -> absl::Status {
    return overlap ? network_then_pod_files() : absl::OkStatus();
  };
  if (!no_pause) {
    RETURN_IF_ERROR(step(Step::kTask, [&] {
      return StartPause(sandbox, handler, before_start);
    }));
  }
  // If a step failed while ADD ran, `network` takes ADD's outcome as it
  // goes: an attachment gets its undo before the caller unwinds.
  return MarkReady(sandbox);
}

absl::Status ControllerImpl::RunStep(
    Sandbox& sandbox, CleanupStack& undo, Step step,
    absl::FunctionRef<absl::StatusOr<Learned>()> act) {
  // The record reaches disk with the first journal entry, before the first
  // side effect: a crash from there on is rolled back at the next start.
  // No entry is fsynced (docs/design.md, "Journal durability"): pins,
  // bundles and pod files live on tmpfs, and an IPAM lease, which outlives
  // a reboot, is found through the CNI cache entry written durably before
  // ADD returns.
  RETURN_IF_ERROR(Journal(sandbox, step, /*durable=*/false));
  return FinishStep(sandbox, undo, step, act());
}

absl::Status ControllerImpl::FinishStep(Sandbox& sandbox, CleanupStack& undo,
                                        Step step,
                                        absl::StatusOr<Learned> learned) {
  RETURN_IF_ERROR(learned.status());
  // The step is done: from here its undo is the same one Stop, Remove and
  // recovery run (UndoStep), on the record as it stands (what earlier
  // steps learned, such as the netns pin CNI DEL needs).
  undo.Push(std::string(StepName(step)),
            [this, record = Snapshot(sandbox), step] {
              return UndoStep(record, step);
            });
  // Kept in memory and saved with the next journal entry: undo derives
  // every path from the id, so it needs none of it, and one write per step
  // keeps RunPodSandbox's own share small.
  Change(sandbox, *learned);
  StepDone(step);
  return absl::OkStatus();
}

absl::StatusOr<ControllerImpl::Learned> ControllerImpl::PinNamespaces(
    Sandbox& sandbox, bool no_pause) {
  const PodConfig& config = Snapshot(sandbox).config;
  netns::ExtraNamespaces extra;
  if (no_pause) extra = {/*uts_and_ipc=*/true, config.hostname};
  ASSIGN_OR_RETURN(
      netns::PinnedNamespaces pins,
      netns_->CreateWithExtra(sandbox.id,
                              config.user_namespaced()
                                  ? &config.namespaces.userns.mappings
                                  : nullptr,
                              extra));
  return Learned([pins](SandboxRecord& r) {
    r.netns_pin = pins.netns;
    r.userns_pin = pins.userns;
    r.uts_pin = pins.uts;
    r.ipc_pin = pins.ipc;
  });
}

absl::Status ControllerImpl::BringUpLoopback(Sandbox& sandbox) {
  // Part of the netns: it goes with the namespaces' undo.
  return sys::Annotate(netns_->BringUpLoopback(Snapshot(sandbox).netns_pin),
                       "bring up lo");
}

absl::StatusOr<std::unique_ptr<ControllerImpl::NetworkStep>>
ControllerImpl::StartNetwork(Sandbox& sandbox, CleanupStack& undo,
                             bool concurrent) {
  // The one step whose act may overlap the next: journalled here, finished
  // (FinishStep) when its outcome is taken, by Join or at the latest when
  // the NetworkStep goes.
  RETURN_IF_ERROR(Journal(sandbox, Step::kNetwork, /*durable=*/false));
  // ADD takes the attachment by value and touches nothing of the
  // sandbox's: it may run on a thread of its own.
  return std::make_unique<NetworkStep>(
      concurrent,
      [this, attachment = AttachmentFor(Snapshot(sandbox))] {
        return cni_.Add(attachment);
      },
      [this, &sandbox, &undo](absl::StatusOr<cni::Result> added) {
        return FinishStep(sandbox, undo, Step::kNetwork,
                          NetworkLearned(std::move(added)));
      });
}

absl::StatusOr<ControllerImpl::Learned> ControllerImpl::NetworkLearned(
    absl::StatusOr<cni::Result> added) {
  // A failed ADD has already run its own rollback DEL.
  if (!added.ok()) return sys::Annotate(added.status(), "CNI ADD");
  return Learned([result = *std::move(added)](SandboxRecord& r) {
    r.ips = result.PodIps();
    r.cni_result = result.raw_json;
  });
}

absl::StatusOr<ControllerImpl::Learned> ControllerImpl::WriteFiles(
    Sandbox& sandbox) {
  SandboxRecord record = Snapshot(sandbox);
  RETURN_IF_ERROR(WritePodFiles(sys_, PodFilesDir(sandbox.id), record.config,
                                record.config.hostname, record.ips,
                                PodRootOwner(record.config)));
  return Learned([](SandboxRecord&) {});
}

absl::StatusOr<ControllerImpl::Learned> ControllerImpl::MountShm(
    Sandbox& sandbox) {
  const std::string dir = ShmDir(sandbox.id);
  RETURN_IF_ERROR(shm_.mount(dir, PodRootOwner(Snapshot(sandbox).config)));
  return Learned([dir](SandboxRecord& r) { r.shm_path = dir; });
}

absl::StatusOr<ControllerImpl::Learned> ControllerImpl::StartPause(
    Sandbox& sandbox, const oci::RuntimeHandler& handler,
    absl::FunctionRef<absl::Status()> before_start) {
  ASSIGN_OR_RETURN(
      PauseProcess pause,
      tasks_.Start(TaskSpecFor(Snapshot(sandbox), options_.oom_score_adj),
                   handler, BundleDir(sandbox.id), before_start));
  return Learned([pause](SandboxRecord& r) {
    r.pid = pause.pid;
    r.pid_start_time = pause.start_time;
  });
}

absl::Status ControllerImpl::MarkReady(Sandbox& sandbox) {
  // Not fsynced: after a reboot the pause is gone whatever the record says,
  // and a record that still reads "creating" is rolled back, which frees
  // the same resources Stop and Remove would.
  return Update(
      sandbox,
      [](SandboxRecord& r) {
        r.phase = Phase::kReady;
        r.ready_at = absl::Now();
      },
      /*durable=*/false);
}

absl::Status ControllerImpl::UndoStep(const SandboxRecord& record, Step step) {
  switch (step) {
    case Step::kNamespaces:
      return netns_->Remove(record.id);
    case Step::kNetwork:
      return cni_.Del(AttachmentFor(record));
    case Step::kPodFiles:
      return RemovePodFiles(sys_, PodFilesDir(record.id));
    case Step::kTask: {
      ASSIGN_OR_RETURN(const oci::RuntimeHandler* handler, HandlerOf(record));
      return tasks_.Delete(*handler, record.id, BundleDir(record.id));
    }
    case Step::kShm:
      return shm_.unmount(ShmDir(record.id));
  }
  return absl::InternalError("unknown step");
}

}  // namespace podsandbox::sandbox
