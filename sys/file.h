// Small file operations built on Sys: read a whole file, write one
// atomically, create directories, remove trees. Everything that changes the
// filesystem goes through the injected Sys.
//
// Removal never follows a symlink below the path it was given: RemoveTree
// walks directory fds (openat with O_NOFOLLOW|O_DIRECTORY, unlinkat), so a
// directory swapped for a symlink mid-walk is unlinked as a link, and what
// it points to is never touched.
#ifndef PODSANDBOX_SYS_FILE_H_
#define PODSANDBOX_SYS_FILE_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sys/sys.h"
#include "sys/unique_fd.h"

namespace podsandbox::sys {

// Opens `path` with O_CLOEXEC added to `flags`.
absl::StatusOr<UniqueFd> OpenFile(Sys& sys, absl::string_view path, int flags,
                                  mode_t mode = 0);

// Reads all of `path`. NotFound when it does not exist.
absl::StatusOr<std::string> ReadFile(absl::string_view path);

// Writes all of `data` to `fd`, retrying short writes and EINTR.
absl::Status WriteAll(Sys& sys, int fd, absl::string_view data);

// What WriteFileAtomically appends to a path for its temp file.
inline constexpr absl::string_view kTempSuffix = ".tmp";

// Replaces `path` with `data` so that a crash leaves either the old or the
// new content, never a mix: write a temp file beside it (`path` plus
// kTempSuffix), fsync, rename, then fsync the directory so the rename
// itself is durable. An error after the rename (syncing the directory)
// leaves the new content in place: callers that undo a failed write must
// remove `path`. With `durable` false both fsyncs are skipped (for files on
// tmpfs, where they buy nothing).
//
// The temp file is created O_EXCL|O_NOFOLLOW, so nothing planted at its
// name (a symlink, a file someone else holds open) is ever written through;
// one found there (a crash's leftover) is unlinked and the create retried
// once. A SIGKILL between write and rename still leaves the temp file:
// owners collect those at start with RemoveTempFiles.
// Callers serialise writers of one path.
absl::Status WriteFileAtomically(Sys& sys, absl::string_view path,
                                 absl::string_view data, mode_t mode,
                                 bool durable = true);

// Removes every file in `dir` whose name ends in kTempSuffix: what
// WriteFileAtomically leaves when the process dies between write and
// rename. Only for directories whose every file is written that way, and
// only while nothing writes there (at start, under the owner's lock). A
// missing `dir` is fine. Returns the paths removed.
absl::StatusOr<std::vector<std::string>> RemoveTempFiles(Sys& sys,
                                                         absl::string_view dir);

// OK when `path` is a directory owned by `owner` that neither its group
// nor others may write. Otherwise FailedPrecondition naming the directory
// and what is wrong (NotFound when it is missing): a daemon running as root
// must not keep state where another user can replace it.
absl::Status CheckTrustedDir(absl::string_view path, uid_t owner);

// mkdir -p: creates `path` and its missing parents with `mode`.
absl::Status MakeDirs(Sys& sys, absl::string_view path, mode_t mode);

// The names in `dir` but "." and "..", in no particular order; empty when
// `dir` does not exist. Only reads, so not through Sys. Errors: errno-
// derived ("list <dir>: ..."), e.g. PermissionDenied, FailedPrecondition
// for a file that is not a directory.
absl::StatusOr<std::vector<std::string>> ListDir(absl::string_view dir);

// Removes a file; a file that does not exist counts as removed.
absl::Status RemoveFileIfExists(Sys& sys, absl::string_view path);

// Removes `path` and everything below it; a missing path counts as removed.
// Never descends into another filesystem mounted below `path` (a namespace
// pin, say): that is an error (EBUSY), never silently emptied. Never follows
// a symlink: `path` itself, if one, is unlinked; below it, every directory
// is opened relative to its parent's fd with O_NOFOLLOW|O_DIRECTORY, so one
// swapped for a symlink while we walk is unlinked as the link it now is.
// Only the components of `path` leading to its last one are resolved as a
// path: they must be trusted. InvalidArgument when `path` names no entry
// ("/", ".", "..").
absl::Status RemoveTree(Sys& sys, absl::string_view path);

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_FILE_H_
