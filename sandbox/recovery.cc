// Restart recovery: each record loaded and rolled back, re-attached or
// listed as it was; then the orphans (what has no record) collected.
// See docs/design.md, "Restart recovery".
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "metrics/registry.h"
#include "sandbox/cleanup_stack.h"
#include "sandbox/controller_impl.h"
#include "sandbox/derived_specs.h"
#include "sandbox/pod_files.h"
#include "sys/file.h"
#include "sys/log.h"
#include "sys/status.h"

namespace podsandbox::sandbox {
namespace {

// The entries of a directory of ours, for orphan collection: an unreadable
// one has nothing to collect now (the next start tries again).
std::vector<std::string> NamesIn(const std::string& dir) {
  return sys::ListDir(dir).value_or(std::vector<std::string>());
}

}  // namespace

absl::Status ControllerImpl::RollBack(const SandboxRecord& record) {
  CleanupStack undo(absl::StrCat("pod ", record.id));
  for (Step step : record.steps) {
    undo.Push(std::string(StepName(step)), [this, record, step] {
      absl::Status s = UndoStep(record, step);
      CrashPoint(absl::StrCat("recover: undid ", StepName(step)));
      return s;
    });
  }
  absl::Status failed = undo.Unwind(
      absl::InternalError(absl::StrCat("roll back pod sandbox ", record.id)));
  return undo.undo_failures() == 0 ? absl::OkStatus() : failed;
}

absl::Status ControllerImpl::Recover() {
  ASSIGN_OR_RETURN(Store::Loaded loaded, store_.LoadAll());
  for (const std::string& bad : loaded.quarantined) {
    PSB_LOG(kError, "quarantined corrupt sandbox record %s", bad);
  }
  static metrics::CounterFamily& outcomes = metrics::DefaultRegistry().Counter(
      "podsandbox_recovery_sandboxes_total",
      "Sandbox records met by restart recovery, by outcome: rolled_back (was "
      "creating), reattached (pause alive), exited (pause gone), listed "
      "(stopped before), failed (left on disk), quarantined (corrupt).",
      {"outcome"});
  static metrics::GaugeFamily& duration = metrics::DefaultRegistry().Gauge(
      "podsandbox_recovery_duration_seconds",
      "How long the last restart recovery took, orphan collection included.",
      {});
  // A re-attached record is still ready after RecoverRecord; one whose
  // pause died while we were away is not.
  auto still_ready = [this](const std::string& id) {
    std::shared_ptr<Sandbox> sandbox;
    {
      absl::MutexLock lock(&mu_);
      auto it = sandboxes_.find(id);
      if (it == sandboxes_.end()) return false;
      sandbox = it->second;
    }
    absl::MutexLock lock(&sandbox->mu);
    return sandbox->record.phase == Phase::kReady;
  };
  const absl::Time start = absl::Now();
  outcomes.Add({"quarantined"}, loaded.quarantined.size());
  for (SandboxRecord& record : loaded.records) {
    std::string id = record.id;
    const Phase found = record.phase;
    if (absl::Status s = RecoverRecord(std::move(record)); !s.ok()) {
      // One bad sandbox must not keep the daemon (and every other pod)
      // down: it stays on disk for the next start, and is reported.
      PSB_LOG(kError, "recover pod=%s: %s", id, s.ToString());
      outcomes.Add({"failed"});
    } else if (found == Phase::kCreating) {
      outcomes.Add({"rolled_back"});
    } else if (found == Phase::kReady) {
      outcomes.Add({still_ready(id) ? "reattached" : "exited"});
    } else {
      outcomes.Add({"listed"});
    }
  }
  CollectOrphans();
  duration.Set({}, absl::ToDoubleSeconds(absl::Now() - start));
  return absl::OkStatus();
}

absl::Status ControllerImpl::RecoverRecord(SandboxRecord record) {
  if (record.phase == Phase::kCreating) {
    // Killed mid-pipeline: finish the rollback from the journal.
    RETURN_IF_ERROR(RollBack(record));
    CrashPoint("recover: rolled back");
    return store_.Remove(record.id);
  }
  // A pod without a pause (no task step) has nothing to re-attach: its
  // pinned namespaces are the sandbox.
  if (record.phase == Phase::kReady && record.HasStep(Step::kTask)) {
    absl::Status alive =
        tasks_.Reattach(record.id, {record.pid, record.pid_start_time});
    if (!alive.ok()) {
      if (!absl::IsNotFound(alive)) return alive;
      // The pause died while we were away. Its resources stay for Stop.
      record.phase = Phase::kNotReady;
      record.exited_at = absl::Now();
      RETURN_IF_ERROR(store_.Save(record, /*durable=*/false));
    }
  }
  names_.Restore(ReservationKey(record.config.metadata), record.config,
                 record.runtime_handler, record.id);
  if (record.config.user_namespaced()) {
    ranges_.Restore(record.id,
                    absl::StrCat(record.config.metadata.namespace_, "/",
                                 record.config.metadata.name),
                    record.config.namespaces.userns.mappings);
  }
  std::string id = record.id;
  auto sandbox = std::make_shared<Sandbox>(id);
  {
    absl::MutexLock lock(&sandbox->mu);
    sandbox->record = std::move(record);
  }
  absl::MutexLock lock(&mu_);
  sandboxes_[id] = std::move(sandbox);
  return absl::OkStatus();
}

void ControllerImpl::CollectOrphans() {
  absl::flat_hash_set<std::string> known;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, sandbox] : sandboxes_) known.insert(id);
  }
  // Records still "creating" after a failed rollback stay on disk; their
  // leftovers are theirs, not orphans.
  if (absl::StatusOr<Store::Loaded> loaded = store_.LoadAll(); loaded.ok()) {
    for (const SandboxRecord& r : loaded->records) known.insert(r.id);
  }
  auto report = [](absl::string_view what, const std::string& id,
                   const absl::Status& s) {
    if (!s.ok()) {
      PSB_LOG(kWarning, "collect orphaned %s of %s: %s", what, id,
              s.ToString());
    }
  };
  for (const std::string& id : NamesIn(BundleDir(""))) {
    if (known.contains(id)) continue;
    for (const oci::RuntimeHandler& handler : handlers_.handlers()) {
      report("pause task", id, tasks_.Delete(handler, id, BundleDir(id)));
    }
  }
  CrashPoint("collect: pause tasks deleted");
  for (const std::string& id : NamesIn(PodFilesDir(""))) {
    if (!known.contains(id)) {
      report("pod files", id, RemovePodFiles(sys_, PodFilesDir(id)));
    }
  }
  for (const std::string& id : NamesIn(ShmDir(""))) {
    if (!known.contains(id)) {
      report("pod shm", id, shm_.unmount(ShmDir(id)));
    }
  }
  // CNI DEL before the unpin, so plugins still see the netns.
  if (absl::StatusOr<std::vector<std::string>> cached = cni_.CachedContainers();
      cached.ok()) {
    for (const std::string& id : *cached) {
      if (known.contains(id)) continue;
      SandboxRecord orphan;
      orphan.id = id;
      orphan.netns_pin = netns_->NetnsPin(id);
      // Without its netns, DEL still releases the IPAM lease and rules.
      if (::access(orphan.netns_pin.c_str(), F_OK) != 0) orphan.netns_pin = "";
      report("CNI attachment", id, cni_.Del(AttachmentFor(orphan)));
    }
  }
  CrashPoint("collect: attachments deleted");
  if (absl::StatusOr<std::vector<std::string>> pinned = netns_->ListIds();
      pinned.ok()) {
    for (const std::string& id : *pinned) {
      if (!known.contains(id)) report("namespaces", id, netns_->Remove(id));
    }
  }
}

}  // namespace podsandbox::sandbox
