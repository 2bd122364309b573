// A pod's user namespace ID mappings: the type, the rules the kernel (and
// our policy) impose on them, and the /proc/<pid>/{uid,gid}_map format.
//
// Validation runs before any side effect, so every rule the kernel would
// enforce at write time is checked here first, with a message that names
// the offending field.
#ifndef PODSANDBOX_USERNS_ID_MAPPING_H_
#define PODSANDBOX_USERNS_ID_MAPPING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace podsandbox::userns {

// One line of a uid_map or gid_map: container ids [container_id,
// container_id + length) are host ids [host_id, host_id + length).
struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t length = 0;

  friend bool operator==(const IdMapping& a, const IdMapping& b) {
    return a.container_id == b.container_id && a.host_id == b.host_id &&
           a.length == b.length;
  }
};

struct IdMappings {
  std::vector<IdMapping> uids;
  std::vector<IdMapping> gids;

  friend bool operator==(const IdMappings& a, const IdMappings& b) {
    return a.uids == b.uids && a.gids == b.gids;
  }
};

struct MappingPolicy {
  // Whether a host range may contain host uid/gid 0. Off by default: a pod
  // whose user namespace maps host root is not isolated from the host.
  bool allow_host_root = false;
  // Whether gids may map differently from uids. Off by default: kubelet
  // always sends the same range for both, and a pod whose files are owned
  // by one host range and group-owned by another is hard to audit.
  bool allow_different_uid_gid_maps = false;
  // Whether a pod's host ranges may overlap another live pod's (enforced by
  // the sandbox layer, which knows the other pods). Off by default: pods
  // sharing host ids can signal, ptrace and read each other's files.
  bool allow_overlapping_ranges = false;
};

// The kernel's limit on lines in one map file (UID_GID_MAP_MAX_EXTENTS,
// since Linux 4.15).
inline constexpr size_t kMaxMapLines = 340;

// The kernel takes a map file in one write(2) of fewer than PAGE_SIZE bytes
// (map_write() in kernel/user_namespace.c returns EINVAL otherwise): the
// largest FormatMapFile() text it accepts is this many bytes.
size_t MaxMapTextBytes();

// Checks `mappings` for a pod, returning InvalidArgument naming the field
// (as "<field_prefix>.uids[1].length: must be greater than 0") for: an
// empty list, uids without gids or the reverse, a zero length, a container
// or host range that runs past 2^32-1, overlapping container ranges or
// overlapping host ranges, more than kMaxMapLines lines, a map text longer
// than MaxMapTextBytes(), a host range holding id 0 unless the policy
// allows it, a list that does not map container id 0 (the pod's root: the
// runtime refuses such a map), and gids that differ from uids unless the
// policy allows it.
absl::Status ValidateMappings(const IdMappings& mappings,
                              const MappingPolicy& policy,
                              absl::string_view field_prefix);

// The text the kernel expects in a map file: "container host length\n" per
// line.
std::string FormatMapFile(const std::vector<IdMapping>& mappings);

// Parses a map file's text (as /proc/<pid>/uid_map shows it).
// InvalidArgument for malformed lines.
absl::StatusOr<std::vector<IdMapping>> ParseMapFile(absl::string_view text);

// The host id that `container_id` maps to, if any.
std::optional<uint32_t> ToHostId(const std::vector<IdMapping>& mappings,
                                 uint32_t container_id);

// "0 100000 65536; 65536 200000 1" for messages and logs.
std::string DescribeMappings(const std::vector<IdMapping>& mappings);

}  // namespace podsandbox::userns

#endif  // PODSANDBOX_USERNS_ID_MAPPING_H_
