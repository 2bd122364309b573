#include "sys/cgroup_layout.h"

#include <linux/magic.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::sys {
namespace {

SysResult RealFsType(const char* path) {
  struct statfs fs;
  if (::statfs(path, &fs) != 0) return SysResult{-1, errno};
  return SysResult{static_cast<long>(fs.f_type), 0};
}

}  // namespace

absl::string_view CgroupLayoutName(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::kV1:
      return "v1";
    case CgroupLayout::kHybrid:
      return "hybrid";
    case CgroupLayout::kV2:
      return "v2";
  }
  return "unknown";
}

absl::StatusOr<CgroupLayout> DetectCgroupLayout(FsTypeFunction fs_type) {
  const SysResult root = fs_type(kCgroupRoot);
  if (!root.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("statfs ", kCgroupRoot, ": ", std::strerror(root.err)));
  }
  const auto magic = static_cast<unsigned long>(root.value);
  if (magic == CGROUP2_SUPER_MAGIC) return CgroupLayout::kV2;
  if (magic != TMPFS_MAGIC) {
    return absl::FailedPreconditionError(
        absl::StrCat(kCgroupRoot,
                     " is neither cgroup2 nor a tmpfs of cgroup v1 "
                     "hierarchies (f_type 0x",
                     absl::Hex(magic), ")"));
  }
  const std::string unified = absl::StrCat(kCgroupRoot, "/unified");
  const SysResult u = fs_type(unified.c_str());
  if (u.ok() && static_cast<unsigned long>(u.value) == CGROUP2_SUPER_MAGIC) {
    return CgroupLayout::kHybrid;
  }
  return CgroupLayout::kV1;
}

absl::StatusOr<CgroupLayout> DetectCgroupLayout() {
  return DetectCgroupLayout(RealFsType);
}

std::vector<std::string> CgroupV1MountPoints(absl::string_view mountinfo) {
  std::vector<std::string> out;
  const std::string root = kCgroupRoot;
  for (absl::string_view line :
       absl::StrSplit(mountinfo, '\n', absl::SkipEmpty())) {
    // "id parent dev root mountpoint options [optional...] - fstype ...";
    // see proc(5). Cgroup mount points hold no spaces to unescape.
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (fields.size() < 5 || dash + 1 >= fields.size()) continue;
    const absl::string_view point = fields[4];
    if (fields[dash + 1] == "cgroup" &&
        (point == root || absl::StartsWith(point, root + "/"))) {
      out.emplace_back(point);
    }
  }
  return out;
}

std::vector<std::string> CgroupDirectories(
    CgroupLayout layout, const std::vector<std::string>& v1_mounts,
    absl::string_view path) {
  if (layout == CgroupLayout::kV2) return {absl::StrCat(kCgroupRoot, path)};
  std::vector<std::string> out;
  for (const std::string& mount : v1_mounts) {
    out.push_back(absl::StrCat(mount, path));
  }
  if (layout == CgroupLayout::kHybrid) {
    out.push_back(absl::StrCat(kCgroupRoot, "/unified", path));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> HostCgroupDirectories(
    absl::string_view path) {
  ASSIGN_OR_RETURN(CgroupLayout layout, DetectCgroupLayout());
  ASSIGN_OR_RETURN(std::string mountinfo, ReadFile("/proc/self/mountinfo"));
  return CgroupDirectories(layout, CgroupV1MountPoints(mountinfo), path);
}

}  // namespace podsandbox::sys
