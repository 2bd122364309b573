#include "sandbox/cleanup_stack.h"

#include "absl/strings/str_cat.h"
#include "metrics/registry.h"
#include "sys/log.h"

namespace podsandbox::sandbox {

CleanupStack::CleanupStack(std::string owner) : owner_(std::move(owner)) {}

CleanupStack::~CleanupStack() {
  for (const auto& [step, status] : RunAll()) {
    PSB_LOG(kWarning, "rollback %s failed for %s: %s", step, owner_,
            status.ToString());
  }
}

void CleanupStack::Push(std::string step, Undo undo) {
  steps_.push_back(Step{std::move(step), std::move(undo)});
}

std::vector<std::pair<std::string, absl::Status>> CleanupStack::RunAll() {
  std::vector<std::pair<std::string, absl::Status>> failures;
  while (!steps_.empty()) {
    Step step = std::move(steps_.back());
    steps_.pop_back();
    // Step names are our own literals (StepName, PauseTask's), so the
    // label set stays small.
    static metrics::CounterFamily& rollback_steps =
        metrics::DefaultRegistry().Counter(
            "podsandbox_rollback_steps_total",
            "Undo steps run by a rollback (a failed RunPodSandbox, a pause "
            "task's start, restart recovery), by step and outcome.",
            {"step", "outcome"});
    absl::Status s = step.undo();
    rollback_steps.Add({step.name, s.ok() ? "ok" : "failed"});
    if (!s.ok()) failures.emplace_back(std::move(step.name), std::move(s));
  }
  return failures;
}

absl::Status CleanupStack::Unwind(absl::Status error) {
  std::string message(error.message());
  std::vector<std::pair<std::string, absl::Status>> failures = RunAll();
  undo_failures_ = failures.size();
  for (const auto& [step, status] : failures) {
    absl::StrAppend(&message, "; rollback of ", step,
                    " failed: ", status.ToString());
  }
  return absl::Status(error.code(), message);
}

void CleanupStack::Commit() && { steps_.clear(); }

}  // namespace podsandbox::sandbox
