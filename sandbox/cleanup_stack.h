// A stack of named undo steps for a multi-step operation with side effects.
//
// Each step pushes its undo right after it succeeds. If a later step fails,
// Unwind(error) runs the undos newest first, continues past any that fail,
// and returns the original error with the undo failures attached: the code
// and message of the original always lead. Commit() disarms the stack once
// every step has succeeded. A stack destroyed while armed unwinds itself and
// logs what failed, since there is nobody to return it to.
//
// Undo closures capture by value; they must be idempotent ("already gone"
// is success), because after a crash the same undo runs again from the
// persisted record.
//
// Not thread-safe: one operation owns one stack.
#ifndef PODSANDBOX_SANDBOX_CLEANUP_STACK_H_
#define PODSANDBOX_SANDBOX_CLEANUP_STACK_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace podsandbox::sandbox {

class CleanupStack {
 public:
  using Undo = absl::AnyInvocable<absl::Status()>;

  // `owner` names what is being built, for logs ("pod <id>").
  explicit CleanupStack(std::string owner);
  ~CleanupStack();
  CleanupStack(const CleanupStack&) = delete;
  CleanupStack& operator=(const CleanupStack&) = delete;

  void Push(std::string step, Undo undo);

  // Runs every undo, newest first, and returns `error` (which must not be
  // OK) with "; rollback of <step> failed: <status>" appended for each undo
  // that failed. Leaves the stack empty.
  absl::Status Unwind(absl::Status error);

  // Disarms the stack: the steps stay done.
  void Commit() &&;

  size_t size() const { return steps_.size(); }

  // How many undos failed in the last Unwind: a caller that must keep
  // state for a retry (the sandbox record) branches on this, never on the
  // message.
  size_t undo_failures() const { return undo_failures_; }

 private:
  struct Step {
    std::string name;
    Undo undo;
  };

  // Runs and pops every undo; returns the failures as (step, status).
  std::vector<std::pair<std::string, absl::Status>> RunAll();

  std::string owner_;
  std::vector<Step> steps_;
  size_t undo_failures_ = 0;
};

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_CLEANUP_STACK_H_
