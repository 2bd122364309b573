#include "sandbox/testing/pause_task_env.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "sandbox/pause/rootfs.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::sandbox::testing {

PauseTaskEnv::PauseTaskEnv(sys::Sys& sys, std::string dir, sys::Sys* task_sys,
                           absl::Duration reaper_interval)
    : sys_(sys),
      dir_(std::move(dir)),
      rootfs_(absl::StrCat(dir_, "/rootfs")),
      reaper_(sys, reaper_interval),
      task_(task_sys != nullptr ? *task_sys : sys, &reaper_, {rootfs_},
            [this](const oci::ProcessExit& exit) {
              absl::MutexLock lock(&mu_);
              exits_.push_back(exit);
            }) {}

absl::Status PauseTaskEnv::PrepareRootfs() {
  RETURN_IF_ERROR(sys::MakeDirs(sys_, dir_, 0755));
  return pause::EnsurePauseRootfs(sys_, rootfs_, kPauseBinary);
}

absl::Status PauseTaskEnv::Start() {
  RETURN_IF_ERROR(reaper_.Start());
  return task_.Init();
}

std::vector<oci::ProcessExit> PauseTaskEnv::Exits(size_t n,
                                                  absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return exits_.size() >= n;
  };
  mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  return exits_;
}

oci::TaskSpec PauseTaskEnv::Spec(absl::string_view id, absl::string_view name) {
  oci::TaskSpec spec;
  spec.sandbox_id = std::string(id);
  spec.pod_name = std::string(name);
  spec.pod_namespace = "default";
  spec.pod_uid = "uid-1";
  spec.hostname = std::string(name);
  return spec;
}

}  // namespace podsandbox::sandbox::testing
