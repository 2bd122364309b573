#include "sandbox/store.h"

#include <utility>

namespace podsandbox::sandbox {

Store::Store(sys::Sys& sys, std::string dir) : records_(sys, std::move(dir)) {}

absl::Status Store::Init() { return records_.Init(); }

std::string Store::PathFor(absl::string_view id) const {
  return records_.PathFor(id);
}

absl::Status Store::Save(const SandboxRecord& record, bool durable) {
  return records_.Save(record.id, RecordToJson(record), durable);
}

absl::Status Store::Remove(absl::string_view id) { return records_.Remove(id); }

absl::StatusOr<Store::Loaded> Store::LoadAll() {
  Loaded loaded;
  absl::StatusOr<std::vector<std::string>> quarantined =
      records_.LoadAll(&RecordFromJson, loaded.records);
  if (!quarantined.ok()) return quarantined.status();
  loaded.quarantined = *std::move(quarantined);
  return loaded;
}

}  // namespace podsandbox::sandbox
