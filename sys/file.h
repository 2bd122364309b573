// Small file operations built on Sys: read a whole file, write one
// atomically, create directories. Everything that changes the filesystem
// goes through the injected Sys.
#ifndef PODSANDBOX_SYS_FILE_H_
#define PODSANDBOX_SYS_FILE_H_

#include <sys/types.h>

#include <string>

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

// Replaces `path` with `data` so that a crash leaves either the old or the
// new content, never a mix: write a temp file beside it, fsync, rename, then
// fsync the directory so the rename itself is durable. An error after the
// rename (syncing the directory) leaves the new content in place: callers
// that undo a failed write must remove `path`. With `durable` false
// both fsyncs are skipped (for files on tmpfs, where they buy nothing).
// Callers serialise writers of one path.
absl::Status WriteFileAtomically(Sys& sys, absl::string_view path,
                                 absl::string_view data, mode_t mode,
                                 bool durable = true);

// mkdir -p: creates `path` and its missing parents with `mode`.
absl::Status MakeDirs(Sys& sys, absl::string_view path, mode_t mode);

// Removes a file; a file that does not exist counts as removed.
absl::Status RemoveFileIfExists(Sys& sys, absl::string_view path);

// Removes `path` and everything below it; a missing path counts as removed.
// Never descends into another filesystem mounted below `path` (a namespace
// pin, say): that is an error (EBUSY), never silently emptied.
absl::Status RemoveTree(Sys& sys, absl::string_view path);

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_FILE_H_
