#include "harness/kernel_view.h"

#include <linux/magic.h>
#include <sys/vfs.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sys/file.h"
#include "sys/proc.h"
#include "sys/real_sys.h"
#include "sys/status.h"

namespace podsandbox::harness {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(absl::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' &&
        field[i + 1] <= '3') {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 +
                                      (field[i + 2] - '0') * 8 +
                                      (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

std::string ProcPath(pid_t pid, absl::string_view file) {
  return pid == 0 ? absl::StrCat("/proc/self/", file)
                  : absl::StrCat("/proc/", pid, "/", file);
}

}  // namespace

absl::StatusOr<std::vector<MountEntry>> ParseMountInfo(absl::string_view text) {
  std::vector<MountEntry> mounts;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    // Fields 1-6, optional fields, "-", fstype, source, super options.
    size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (fields.size() < 7 || dash + 2 >= fields.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("mountinfo: malformed line \"", line, "\""));
    }
    MountEntry m;
    m.device = std::string(fields[2]);
    m.root = Unescape(fields[3]);
    m.mount_point = Unescape(fields[4]);
    m.options = std::string(fields[5]);
    m.fstype = std::string(fields[dash + 1]);
    m.source = Unescape(fields[dash + 2]);
    mounts.push_back(std::move(m));
  }
  return mounts;
}

absl::StatusOr<std::vector<MountEntry>> ReadMountInfo(pid_t pid) {
  absl::StatusOr<std::string> text = sys::ReadFile(ProcPath(pid, "mountinfo"));
  if (!text.ok()) return text.status();
  return ParseMountInfo(*text);
}

const MountEntry* FindMount(const std::vector<MountEntry>& mounts,
                            absl::string_view mount_point) {
  const MountEntry* found = nullptr;
  for (const MountEntry& m : mounts) {
    if (m.mount_point == mount_point) found = &m;
  }
  return found;
}

bool IsReadOnly(const MountEntry& mount) {
  for (absl::string_view option : absl::StrSplit(mount.options, ',')) {
    if (option == "ro") return true;
  }
  return false;
}

absl::StatusOr<netns::NamespaceId> NamespaceOf(pid_t pid,
                                               absl::string_view type) {
  return netns::IdOfPath(ProcPath(pid, absl::StrCat("ns/", type)));
}

std::string NamespaceName(absl::string_view type,
                          const netns::NamespaceId& id) {
  return absl::StrCat(type, ":[", id.inode, "]");
}

absl::StatusOr<netns::NamespaceId> OwnerOfNetworkNamespace(
    absl::string_view netns_path) {
  sys::RealSys sys;
  ASSIGN_OR_RETURN(sys::UniqueFd netns, netns::OpenNamespace(sys, netns_path));
  ASSIGN_OR_RETURN(sys::UniqueFd owner,
                   netns::OwningUserNamespace(sys, netns.get()));
  return netns::IdOf(owner.get());
}

bool IsNamespacePin(absl::string_view path) {
  struct statfs fs;
  return statfs(std::string(path).c_str(), &fs) == 0 &&
         static_cast<unsigned long>(fs.f_type) == NSFS_MAGIC;
}

bool ProcessAlive(pid_t pid, uint64_t start_time) {
  absl::StatusOr<sys::ProcStat> stat = sys::ReadProcStat(pid);
  return stat.ok() && stat->start_time == start_time && stat->state != 'Z' &&
         stat->state != 'X';
}

}  // namespace podsandbox::harness
