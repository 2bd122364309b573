#include "container/record_store.h"

#include <algorithm>
#include <cerrno>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::container {
namespace {

constexpr absl::string_view kSuffix = ".json";

}  // namespace

RecordStore::RecordStore(sys::Sys& sys, std::string dir)
    : sys_(sys), dir_(std::move(dir)) {}

absl::Status RecordStore::Init() {
  RETURN_IF_ERROR(sys::MakeDirs(sys_, dir_, 0700));
  return sys::RemoveTempFiles(sys_, dir_).status();
}

std::string RecordStore::PathFor(absl::string_view id) const {
  return absl::StrCat(dir_, "/", id, kSuffix);
}

absl::Status RecordStore::Save(const ContainerRecord& record, bool durable) {
  return sys::WriteFileAtomically(sys_, PathFor(record.id),
                                  RecordToJson(record), 0600, durable);
}

absl::Status RecordStore::Remove(absl::string_view id) {
  return sys::RemoveFileIfExists(sys_, PathFor(id));
}

absl::StatusOr<RecordStore::Loaded> RecordStore::LoadAll() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, sys::ListDir(dir_));
  std::vector<std::string> files;
  for (std::string& name : names) {
    if (absl::EndsWith(name, kSuffix)) files.push_back(std::move(name));
  }
  std::sort(files.begin(), files.end());
  Loaded loaded;
  for (const std::string& file : files) {
    std::string path = absl::StrCat(dir_, "/", file);
    absl::StatusOr<std::string> text = sys::ReadFile(path);
    if (!text.ok()) return text.status();
    absl::StatusOr<ContainerRecord> record = RecordFromJson(*text);
    std::string expected_id = file.substr(0, file.size() - kSuffix.size());
    if (record.ok() && record->id != expected_id) {
      record = absl::InvalidArgumentError(
          absl::StrCat("record.id \"", record->id, "\" does not match"));
    }
    if (record.ok()) {
      loaded.records.push_back(*std::move(record));
      continue;
    }
    std::string quarantine = absl::StrCat(path, ".corrupt");
    if (sys::SysResult r = sys_.Rename(path.c_str(), quarantine.c_str());
        !r.ok()) {
      return sys::ErrnoError(r.err, "quarantine corrupt record %s", path);
    }
    loaded.quarantined.push_back(absl::StrCat(
        path, ": ", record.status().message(), " (moved to ", quarantine, ")"));
  }
  return loaded;
}

}  // namespace podsandbox::container
