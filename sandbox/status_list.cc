// PodSandboxStatus and ListPodSandbox: both read the records in memory,
// taking mu_ and each sandbox's mu briefly and never an op_mu, so neither
// waits behind a plugin or runtime exec (see controller_impl.h).
#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "oci/runtime_type.h"
#include "sandbox/controller_impl.h"
#include "sandbox/status_info.h"
#include "sys/status.h"

namespace podsandbox::sandbox {

absl::StatusOr<SandboxStatus> ControllerImpl::PodSandboxStatus(
    absl::string_view id, bool verbose) {
  ASSIGN_OR_RETURN(std::shared_ptr<Sandbox> sandbox, Resolve(id));
  SandboxRecord record = Snapshot(*sandbox);
  id = record.id;
  if (record.phase == Phase::kCreating) {
    return absl::NotFoundError(
        absl::StrCat("pod sandbox ", id, " is still being created"));
  }
  oci::RuntimeType type = oci::RuntimeType::kRunc;
  if (absl::StatusOr<const oci::RuntimeHandler*> h =
          handlers_.Resolve(record.runtime_handler);
      h.ok()) {
    type = (*h)->type;
  }
  return StatusOf(record, type, BundleDir(id), verbose);
}

std::optional<SandboxStatus> ControllerImpl::ListEntry(
    Sandbox& sandbox, const ListFilter& filter) {
  absl::MutexLock lock(&sandbox.mu);
  if (sandbox.record.phase == Phase::kCreating) return std::nullopt;
  if (filter.state.has_value() &&
      StateOf(sandbox.record.phase) != *filter.state) {
    return std::nullopt;
  }
  for (const auto& [key, value] : filter.label_selector) {
    auto it = sandbox.record.config.labels.find(key);
    if (it == sandbox.record.config.labels.end() || it->second != value) {
      return std::nullopt;
    }
  }
  return StatusOf(sandbox.record, oci::RuntimeType::kRunc, "",
                  /*verbose=*/false);
}

std::vector<SandboxStatus> ControllerImpl::ListPodSandbox(
    const ListFilter& filter) {
  std::vector<std::shared_ptr<Sandbox>> all;
  {
    absl::MutexLock lock(&mu_);
    // A filter id may be a prefix, as crictl users type it.
    for (const auto& [id, sandbox] : sandboxes_) {
      if (!filter.id.has_value() || absl::StartsWith(id, *filter.id)) {
        all.push_back(sandbox);
      }
    }
  }
  std::vector<SandboxStatus> out;
  for (const std::shared_ptr<Sandbox>& sandbox : all) {
    if (std::optional<SandboxStatus> status = ListEntry(*sandbox, filter)) {
      out.push_back(*std::move(status));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SandboxStatus& a, const SandboxStatus& b) {
              return a.created_at < b.created_at;
            });
  return out;
}

}  // namespace podsandbox::sandbox
