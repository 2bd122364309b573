#include "sandbox/range_registry.h"

#include <cstdint>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace podsandbox::sandbox {
namespace {

bool Overlaps(const userns::IdMapping& a, const userns::IdMapping& b) {
  uint64_t a_end = uint64_t{a.host_id} + a.length;
  uint64_t b_end = uint64_t{b.host_id} + b.length;
  return a.host_id < b_end && b.host_id < a_end;
}

}  // namespace

absl::Status RangeRegistry::Reserve(absl::string_view id, absl::string_view pod,
                                    const userns::IdMappings& mappings,
                                    absl::string_view field_prefix) {
  absl::MutexLock lock(&mu_);
  for (const auto& [holder_id, holder] : holders_) {
    if (holder_id == id) continue;
    for (const auto& [name, mine, theirs] :
         {std::make_tuple("uids", &mappings.uids, &holder.mappings.uids),
          std::make_tuple("gids", &mappings.gids, &holder.mappings.gids)}) {
      for (size_t i = 0; i < mine->size(); ++i) {
        for (const userns::IdMapping& other : *theirs) {
          if (!Overlaps((*mine)[i], other)) continue;
          const userns::IdMapping& m = (*mine)[i];
          return absl::InvalidArgumentError(absl::StrCat(
              field_prefix, ".", name, "[", i, "]: host range ", m.host_id, "+",
              m.length, " overlaps host range ", other.host_id, "+",
              other.length, " of live sandbox ", holder_id, " (pod ",
              holder.pod,
              "); pods must not share host ids unless the user namespace "
              "policy allows overlapping ranges"));
        }
      }
    }
  }
  holders_[id] = Holder{std::string(pod), mappings};
  return absl::OkStatus();
}

void RangeRegistry::Restore(absl::string_view id, absl::string_view pod,
                            const userns::IdMappings& mappings) {
  absl::MutexLock lock(&mu_);
  holders_[id] = Holder{std::string(pod), mappings};
}

void RangeRegistry::Release(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  holders_.erase(id);
}

}  // namespace podsandbox::sandbox
