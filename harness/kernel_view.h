// What the kernel says about a process, read from /proc rather than from
// any runtime's report: its mounts (mountinfo), the identity of its
// namespaces, the user namespace owning its netns, the addresses in its
// netns, and (from a short-lived child that joins its namespaces) its
// hostname and the sysfs of its netns.
//
// Namespaces are compared by nsfs device and inode (netns::NamespaceId),
// the only identity the kernel guarantees; link text is for messages.
//
// Thread-safety: pure functions over /proc, or a forked child per call;
// safe from any thread. The child changes only its own namespaces and
// exits; HostnameOf and SysfsDeviceOfNetns need root.
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

// The local IPv4 addresses in /proc/<pid>/net/fib_trie text: every
// address listed with "/32 host LOCAL".
std::vector<std::string> ParseFibTrieLocalAddresses(absl::string_view text);

// Whether `ip` (IPv4 or IPv6 text) is an address of an interface in the
// network namespace of `pid` (its /proc/<pid>/net fib_trie or if_inet6).
// InvalidArgument for text that is no IP address; NotFound when the
// process is gone.
absl::StatusOr<bool> HasAddress(pid_t pid, absl::string_view ip);

// The hostname (uname(2)'s nodename) in the UTS namespace of `pid`, as a
// child that setns(2)es into /proc/<pid>/ns/uts sees it. Reading
// /proc/<pid>/root/etc/hostname would show a file, not the kernel's name.
absl::StatusOr<std::string> HostnameOf(pid_t pid);

// The device ("major:minor", as mountinfo shows it) of the sysfs that
// belongs to the network namespace at `netns_path`: a child joins that
// netns in a private mount namespace and mounts sysfs, which the kernel
// gives the one superblock per network namespace. A process's /sys on that
// device shows that netns's devices, and no other's.
absl::StatusOr<std::string> SysfsDeviceOfNetns(absl::string_view netns_path);

}  // namespace podsandbox::harness

#endif  // PODSANDBOX_HARNESS_KERNEL_VIEW_H_
