#include "image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "sys/file.h"
#include "sys/status.h"
#include "sys/unique_fd.h"

namespace podsandbox::image {
namespace {

constexpr size_t kBufferSize = 128 * 1024;
constexpr absl::string_view kWhiteoutPrefix = ".wh.";
constexpr absl::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr absl::string_view kAufsMetaPrefix = ".wh..wh.";
constexpr char kOpaqueXattr[] = "trusted.overlay.opaque";

using Archive = std::unique_ptr<struct archive, int (*)(struct archive*)>;

// The two readers' shared state. `decoded` is libarchive's raw format over
// the decompression filters: its one entry's data is the uncompressed tar,
// which the tar reader pulls through ReadTar so that every byte is hashed
// and counted exactly once, whatever the tar reader skips.
struct Stream {
  const ByteSource* source = nullptr;
  std::vector<char> in;   // compressed bytes from the source
  std::vector<char> out;  // uncompressed bytes handed to the tar reader
  struct archive* decoded = nullptr;
  Sha256 hasher;
  uint64_t max_bytes = 0;
  uint64_t tar_bytes = 0;
  absl::Status error;  // why a callback failed; wins over libarchive's text
};

la_ssize_t ReadSource(struct archive* a, void* data, const void** buffer) {
  auto* s = static_cast<Stream*>(data);
  absl::StatusOr<size_t> n = (*s->source)(s->in.data(), s->in.size());
  if (!n.ok()) {
    s->error = n.status();
    archive_set_error(a, EIO, "layer source failed");
    return -1;
  }
  *buffer = s->in.data();
  return static_cast<la_ssize_t>(*n);
}

la_ssize_t ReadTar(struct archive* a, void* data, const void** buffer) {
  auto* s = static_cast<Stream*>(data);
  la_ssize_t n = archive_read_data(s->decoded, s->out.data(), s->out.size());
  if (n < 0) {
    if (s->error.ok()) {
      s->error = absl::DataLossError(
          absl::StrCat("decompress layer: ", archive_error_string(s->decoded)));
    }
    archive_set_error(a, EIO, "decompression failed");
    return -1;
  }
  s->tar_bytes += static_cast<uint64_t>(n);
  if (s->tar_bytes > s->max_bytes) {
    s->error = absl::ResourceExhaustedError(
        absl::StrCat("layer: uncompressed size exceeds the limit of ",
                     s->max_bytes, " bytes"));
    archive_set_error(a, EFBIG, "size limit");
    return -1;
  }
  s->hasher.Update(absl::string_view(s->out.data(), static_cast<size_t>(n)));
  *buffer = s->out.data();
  return n;
}

// The error of a failed libarchive call on `a`: a callback's own error if
// one failed, else libarchive's message as DataLoss (a corrupt stream).
absl::Status ArchiveError(const Stream& s, struct archive* a,
                          absl::string_view what) {
  if (!s.error.ok()) return s.error;
  const char* message = archive_error_string(a);
  return absl::DataLossError(
      absl::StrCat(what, ": ", message != nullptr ? message : "unknown error"));
}

// An entry's path as components, without "", "." and a leading "/" (tar
// paths are relative to the layer root whatever they say). A ".." is
// refused rather than clamped: no honest layer has one.
absl::StatusOr<std::vector<std::string>> SplitEntryPath(
    absl::string_view path, absl::string_view what) {
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("layer entry \"", path, "\": ", what,
                       " leaves the layer with \"..\""));
    }
    parts.emplace_back(part);
  }
  return parts;
}

// ENOENT, ENOTDIR and ELOOP while resolving inside the layer come from what
// the layer itself put there (a symlink to a target it lacks, a file where
// a directory is needed, a symlink loop): a bad layer, not a missing
// object, so InvalidArgument naming the entry rather than NotFound.
bool IsBadLayerResolution(int err) {
  return err == ENOENT || err == ENOTDIR || err == ELOOP;
}

absl::Status BadLayerEntry(absl::string_view entry, absl::string_view what,
                           absl::string_view rel, int err) {
  return absl::InvalidArgumentError(
      absl::StrCat("layer entry \"", entry, "\": ", what, " \"", rel,
                   "\" does not resolve inside the layer (", strerror(err),
                   "; a symlink to a missing target, a file where a "
                   "directory is needed, or a symlink loop)"));
}

class Unpacker {
 public:
  Unpacker(sys::Sys& sys, int root_fd, const Stream& stream)
      : sys_(sys), root_fd_(root_fd), stream_(stream) {}

  absl::Status Apply(struct archive* tar, struct archive_entry* entry);
  // Sets directory mtimes last: creating entries inside changes them.
  absl::Status FinishDirectoryTimes();

 private:
  // Opens the directory at `parts` (relative to the root, resolved inside
  // it), creating missing ones with mode 0755 as tar does for parents the
  // archive does not list. `entry` is the tar entry it is for, for errors:
  // InvalidArgument when a component exists but does not resolve to a
  // directory (IsBadLayerResolution).
  absl::StatusOr<sys::UniqueFd> OpenDir(const std::vector<std::string>& parts,
                                        size_t count, const std::string& entry);
  // Removes whatever is at `leaf` in `dir` (not following it), for an entry
  // that replaces it. A non-empty directory fails with ENOTEMPTY.
  absl::Status RemoveLeaf(int dir, const std::string& leaf,
                          const std::string& path);
  absl::Status WriteData(struct archive* tar, int fd, const std::string& path);
  absl::Status SetOwnerModeTimes(int dir, const std::string& leaf,
                                 struct archive_entry* entry, bool symlink,
                                 const std::string& path);
  absl::Status SetXattrs(int fd, struct archive_entry* entry,
                         const std::string& path);

  sys::Sys& sys_;
  int root_fd_;
  const Stream& stream_;
  struct DirTimes {
    std::vector<std::string> parts;
    struct timespec times[2];
  };
  std::vector<DirTimes> dir_times_;
};

absl::StatusOr<sys::UniqueFd> Unpacker::OpenDir(
    const std::vector<std::string>& parts, size_t count,
    const std::string& entry) {
  std::string rel =
      count == 0 ? "."
                 : absl::StrJoin(parts.begin(), parts.begin() + count, "/");
  struct open_how how = {};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  // IN_ROOT: absolute symlinks and ".." stop at the layer root. NO_XDEV:
  // nothing is mounted in a layer; NO_MAGICLINKS: no /proc jumps.
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  sys::SysResult r = sys_.Openat2(root_fd_, rel.c_str(), &how, sizeof(how));
  if (r.ok()) return sys::UniqueFd(static_cast<int>(r.value));
  if (count > 0 && (r.err == ENOTDIR || r.err == ELOOP)) {
    return BadLayerEntry(entry, "directory", rel, r.err);
  }
  if (r.err != ENOENT || count == 0) {
    return sys::ErrnoError(r.err, "open directory %s in layer", rel);
  }
  ASSIGN_OR_RETURN(sys::UniqueFd parent, OpenDir(parts, count - 1, entry));
  const std::string& name = parts[count - 1];
  if (sys::SysResult m = sys_.Mkdirat(parent.get(), name.c_str(), 0755);
      !m.ok() && m.err != EEXIST) {
    return sys::ErrnoError(m.err, "mkdir %s in layer", rel);
  }
  r = sys_.Openat2(root_fd_, rel.c_str(), &how, sizeof(how));
  // After mkdir, ENOENT means the name was already there (EEXIST) and
  // resolves to nothing: a dangling symlink.
  if (!r.ok() && IsBadLayerResolution(r.err)) {
    return BadLayerEntry(entry, "directory", rel, r.err);
  }
  if (!r.ok()) return sys::ErrnoError(r.err, "open directory %s in layer", rel);
  return sys::UniqueFd(static_cast<int>(r.value));
}

absl::Status Unpacker::RemoveLeaf(int dir, const std::string& leaf,
                                  const std::string& path) {
  sys::SysResult r = sys_.Unlinkat(dir, leaf.c_str(), 0);
  if (r.ok() || r.err == ENOENT) return absl::OkStatus();
  if (r.err == EISDIR) r = sys_.Unlinkat(dir, leaf.c_str(), AT_REMOVEDIR);
  if (r.ok() || r.err == ENOENT) return absl::OkStatus();
  return sys::ErrnoError(r.err, "replace %s in layer", path);
}

absl::Status Unpacker::WriteData(struct archive* tar, int fd,
                                 const std::string& path) {
  std::vector<char> buf(kBufferSize);
  while (true) {
    la_ssize_t n = archive_read_data(tar, buf.data(), buf.size());
    if (n == 0) return absl::OkStatus();
    if (n < 0) return ArchiveError(stream_, tar, absl::StrCat("read ", path));
    RETURN_IF_ERROR(sys::Annotate(
        sys::WriteAll(sys_, fd,
                      absl::string_view(buf.data(), static_cast<size_t>(n))),
        absl::StrCat("write ", path, " in layer")));
  }
}

absl::Status Unpacker::SetOwnerModeTimes(int dir, const std::string& leaf,
                                         struct archive_entry* entry,
                                         bool symlink,
                                         const std::string& path) {
  // Owner before mode: chown(2) clears setuid/setgid.
  if (sys::SysResult r =
          sys_.Fchownat(dir, leaf.c_str(), archive_entry_uid(entry),
                        archive_entry_gid(entry), AT_SYMLINK_NOFOLLOW);
      !r.ok()) {
    return sys::ErrnoError(r.err, "chown %s in layer", path);
  }
  // A symlink's mode means nothing on Linux (fchmodat cannot set it). The
  // leaf is not a symlink here and nothing else writes the directory, so
  // fchmodat following it is safe.
  if (!symlink) {
    if (sys::SysResult r = sys_.Fchmodat(dir, leaf.c_str(),
                                         archive_entry_perm(entry) & 07777, 0);
        !r.ok()) {
      return sys::ErrnoError(r.err, "chmod %s in layer", path);
    }
  }
  struct timespec times[2];
  times[0].tv_sec = archive_entry_atime(entry);
  times[0].tv_nsec = archive_entry_atime_nsec(entry);
  if (!archive_entry_atime_is_set(entry)) {
    times[0].tv_sec = archive_entry_mtime(entry);
    times[0].tv_nsec = archive_entry_mtime_nsec(entry);
  }
  times[1].tv_sec = archive_entry_mtime(entry);
  times[1].tv_nsec = archive_entry_mtime_nsec(entry);
  if (sys::SysResult r =
          sys_.Utimensat(dir, leaf.c_str(), times, AT_SYMLINK_NOFOLLOW);
      !r.ok()) {
    return sys::ErrnoError(r.err, "set times of %s in layer", path);
  }
  return absl::OkStatus();
}

absl::Status Unpacker::SetXattrs(int fd, struct archive_entry* entry,
                                 const std::string& path) {
  archive_entry_xattr_reset(entry);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
    // Overlay metadata (redirect, metacopy, opaque...) would let a layer
    // steer overlayfs to other layers' files: only we set it.
    if (absl::StartsWith(name, "trusted.overlay.")) continue;
    if (sys::SysResult r = sys_.Fsetxattr(fd, name, value, size, 0); !r.ok()) {
      return sys::ErrnoError(r.err, "set xattr %s on %s in layer", name, path);
    }
  }
  return absl::OkStatus();
}

absl::Status Unpacker::Apply(struct archive* tar, struct archive_entry* entry) {
  const char* raw_path = archive_entry_pathname(entry);
  std::string path = raw_path != nullptr ? raw_path : "";
  ASSIGN_OR_RETURN(std::vector<std::string> parts,
                   SplitEntryPath(path, "path"));
  // The layer root itself ("./"): its metadata is the store's, not the
  // layer's.
  if (parts.empty()) return absl::OkStatus();
  const std::string base = parts.back();
  ASSIGN_OR_RETURN(sys::UniqueFd dir, OpenDir(parts, parts.size() - 1, path));

  if (base == kOpaqueMarker) {
    if (sys::SysResult r = sys_.Fsetxattr(dir.get(), kOpaqueXattr, "y", 1, 0);
        !r.ok()) {
      return sys::ErrnoError(r.err, "mark %s opaque in layer", path);
    }
    return absl::OkStatus();
  }
  if (absl::StartsWith(base, kAufsMetaPrefix)) return absl::OkStatus();
  if (absl::StartsWith(base, kWhiteoutPrefix)) {
    std::string name = base.substr(kWhiteoutPrefix.size());
    if (name.empty() || name == "." || name == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("layer entry \"", path, "\": whiteout of no name"));
    }
    RETURN_IF_ERROR(RemoveLeaf(dir.get(), name, path));
    // Overlayfs' whiteout: a character device 0/0 (see
    // Documentation/filesystems/overlayfs.rst).
    if (sys::SysResult r =
            sys_.Mknodat(dir.get(), name.c_str(), S_IFCHR | 0, makedev(0, 0));
        !r.ok()) {
      return sys::ErrnoError(r.err, "make whiteout %s in layer", path);
    }
    return absl::OkStatus();
  }

  if (const char* target = archive_entry_hardlink(entry)) {
    ASSIGN_OR_RETURN(std::vector<std::string> target_parts,
                     SplitEntryPath(target, "hardlink target"));
    std::string rel = absl::StrJoin(target_parts, "/");
    struct open_how how = {};
    // O_PATH|O_NOFOLLOW: a hardlink to a symlink links the symlink.
    how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    sys::SysResult t = sys_.Openat2(root_fd_, rel.empty() ? "." : rel.c_str(),
                                    &how, sizeof(how));
    if (!t.ok() && IsBadLayerResolution(t.err)) {
      return BadLayerEntry(path, "hardlink target", target, t.err);
    }
    if (!t.ok()) {
      return sys::ErrnoError(t.err, "open hardlink target %s of %s in layer",
                             target, path);
    }
    sys::UniqueFd target_fd(static_cast<int>(t.value));
    RETURN_IF_ERROR(RemoveLeaf(dir.get(), base, path));
    // AT_EMPTY_PATH links the very inode we resolved inside the root.
    if (sys::SysResult r = sys_.Linkat(target_fd.get(), "", dir.get(),
                                       base.c_str(), AT_EMPTY_PATH);
        !r.ok()) {
      return sys::ErrnoError(r.err, "hardlink %s to %s in layer", path, target);
    }
    return absl::OkStatus();
  }

  mode_t type = archive_entry_filetype(entry);
  switch (type) {
    case AE_IFDIR: {
      sys::SysResult r = sys_.Mkdirat(dir.get(), base.c_str(), 0700);
      if (!r.ok() && r.err == EEXIST) {
        // A directory again (a later layer's entry, or a repeat) keeps its
        // contents; anything else there is replaced.
        struct stat st;
        if (::fstatat(dir.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            !S_ISDIR(st.st_mode)) {
          RETURN_IF_ERROR(RemoveLeaf(dir.get(), base, path));
          r = sys_.Mkdirat(dir.get(), base.c_str(), 0700);
        } else {
          r = sys::SysResult{};
        }
      }
      if (!r.ok()) return sys::ErrnoError(r.err, "mkdir %s in layer", path);
      sys::SysResult o =
          sys_.Openat(dir.get(), base.c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
      if (!o.ok()) return sys::ErrnoError(o.err, "open %s in layer", path);
      sys::UniqueFd fd(static_cast<int>(o.value));
      RETURN_IF_ERROR(
          SetOwnerModeTimes(dir.get(), base, entry, /*symlink=*/false, path));
      RETURN_IF_ERROR(SetXattrs(fd.get(), entry, path));
      DirTimes& t = dir_times_.emplace_back();
      t.parts = parts;
      t.times[0] = {archive_entry_mtime(entry),
                    archive_entry_mtime_nsec(entry)};
      t.times[1] = t.times[0];
      return absl::OkStatus();
    }
    case AE_IFREG: {
      RETURN_IF_ERROR(RemoveLeaf(dir.get(), base, path));
      sys::SysResult o = sys_.Openat(
          dir.get(), base.c_str(),
          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (!o.ok()) return sys::ErrnoError(o.err, "create %s in layer", path);
      sys::UniqueFd fd(static_cast<int>(o.value));
      RETURN_IF_ERROR(WriteData(tar, fd.get(), path));
      RETURN_IF_ERROR(
          SetOwnerModeTimes(dir.get(), base, entry, /*symlink=*/false, path));
      // After chown: chown(2) drops security.capability.
      return SetXattrs(fd.get(), entry, path);
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      RETURN_IF_ERROR(RemoveLeaf(dir.get(), base, path));
      if (sys::SysResult r = sys_.Symlinkat(target != nullptr ? target : "",
                                            dir.get(), base.c_str());
          !r.ok()) {
        return sys::ErrnoError(r.err, "symlink %s in layer", path);
      }
      return SetOwnerModeTimes(dir.get(), base, entry, /*symlink=*/true, path);
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      RETURN_IF_ERROR(RemoveLeaf(dir.get(), base, path));
      dev_t dev = makedev(archive_entry_rdevmajor(entry),
                          archive_entry_rdevminor(entry));
      if (sys::SysResult r =
              sys_.Mknodat(dir.get(), base.c_str(), type | 0600, dev);
          !r.ok()) {
        return sys::ErrnoError(r.err, "mknod %s in layer", path);
      }
      return SetOwnerModeTimes(dir.get(), base, entry, /*symlink=*/false, path);
    }
    default:
      // Sockets: meaningless in an image; runtimes skip them too.
      return absl::OkStatus();
  }
}

absl::Status Unpacker::FinishDirectoryTimes() {
  // Deepest first would not matter: setting a directory's times does not
  // change its parent's.
  for (DirTimes& d : dir_times_) {
    ASSIGN_OR_RETURN(sys::UniqueFd dir, OpenDir(d.parts, d.parts.size() - 1,
                                                absl::StrJoin(d.parts, "/")));
    if (sys::SysResult r = sys_.Utimensat(dir.get(), d.parts.back().c_str(),
                                          d.times, AT_SYMLINK_NOFOLLOW);
        !r.ok()) {
      return sys::ErrnoError(r.err, "set times of %s in layer",
                             absl::StrJoin(d.parts, "/"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

ByteSource FdByteSource(sys::Sys& sys, int fd) {
  return [&sys, fd](char* buf, size_t size) -> absl::StatusOr<size_t> {
    while (true) {
      sys::SysResult r = sys.Read(fd, buf, size);
      if (r.ok()) return static_cast<size_t>(r.value);
      if (r.err != EINTR) return sys::ErrnoError(r.err, "read layer stream");
    }
  };
}

absl::StatusOr<UnpackResult> UnpackLayer(sys::Sys& sys, int layer_dir_fd,
                                         const ByteSource& source,
                                         const UnpackOptions& options) {
  Stream s;
  s.source = &source;
  s.in.resize(kBufferSize);
  s.out.resize(kBufferSize);
  s.max_bytes = options.max_bytes;

  Archive decoded(archive_read_new(), archive_read_free);
  Archive tar(archive_read_new(), archive_read_free);
  if (decoded == nullptr || tar == nullptr) {
    return absl::ResourceExhaustedError("archive_read_new: out of memory");
  }
  // Only the layer media types OCI defines: plain, gzip, zstd. Not
  // support_filter_all, which would run external programs (lrzip, lzop)
  // for formats libarchive has no library for.
  archive_read_support_filter_gzip(decoded.get());
  archive_read_support_filter_zstd(decoded.get());
  archive_read_support_format_raw(decoded.get());
  if (archive_read_open(decoded.get(), &s, nullptr, ReadSource, nullptr) !=
      ARCHIVE_OK) {
    return ArchiveError(s, decoded.get(), "open layer stream");
  }
  struct archive_entry* raw_entry = nullptr;
  if (int r = archive_read_next_header(decoded.get(), &raw_entry);
      r != ARCHIVE_OK) {
    return ArchiveError(s, decoded.get(), "open layer stream");
  }
  s.decoded = decoded.get();

  archive_read_support_format_tar(tar.get());
  if (archive_read_open(tar.get(), &s, nullptr, ReadTar, nullptr) !=
      ARCHIVE_OK) {
    return ArchiveError(s, tar.get(), "read layer tar");
  }
  Unpacker unpacker(sys, layer_dir_fd, s);
  UnpackResult result;
  while (true) {
    struct archive_entry* entry = nullptr;
    int r = archive_read_next_header(tar.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return ArchiveError(s, tar.get(), "read layer tar");
    }
    if (++result.entries > options.max_entries) {
      return absl::ResourceExhaustedError(
          absl::StrCat("layer: more than ", options.max_entries, " entries"));
    }
    RETURN_IF_ERROR(unpacker.Apply(tar.get(), entry));
  }
  // The diff_id covers the whole stream: hash what follows the tar's end
  // blocks too.
  const void* ignored = nullptr;
  while (true) {
    la_ssize_t n = ReadTar(tar.get(), &s, &ignored);
    if (n < 0) return ArchiveError(s, tar.get(), "read layer tar");
    if (n == 0) break;
  }
  RETURN_IF_ERROR(unpacker.FinishDirectoryTimes());
  result.diff_id = s.hasher.Finish();
  result.tar_bytes = s.tar_bytes;
  return result;
}

}  // namespace podsandbox::image
