// A PodNetns for tests without root: a pod's "pins" are empty files under
// a directory (<dir>/netns/<id>, <dir>/userns/<id>), so what the
// controller creates and removes can be seen and counted, and no namespace
// is made. lo "comes up" by being recorded.
//
// FailNextCreate makes the next Create return an error with no effect.
//
// Thread-safe.
#ifndef PODSANDBOX_SANDBOX_TESTING_FAKE_POD_NETNS_H_
#define PODSANDBOX_SANDBOX_TESTING_FAKE_POD_NETNS_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "sandbox/pod_netns.h"

namespace podsandbox::sandbox::testing {

class FakePodNetns : public PodNetns {
 public:
  // `dir` must exist; the fake makes its two subdirectories in Init.
  explicit FakePodNetns(std::string dir);

  void FailNextCreate(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);
  // The netns pins lo was brought up in, in order.
  std::vector<std::string> loopbacks() const ABSL_LOCKS_EXCLUDED(mu_);

  // sandbox::PodNetns
  absl::Status Init() override;
  absl::StatusOr<netns::PinnedNamespaces> Create(
      absl::string_view id, const userns::IdMappings* mappings) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status BringUpLoopback(absl::string_view netns_pin) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Remove(absl::string_view id) override;
  std::string NetnsPin(absl::string_view id) const override;
  absl::StatusOr<std::vector<std::string>> ListIds() const override;

 private:
  std::string UsernsPin(absl::string_view id) const;

  const std::string dir_;
  mutable absl::Mutex mu_;
  absl::Status fail_next_create_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> loopbacks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podsandbox::sandbox::testing

#endif  // PODSANDBOX_SANDBOX_TESTING_FAKE_POD_NETNS_H_
