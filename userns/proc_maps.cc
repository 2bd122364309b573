#include "userns/proc_maps.h"

#include <fcntl.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::userns {
namespace {

absl::Status WriteMap(sys::Sys& sys, const std::string& path,
                      const std::vector<IdMapping>& mappings) {
  ASSIGN_OR_RETURN(sys::UniqueFd fd, sys::OpenFile(sys, path, O_WRONLY));
  // The kernel takes a map in a single write(2); a short write is an error.
  std::string text = FormatMapFile(mappings);
  sys::SysResult r = sys.Write(fd.get(), text.data(), text.size());
  if (!r.ok()) return sys::ErrnoError(r.err, "write %s", path);
  if (static_cast<size_t>(r.value) != text.size()) {
    return absl::InternalError(absl::StrCat("write ", path, ": short write"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteProcessMaps(sys::Sys& sys, pid_t pid,
                              const IdMappings& mappings) {
  RETURN_IF_ERROR(
      WriteMap(sys, absl::StrCat("/proc/", pid, "/gid_map"), mappings.gids));
  return WriteMap(sys, absl::StrCat("/proc/", pid, "/uid_map"), mappings.uids);
}

absl::StatusOr<IdMappings> ReadProcessMaps(pid_t pid) {
  IdMappings mappings;
  ASSIGN_OR_RETURN(std::string uids,
                   sys::ReadFile(absl::StrCat("/proc/", pid, "/uid_map")));
  ASSIGN_OR_RETURN(std::string gids,
                   sys::ReadFile(absl::StrCat("/proc/", pid, "/gid_map")));
  ASSIGN_OR_RETURN(mappings.uids, ParseMapFile(uids));
  ASSIGN_OR_RETURN(mappings.gids, ParseMapFile(gids));
  return mappings;
}

}  // namespace podsandbox::userns
