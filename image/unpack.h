// Unpacks one OCI layer (a tar stream, plain, gzip or zstd: libarchive
// detects which) into a directory, so that the directory on its own is an
// overlayfs lower layer:
//   - OCI whiteouts become overlay whiteouts: `.wh.<name>` is a character
//     device 0/0 named `<name>`; `.wh..wh..opq` sets the xattr
//     trusted.overlay.opaque="y" on its directory. Other `.wh..wh.*` (aufs
//     metadata) are skipped.
//   - Nothing is created outside the directory: an entry whose path has a
//     ".." component is refused; a leading "/" is dropped; every parent is
//     resolved with openat2(RESOLVE_IN_ROOT) relative to the layer
//     directory, so a symlink met on the way (one the layer itself made) is
//     followed as if the layer directory were "/", never out of it; the
//     leaf is always created (O_EXCL, mknodat, symlinkat, linkat) and never
//     followed: an existing entry there is replaced, as tar does. Hardlink
//     targets are resolved the same way. A symlink's own target is stored
//     as the tar says (it may point anywhere; it is data).
//   - Ownership, permission bits (with setuid/setgid/sticky), mtimes and
//     xattrs (on regular files and directories) are kept; device nodes and
//     FIFOs are made with mknodat. xattrs in trusted.overlay.* from the tar
//     are dropped: only the unpacker decides overlay metadata. Sockets are
//     skipped.
//   - The diff_id, the sha256 of the uncompressed tar stream (all of it,
//     including the padding after the end-of-archive blocks), is computed
//     on the way; the caller compares it with the image config.
//   - At most `max_bytes` of uncompressed tar and `max_entries` entries:
//     past either, ResourceExhausted (a decompression bomb).
//
// Needs root (chown, mknod, trusted.* xattrs). On error the directory holds
// a partial tree: unpack into a temp directory and remove it on failure
// (image::Store::CommitLayer does).
#ifndef PODSANDBOX_IMAGE_UNPACK_H_
#define PODSANDBOX_IMAGE_UNPACK_H_

#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "image/digest.h"
#include "sys/sys.h"

namespace podsandbox::image {

// Pulls the next bytes of the layer blob into `buf` (at most `size`):
// returns how many, 0 at the end, or an error that UnpackLayer returns
// as is (a download failure, a digest mismatch found by the source).
using ByteSource =
    std::function<absl::StatusOr<size_t>(char* buf, size_t size)>;

// A ByteSource reading `fd` (a pipe from a downloader, a file) through
// sys.Read until EOF, retrying EINTR. Does not own `fd`.
ByteSource FdByteSource(sys::Sys& sys, int fd);

struct UnpackOptions {
  // Uncompressed tar bytes at most (the bomb limit).
  uint64_t max_bytes = uint64_t{64} << 30;
  uint64_t max_entries = 1'000'000;
};

struct UnpackResult {
  Digest diff_id;          // sha256 of the uncompressed tar stream
  uint64_t tar_bytes = 0;  // its length
  uint64_t entries = 0;    // tar entries read
};

// Unpacks the tar stream from `source` into the directory `layer_dir_fd`
// (which the caller keeps owning; it should be empty and private to the
// caller: nothing else may change it meanwhile).
// Errors: InvalidArgument naming the entry for an entry that tries to leave
// the directory, or whose parent directory or hardlink target does not
// resolve inside it (a symlink to a missing target, a file where a
// directory is needed, a symlink loop): a bad layer; ResourceExhausted past a
// limit; DataLoss for a stream that is not a (gzip/zstd) tar or is truncated;
// the source's own error; errno-derived errors for failed syscalls ("<op>
// <entry>: <strerror>"). Thread-compatible: concurrent calls on different
// directories are fine.
absl::StatusOr<UnpackResult> UnpackLayer(sys::Sys& sys, int layer_dir_fd,
                                         const ByteSource& source,
                                         const UnpackOptions& options = {});

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_UNPACK_H_
