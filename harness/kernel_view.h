// What the kernel says about a process, read from /proc rather than from
// any runtime's report: its mounts (mountinfo), the identity of its user
// and network namespaces, and the user namespace owning its netns.
//
// Namespaces are compared by nsfs device and inode (netns::NamespaceId),
// the only identity the kernel guarantees; link text is for messages.
//
// Thread-safety: pure functions over /proc; safe from any thread.
#ifndef PODSANDBOX_HARNESS_KERNEL_VIEW_H_
#define PODSANDBOX_HARNESS_KERNEL_VIEW_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "netns/namespace_file.h"

namespace podsandbox::harness {

// One line of /proc/<pid>/mountinfo (see proc(5)), octal escapes decoded.
struct MountEntry {
  std::string device;       // "major:minor" of the filesystem (field 3)
  std::string root;         // the mounted subtree of that filesystem
  std::string mount_point;  // relative to the process's root
  std::string options;      // per-mount options, "ro,nosuid,..."
  std::string fstype;
  std::string source;
};

// Parses mountinfo text. InvalidArgument naming the line when malformed.
absl::StatusOr<std::vector<MountEntry>> ParseMountInfo(absl::string_view text);

// Reads and parses /proc/<pid>/mountinfo; pid 0 means our own. NotFound
// when the process is gone.
absl::StatusOr<std::vector<MountEntry>> ReadMountInfo(pid_t pid);

// The mount visible at `mount_point`: the last one listed there, since
// later mounts stack over earlier ones. nullptr when nothing is mounted.
const MountEntry* FindMount(const std::vector<MountEntry>& mounts,
                            absl::string_view mount_point);

// Whether the per-mount options hold "ro".
bool IsReadOnly(const MountEntry& mount);

// The namespace /proc/<pid>/ns/<type> refers to; pid 0 means our own.
// NotFound when the process is gone.
absl::StatusOr<netns::NamespaceId> NamespaceOf(pid_t pid,
                                               absl::string_view type);

// "user:[4026532176]", as readlink(/proc/<pid>/ns/user) shows it.
std::string NamespaceName(absl::string_view type, const netns::NamespaceId& id);

// The user namespace owning the network namespace at `netns_path` (a pin
// or /proc/<pid>/ns/net), by ioctl(NS_GET_USERNS).
absl::StatusOr<netns::NamespaceId> OwnerOfNetworkNamespace(
    absl::string_view netns_path);

// Whether `path` is an nsfs file (a pinned namespace) right now.
bool IsNamespacePin(absl::string_view path);

// Whether `pid` is alive and is the process that had `start_time` (so a
// reused pid does not count); zombies count as gone.
bool ProcessAlive(pid_t pid, uint64_t start_time);

}  // namespace podsandbox::harness

#endif  // PODSANDBOX_HARNESS_KERNEL_VIEW_H_
