// Which uid, gid and supplementary groups a container's process runs with:
// the CRI security context's run_as_user / run_as_username / run_as_group /
// supplemental_groups over the image config's User, names resolved in the
// image's own /etc/passwd and /etc/group.
//
// Those files belong to the image, i.e. to whoever built it: they are read
// from a directory fd of the container's rootfs with openat2(2)
// RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV, so a symlink
// in the image ("/etc/passwd -> /etc/shadow", "../../..") resolves inside
// the rootfs, never on the host; only regular files are read (a FIFO or a
// device node planted there is refused, not opened for reading), and at
// most kMaxIdFileBytes of each.
//
// The rules (containerd's and Docker's, which kubelet expects):
//  - run_as_user wins, then run_as_username, then the image's User
//    ("", "name", "uid", "name:group", "uid:gid", "uid:group"...); no user
//    at all is root;
//  - the gid is run_as_group when set, else the User's group part, else the
//    passwd entry's gid, else 0 (a numeric uid the image does not list);
//  - supplementary groups: the primary gid first (as initgroups(3), and
//    since CVE-2023-25173 containerd too), then every /etc/group entry
//    listing the user's name, then supplemental_groups; no duplicates.
//
// Errors: InvalidArgument naming the field for a name the image does not
// define, a malformed User or an unreadable/oversized/non-regular passwd
// or group file; Internal for an unexpected errno. Thread-safe; only reads.
#ifndef PODSANDBOX_CONTAINER_IMAGE_USER_H_
#define PODSANDBOX_CONTAINER_IMAGE_USER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "container/container_config.h"
#include "sys/sys.h"

namespace podsandbox::container {

// Larger passwd/group files are refused rather than read: real ones are a
// few KiB, and the image is untrusted input.
inline constexpr size_t kMaxIdFileBytes = 1 << 20;

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

// Lines of passwd(5) / group(5) text; malformed lines are skipped, as
// getpwent(3) does.
std::vector<PasswdEntry> ParsePasswd(absl::string_view text);
std::vector<GroupEntry> ParseGroup(absl::string_view text);

// Reads `path` (relative to the rootfs, "etc/passwd") from `rootfs_fd` as
// the file comment says. nullopt when it does not exist.
absl::StatusOr<std::optional<std::string>> ReadFileInRoot(
    sys::Sys& sys, int rootfs_fd, absl::string_view path, size_t max_bytes);

// The process user for `security` and the image config's `image_user`.
absl::StatusOr<ProcessUser> ResolveProcessUser(sys::Sys& sys, int rootfs_fd,
                                               const SecurityContext& security,
                                               absl::string_view image_user);

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_IMAGE_USER_H_
