// A stand-in for the pause of a pod that has none (podsandboxd's
// infra = "none", CRI-O's drop_infra_ctr): a process of ours that joins
// the pod's pinned namespaces, so every check that reads a pause's /proc
// (maps, namespaces, mountinfo, hostname, addresses) reads the pins
// through it.
//
// The probe joins the user namespace pin first, then the net, UTS and IPC
// pins from inside it. setns(2) into a namespace needs CAP_SYS_ADMIN in
// the user namespace that owns it, and after joining the pod's user
// namespace the probe has capabilities there and in no other: each later
// join succeeds only if the pod's user namespace owns that pin. Then it
// unshares a mount namespace (owned by the pod's user namespace) and
// mounts sysfs on /sys, which the kernel allows only to a process with
// CAP_SYS_ADMIN over the netns's owner: the probe's own /sys is the sysfs
// of the pinned netns, as a pause's would be.
//
// The probe is a cloned child with a single thread: the kernel refuses
// setns(CLONE_NEWUSER) to a multithreaded caller, and the harness runs
// gRPC's threads. It only waits afterwards; it exits when killed, or when
// its creator goes (the end of a pipe it reads). Needs root.
//
// Thread-safety: one PinProbe per thread; Start may be called from any.
#ifndef PODSANDBOX_HARNESS_PIN_PROBE_H_
#define PODSANDBOX_HARNESS_PIN_PROBE_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sys/unique_fd.h"

namespace podsandbox::harness {

// The pins to join; an empty path is not joined (the probe keeps ours).
struct Pins {
  std::string user;
  std::string net;
  std::string uts;
  std::string ipc;
};

class PinProbe {
 public:
  // Starts a probe in `pins` and returns once it has joined them and
  // mounted sysfs. Errors: the one of opening a pin (NotFound when a path
  // is gone); otherwise the errno of the probe's step that failed, named
  // (PermissionDenied when a pin is not owned by the pinned user
  // namespace). Nothing is left running on error.
  static absl::StatusOr<std::unique_ptr<PinProbe>> Start(const Pins& pins);

  PinProbe(const PinProbe&) = delete;
  PinProbe& operator=(const PinProbe&) = delete;

  // Kills and reaps the probe (Stop).
  ~PinProbe();

  // The probe's host pid; stays valid (no other process can take it) until
  // Stop reaps it.
  pid_t pid() const { return pid_; }

  // SIGKILL, then waits for the probe's exit, so its namespaces' last
  // reference from us is gone when this returns. Idempotent.
  absl::Status Stop();

 private:
  PinProbe(pid_t pid, sys::UniqueFd hold) : pid_(pid), hold_(std::move(hold)) {}

  pid_t pid_;
  // The write end of the pipe the probe reads until it closes: if we die
  // without Stop, the probe sees EOF and exits rather than hold the pins.
  sys::UniqueFd hold_;
  bool reaped_ = false;
};

}  // namespace podsandbox::harness

#endif  // PODSANDBOX_HARNESS_PIN_PROBE_H_
