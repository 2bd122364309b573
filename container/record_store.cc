#include "container/record_store.h"

#include <utility>

namespace podsandbox::container {

RecordStore::RecordStore(sys::Sys& sys, std::string dir)
    : records_(sys, std::move(dir)) {}

absl::Status RecordStore::Init() { return records_.Init(); }

std::string RecordStore::PathFor(absl::string_view id) const {
  return records_.PathFor(id);
}

absl::Status RecordStore::Save(const ContainerRecord& record, bool durable) {
  return records_.Save(record.id, RecordToJson(record), durable);
}

absl::Status RecordStore::Remove(absl::string_view id) {
  return records_.Remove(id);
}

absl::StatusOr<RecordStore::Loaded> RecordStore::LoadAll() {
  Loaded loaded;
  absl::StatusOr<std::vector<std::string>> quarantined =
      records_.LoadAll(&RecordFromJson, loaded.records);
  if (!quarantined.ok()) return quarantined.status();
  loaded.quarantined = *std::move(quarantined);
  return loaded;
}

}  // namespace podsandbox::container
