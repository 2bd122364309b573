// StopPodSandbox and RemovePodSandbox: one preamble (WithSandboxOp), then
// the same idempotent undos that rollback and recovery run.
#include <algorithm>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "sandbox/controller_impl.h"
#include "sandbox/derived_specs.h"
#include "sandbox/overlap.h"
#include "sys/log.h"
#include "sys/status.h"

namespace podsandbox::sandbox {

absl::Status ControllerImpl::StopLocked(Sandbox& sandbox, bool force_network) {
  const SandboxRecord record = Snapshot(sandbox);
  // Stopped already: the pause is gone and so are the network and pins
  // (Stop only gets here once each of those steps is undone), so a second
  // Stop, or the one inside Remove, has nothing to do: no runtime exec.
  if (record.phase == Phase::kStopped) return absl::OkStatus();
  // The pause's kill runs beside CNI DEL: the pause is then the pod's only
  // process and opens no socket, so the address DEL releases has no user
  // whether or not the kill has finished (docs/design.md, "Overlap of the
  // pause's kill and CNI DEL", says why, and what a failed kill leaves).
  const bool overlap = options_.overlap_kill_with_network_delete &&
                       record.HasStep(Step::kTask) &&
                       record.HasStep(Step::kNetwork);
  Overlap<absl::Status> kill(overlap, KillPause(record),
                             [&](absl::Status killed) {
                               return PauseKilled(sandbox, record, killed);
                             });
  if (!overlap) RETURN_IF_ERROR(kill.Join());
  absl::Status network = DeleteNetwork(sandbox, record, force_network);
  // Both have ended here. A failed kill leads: its pause still holds the
  // namespaces, which therefore stay; a failed DEL is counted and retried.
  RETURN_IF_ERROR(kill.Join());
  RETURN_IF_ERROR(network);
  RETURN_IF_ERROR(UnpinNamespaces(sandbox, record));
  // None of Stop's record writes is fsynced (docs/design.md, "Journal
  // durability"): one lost to a power loss only repeats idempotent undos at
  // the next start, before any pod could take the address.
  return Update(
      sandbox, [](SandboxRecord& r) { r.phase = Phase::kStopped; },
      /*durable=*/false);
}

absl::AnyInvocable<absl::Status()> ControllerImpl::KillPause(
    const SandboxRecord& record) {
  if (!record.HasStep(Step::kTask)) return [] { return absl::OkStatus(); };
  absl::StatusOr<const oci::RuntimeHandler*> handler = HandlerOf(record);
  if (!handler.ok()) return [s = handler.status()] { return s; };
  // May run on a thread of its own: everything by value.
  return [this, handler = **handler, id = record.id,
          grace = options_.stop_grace_period] {
    return tasks_.Stop(handler, id, grace);
  };
}

absl::Status ControllerImpl::PauseKilled(Sandbox& sandbox,
                                         const SandboxRecord& record,
                                         absl::Status killed) {
  RETURN_IF_ERROR(killed);
  if (record.HasStep(Step::kTask)) CrashPoint("stop: task stopped");
  if (record.phase != Phase::kReady) return absl::OkStatus();
  return Update(
      sandbox,
      [](SandboxRecord& r) {
        if (r.phase != Phase::kReady) return;  // the watcher was first
        r.phase = Phase::kNotReady;
        r.exited_at = absl::Now();
      },
      /*durable=*/false);
}

absl::Status ControllerImpl::DeleteNetwork(Sandbox& sandbox,
                                           const SandboxRecord& record,
                                           bool force_network) {
  if (!record.HasStep(Step::kNetwork)) return absl::OkStatus();
  // DEL runs with the cached result even when the netns is gone.
  absl::Status del = cni_.Del(AttachmentFor(record));
  CrashPoint("stop: network deleted");
  if (!del.ok()) {
    int failures = record.failed_cni_deletes + 1;
    RETURN_IF_ERROR(Update(
        sandbox,
        [failures](SandboxRecord& r) { r.failed_cni_deletes = failures; },
        /*durable=*/false));
    if (!force_network || failures < kMaxFailedCniDeletes) {
      return sys::Annotate(del, "CNI DEL");
    }
    PSB_LOG(kWarning,
            "giving up CNI DEL for pod=%s after %d failures: %s; its CNI "
            "cache entry is retried at the next start",
            record.id, failures, del.ToString());
  }
  return Update(
      sandbox,
      [](SandboxRecord& r) {
        r.steps.erase(
            std::remove(r.steps.begin(), r.steps.end(), Step::kNetwork),
            r.steps.end());
        r.failed_cni_deletes = 0;
      },
      /*durable=*/false);
}

absl::Status ControllerImpl::UnpinNamespaces(Sandbox& sandbox,
                                             const SandboxRecord& record) {
  if (!record.HasStep(Step::kNamespaces)) return absl::OkStatus();
  RETURN_IF_ERROR(netns_->Remove(record.id));
  CrashPoint("stop: namespaces removed");
  return Update(
      sandbox,
      [](SandboxRecord& r) {
        r.steps.erase(
            std::remove(r.steps.begin(), r.steps.end(), Step::kNamespaces),
            r.steps.end());
      },
      /*durable=*/false);
}

bool ControllerImpl::StillListed(absl::string_view id,
                                 const std::shared_ptr<Sandbox>& sandbox) {
  absl::MutexLock lock(&mu_);
  auto it = sandboxes_.find(id);
  return it != sandboxes_.end() && it->second == sandbox;
}

absl::Status ControllerImpl::WithSandboxOp(
    absl::string_view id, absl::FunctionRef<absl::Status(Sandbox&)> op) {
  absl::StatusOr<std::shared_ptr<Sandbox>> found = Resolve(id);
  if (absl::IsNotFound(found.status())) return absl::OkStatus();  // CRI
  RETURN_IF_ERROR(found.status());
  std::shared_ptr<Sandbox> sandbox = *std::move(found);
  absl::MutexLock lock(&sandbox->op_mu);
  // A Remove that ran while we waited took the sandbox away: nothing to
  // do, and saving its record now would bring it back.
  if (!StillListed(sandbox->id, sandbox)) return absl::OkStatus();
  return op(*sandbox);
}

absl::Status ControllerImpl::StopPodSandbox(absl::string_view id) {
  return WithSandboxOp(id, [this](Sandbox& sandbox) {
    return sys::Annotate(StopLocked(sandbox, /*force_network=*/false),
                         absl::StrCat("stop pod sandbox ", sandbox.id));
  });
}

absl::Status ControllerImpl::RemovePodSandbox(absl::string_view id) {
  return WithSandboxOp(
      id, [this](Sandbox& sandbox) { return RemoveLocked(sandbox); });
}

absl::Status ControllerImpl::RemoveLocked(Sandbox& sandbox) {
  std::string context = absl::StrCat("remove pod sandbox ", sandbox.id);
  RETURN_IF_ERROR(
      sys::Annotate(StopLocked(sandbox, /*force_network=*/true), context));
  CrashPoint("remove: stopped");
  SandboxRecord record = Snapshot(sandbox);
  for (Step step : {Step::kTask, Step::kPodFiles, Step::kShm}) {
    if (record.HasStep(step)) {
      RETURN_IF_ERROR(sys::Annotate(UndoStep(record, step), context));
      CrashPoint(absl::StrCat("remove: undid ", StepName(step)));
    }
  }
  RETURN_IF_ERROR(sys::Annotate(store_.Remove(record.id), context));
  names_.Release(ReservationKey(record.config.metadata), record.id);
  ranges_.Release(record.id);
  absl::MutexLock lock(&mu_);
  sandboxes_.erase(record.id);
  return absl::OkStatus();
}

}  // namespace podsandbox::sandbox
