#include "sys/testing/kill_at_rename.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "sys/testing/faulty_sys.h"

namespace podsandbox::sys::testing {
namespace {

class KilledAtRename : public FaultySys {
 public:
  using FaultySys::FaultySys;
  SysResult Rename(const char*, const char*) override {
    ::raise(SIGKILL);
    return {-1, EINTR};  // not reached
  }
};

}  // namespace

absl::Status KillAtRename(Sys& real, absl::FunctionRef<void(Sys&)> write) {
  pid_t child = ::fork();
  if (child < 0) return absl::InternalError("fork failed");
  if (child == 0) {
    KilledAtRename killed(real);
    write(killed);
    ::_exit(0);  // the rename should have killed us
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child) {
    return absl::InternalError("waitpid failed");
  }
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the writer was not killed at a rename: wait status ", status));
}

}  // namespace podsandbox::sys::testing
