// A fake OCI runtime for tests that run without root: the controller's and
// the pause task's logic over a runtime that records every call and fails
// the verbs a test names, with the errors it names.
//
// A created container is a real child process of the test (/bin/sleep),
// whose pid goes to the request's pid file: pidfds, the exit watcher and
// signals behave as with a real runtime, whose pause the daemon also
// adopts; the request's stdout/stderr fds become its own. Kill signals it;
// Delete kills it and forgets the container. Exec runs nothing: it returns
// the result SetExecResult set (exit 0, no output by default) for a running
// container. Update keeps the resources JSON (resources(id)). The
// child is not reaped here: whoever watches it (oci::ExitWatcher) does, as
// the daemon reaps a real pause.
//
// One FakeOciRuntime holds the state of every container, across the many
// driver objects a caller makes (PauseTask makes one per call): Factory()
// returns a function that makes drivers forwarding to it, for any handler.
//
// Injected errors: FailNext(verb, status, n) makes the next n calls of
// `verb` return `status` with no effect. fired(verb) counts the injected
// errors returned, so a test proves each one fired (AllInjectedFired).
//
// Thread-safe.
#ifndef PODSANDBOX_OCI_TESTING_FAKE_OCI_RUNTIME_H_
#define PODSANDBOX_OCI_TESTING_FAKE_OCI_RUNTIME_H_

#include <sys/types.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "oci/runtime.h"
#include "oci/runtime_handler.h"
#include "oci/task_spec.h"
#include "sys/unique_fd.h"

namespace podsandbox::oci::testing {

class FakeOciRuntime {
 public:
  enum class Verb {
    kCheckCanRun,
    kCheckSupported,
    kCreate,
    kStart,
    kState,
    kKill,
    kDelete,
    kExec,
    kUpdate,
  };
  static constexpr int kVerbCount = static_cast<int>(Verb::kUpdate) + 1;

  struct Call {
    Verb verb;
    std::string handler;  // the handler's name
    std::string id;       // empty for the checks
    int signal = 0;       // for kKill
  };

  // Makes a driver for `handler` that forwards to this fake.
  using Maker =
      std::function<std::unique_ptr<OciRuntime>(const RuntimeHandler&)>;

  FakeOciRuntime() = default;
  // Kills the children still alive (without reaping them).
  ~FakeOciRuntime();
  FakeOciRuntime(const FakeOciRuntime&) = delete;
  FakeOciRuntime& operator=(const FakeOciRuntime&) = delete;

  // A driver for `handler`; this fake must outlive it.
  std::unique_ptr<OciRuntime> Make(const RuntimeHandler& handler);
  // Make, as a function to hand to the code under test.
  Maker Factory();

  // The next `times` calls of `verb` return `status` (not OK) and do
  // nothing else.
  void FailNext(Verb verb, absl::Status status, int times = 1)
      ABSL_LOCKS_EXCLUDED(mu_);
  // How many injected errors of `verb` were returned.
  int fired(Verb verb) const ABSL_LOCKS_EXCLUDED(mu_);
  // Whether every injected error was returned (none is still pending).
  bool AllInjectedFired() const ABSL_LOCKS_EXCLUDED(mu_);

  // Every call so far, in order (failed ones too).
  std::vector<Call> calls() const ABSL_LOCKS_EXCLUDED(mu_);
  int count(Verb verb) const ABSL_LOCKS_EXCLUDED(mu_);
  // The ids of the containers that exist (created, not deleted).
  std::vector<std::string> containers() const ABSL_LOCKS_EXCLUDED(mu_);
  // The child process of container `id`; 0 if there is no such container.
  pid_t pid(absl::string_view id) const ABSL_LOCKS_EXCLUDED(mu_);
  // What the next Execs return.
  void SetExecResult(ExecResult result) ABSL_LOCKS_EXCLUDED(mu_);
  // The resources JSON of the last Update of `id`; empty if none.
  std::string resources(absl::string_view id) const ABSL_LOCKS_EXCLUDED(mu_);

  static absl::string_view VerbName(Verb verb);

  // The OciRuntime verbs, for the drivers Make returns.
  absl::Status CheckCanRun(const RuntimeHandler& handler, const PodNeeds& pod)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status CheckSupported(const RuntimeHandler& handler,
                              const TaskSpec& spec) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Create(const RuntimeHandler& handler,
                      const CreateRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Start(const RuntimeHandler& handler, absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<RuntimeState> State(const RuntimeHandler& handler,
                                     absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Kill(const RuntimeHandler& handler, absl::string_view id,
                    int signal) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Delete(const RuntimeHandler& handler, absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ExecResult> Exec(const RuntimeHandler& handler,
                                  const ExecRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Update(const RuntimeHandler& handler, absl::string_view id,
                      const std::string& resources_json)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Container {
    pid_t pid = 0;
    sys::UniqueFd pidfd;
    std::string bundle;
    bool started = false;
    std::string resources;  // the last Update's
  };

  // Records the call; returns the injected error for `verb` if one is
  // pending.
  absl::Status Enter(Call call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // "created", "running" or "stopped" (the child has exited).
  static std::string StatusOf(const Container& c);

  mutable absl::Mutex mu_;
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::Status> pending_[kVerbCount] ABSL_GUARDED_BY(mu_);
  int fired_[kVerbCount] ABSL_GUARDED_BY(mu_) = {};
  std::map<std::string, Container> containers_ ABSL_GUARDED_BY(mu_);
  ExecResult exec_result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podsandbox::oci::testing

#endif  // PODSANDBOX_OCI_TESTING_FAKE_OCI_RUNTIME_H_
