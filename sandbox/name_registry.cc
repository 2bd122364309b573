#include "sandbox/name_registry.h"

#include "absl/strings/str_cat.h"

namespace podsandbox::sandbox {

std::string ReservationKey(const PodMetadata& metadata) {
  // Space cannot appear in a name, namespace or uid (validation.cc), so
  // no two pods share a key.
  return absl::StrCat(metadata.name, " ", metadata.namespace_, " ",
                      metadata.uid, " ", metadata.attempt);
}

absl::StatusOr<NameRegistry::Claim> NameRegistry::Reserve(
    const std::string& key, const PodConfig& config, absl::string_view handler,
    const std::string& new_id) {
  absl::MutexLock lock(&mu_);
  while (true) {
    auto it = holders_.find(key);
    if (it == holders_.end()) {
      if (holders_.size() >= max_sandboxes_) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "this node holds ", holders_.size(),
            " pod sandboxes, the configured maximum (max_sandboxes); remove "
            "one first"));
      }
      holders_[key] = Holder{new_id, config, std::string(handler), true};
      return Claim{new_id, false};
    }
    const Holder& holder = it->second;
    if (!(holder.config == config) || holder.handler != handler) {
      return absl::AlreadyExistsError(
          absl::StrCat("pod name ", key, " is held by sandbox ", holder.id,
                       " created from a different request; remove it first"));
    }
    if (!holder.creating) return Claim{holder.id, true};
    // Wait until that creation ends either way, then look again.
    std::string waiting_for = holder.id;
    auto done = [this, &key,
                 &waiting_for]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      auto found = holders_.find(key);
      return found == holders_.end() || found->second.id != waiting_for ||
             !found->second.creating;
    };
    mu_.Await(absl::Condition(&done));
  }
}

void NameRegistry::MarkCreated(const std::string& key, absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto it = holders_.find(key);
  if (it != holders_.end() && it->second.id == id) it->second.creating = false;
}

void NameRegistry::Release(const std::string& key, absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto it = holders_.find(key);
  if (it != holders_.end() && it->second.id == id) holders_.erase(it);
}

void NameRegistry::Restore(const std::string& key, const PodConfig& config,
                           absl::string_view handler, absl::string_view id) {
  absl::MutexLock lock(&mu_);
  holders_[key] = Holder{std::string(id), config, std::string(handler), false};
}

}  // namespace podsandbox::sandbox
