// A user namespace for idmapped-mount tests: container ids 0..65535 mapped
// to host ids host_base.., held by an fd after its only process exits.
// Tests of idmapped layers (image/idmap_mount) and of a user-namespaced
// container's rootfs (container/rootfs) both need one. Needs root.
#ifndef PODSANDBOX_IMAGE_TESTING_USERNS_H_
#define PODSANDBOX_IMAGE_TESTING_USERNS_H_

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "sys/unique_fd.h"

namespace podsandbox::image::testing {

// The number of ids MakeUserns maps, from 0 in the namespace.
inline constexpr uid_t kUsernsSize = 65536;

// Returns an fd on /proc/<pid>/ns/user of a new user namespace whose uid
// and gid maps are "0 <host_base> 65536". Internal (with the errno) when
// fork, unshare, writing a map or opening the namespace fails; the child
// is reaped before it returns either way. Not thread-safe (forks).
absl::StatusOr<sys::UniqueFd> MakeUserns(uid_t host_base);

}  // namespace podsandbox::image::testing

#endif  // PODSANDBOX_IMAGE_TESTING_USERNS_H_
