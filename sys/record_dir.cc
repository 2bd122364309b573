#include "sys/record_dir.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "sys/file.h"

namespace podsandbox::sys {
namespace {

constexpr absl::string_view kSuffix = ".json";

}  // namespace

RecordDir::RecordDir(Sys& sys, std::string dir)
    : sys_(sys), dir_(std::move(dir)) {}

absl::Status RecordDir::Init() {
  RETURN_IF_ERROR(MakeDirs(sys_, dir_, 0700));
  return RemoveTempFiles(sys_, dir_).status();
}

std::string RecordDir::PathFor(absl::string_view id) const {
  return absl::StrCat(dir_, "/", id, kSuffix);
}

absl::Status RecordDir::Save(absl::string_view id, absl::string_view json,
                             bool durable) {
  return WriteFileAtomically(sys_, PathFor(id), json, 0600, durable);
}

absl::Status RecordDir::Remove(absl::string_view id) {
  return RemoveFileIfExists(sys_, PathFor(id));
}

absl::StatusOr<std::vector<std::string>> RecordDir::LoadEach(
    absl::FunctionRef<absl::Status(absl::string_view id,
                                   absl::string_view text)>
        load) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir_));
  std::vector<std::string> files;
  for (std::string& name : names) {
    if (absl::EndsWith(name, kSuffix)) files.push_back(std::move(name));
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> quarantined;
  for (const std::string& file : files) {
    std::string path = absl::StrCat(dir_, "/", file);
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    absl::string_view id(file.data(), file.size() - kSuffix.size());
    absl::Status loaded = load(id, text);
    if (loaded.ok()) continue;
    std::string quarantine = absl::StrCat(path, ".corrupt");
    if (SysResult r = sys_.Rename(path.c_str(), quarantine.c_str()); !r.ok()) {
      return ErrnoError(r.err, "quarantine corrupt record %s", path);
    }
    quarantined.push_back(absl::StrCat(path, ": ", loaded.message(),
                                       " (moved to ", quarantine, ")"));
  }
  return quarantined;
}

}  // namespace podsandbox::sys
