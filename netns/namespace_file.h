// Opening namespaces and telling them apart: a namespace is identified by
// the device and inode of its nsfs file, and a network namespace's owning
// user namespace is found with ioctl(NS_GET_USERNS).
#ifndef PODSANDBOX_NETNS_NAMESPACE_FILE_H_
#define PODSANDBOX_NETNS_NAMESPACE_FILE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sys/sys.h"
#include "sys/unique_fd.h"

namespace podsandbox::netns {

struct NamespaceId {
  uint64_t device = 0;
  uint64_t inode = 0;

  friend bool operator==(const NamespaceId& a, const NamespaceId& b) {
    return a.device == b.device && a.inode == b.inode;
  }
  friend bool operator!=(const NamespaceId& a, const NamespaceId& b) {
    return !(a == b);
  }
  std::string ToString() const;  // "nsfs:[4026532281]"-like
};

// Opens a namespace file or pin read-only. NotFound if it does not exist.
absl::StatusOr<sys::UniqueFd> OpenNamespace(sys::Sys& sys,
                                            absl::string_view path);

// The identity of the namespace `fd` refers to.
absl::StatusOr<NamespaceId> IdOf(int fd);

// The identity of the namespace at `path` (a pin or /proc/<pid>/ns/<type>).
absl::StatusOr<NamespaceId> IdOfPath(absl::string_view path);

// An fd for the user namespace that owns the namespace `ns_fd` refers to.
absl::StatusOr<sys::UniqueFd> OwningUserNamespace(sys::Sys& sys, int ns_fd);

}  // namespace podsandbox::netns

#endif  // PODSANDBOX_NETNS_NAMESPACE_FILE_H_
