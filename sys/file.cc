#include "sys/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sys/status.h"

namespace podsandbox::sys {
namespace {

std::string DirName(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string BaseName(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return std::string(path);
  return std::string(path.substr(slash + 1));
}

using Dir = std::unique_ptr<DIR, int (*)(DIR*)>;

// A DIR over `fd`, which it then owns (closedir closes it).
absl::StatusOr<Dir> OpenDirOver(UniqueFd fd, const std::string& path) {
  Dir dir(::fdopendir(fd.get()), ::closedir);
  if (dir == nullptr) return ErrnoError(errno, "opendir %s", path);
  fd.release();
  return dir;
}

// The names in `dir` but "." and "..". Read to the end before anything is
// removed, so that removing cannot disturb the listing.
std::vector<std::string> ListNames(DIR* dir) {
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    absl::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  return names;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListDir(absl::string_view dir) {
  std::string path(dir);
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(path.c_str()), ::closedir);
  if (d == nullptr) {
    if (errno == ENOENT) return std::vector<std::string>{};
    return ErrnoError(errno, "list %s", path);
  }
  return ListNames(d.get());
}

absl::StatusOr<UniqueFd> OpenFile(Sys& sys, absl::string_view path, int flags,
                                  mode_t mode) {
  std::string p(path);
  SysResult r = sys.Open(p.c_str(), flags | O_CLOEXEC, mode);
  if (!r.ok()) return ErrnoError(r.err, "open %s", p);
  return UniqueFd(static_cast<int>(r.value));
}

absl::StatusOr<std::string> ReadFile(absl::string_view path) {
  std::string p(path);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(errno, "open %s", p);
  std::string data;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(errno, "read %s", p);
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

absl::Status WriteAll(Sys& sys, int fd, absl::string_view data) {
  while (!data.empty()) {
    SysResult r = sys.Write(fd, data.data(), data.size());
    if (!r.ok() && r.err == EINTR) continue;
    if (!r.ok()) return ErrnoError(r.err, "write fd %d", fd);
    data.remove_prefix(static_cast<size_t>(r.value));
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(Sys& sys, absl::string_view path,
                                 absl::string_view data, mode_t mode,
                                 bool durable) {
  std::string target(path);
  std::string temp = absl::StrCat(target, kTempSuffix);
  // O_EXCL (which with O_CREAT also refuses a symlink at the name, dangling
  // or not) and O_NOFOLLOW: we write only into a file this call created.
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  SysResult opened = sys.Open(temp.c_str(), kFlags, mode);
  if (!opened.ok() && opened.err == EEXIST) {
    // Left by a crash between write and rename, or planted: either way it
    // is in a directory of ours and only the link is removed.
    if (SysResult r = sys.Unlinkat(AT_FDCWD, temp.c_str(), 0);
        !r.ok() && r.err != ENOENT) {
      return ErrnoError(r.err, "remove stale %s", temp);
    }
    opened = sys.Open(temp.c_str(), kFlags, mode);
  }
  if (!opened.ok()) return ErrnoError(opened.err, "create %s", temp);
  UniqueFd fd(static_cast<int>(opened.value));
  absl::Status written = WriteAll(sys, fd.get(), data);
  if (written.ok() && durable) {
    if (SysResult r = sys.Fsync(fd.get()); !r.ok()) {
      written = ErrnoError(r.err, "fsync %s", temp);
    }
  }
  if (written.ok()) {
    if (SysResult r = sys.Rename(temp.c_str(), target.c_str()); !r.ok()) {
      written = ErrnoError(r.err, "rename %s to %s", temp, target);
    }
  }
  if (!written.ok()) {
    // Best effort: a leftover temp file is replaced by the next write and
    // collected at start (RemoveTempFiles).
    (void)sys.Unlink(temp.c_str());
    return written;
  }
  if (!durable) return absl::OkStatus();
  std::string dir = DirName(target);
  ASSIGN_OR_RETURN(UniqueFd dir_fd, OpenFile(sys, dir, O_RDONLY | O_DIRECTORY));
  if (SysResult r = sys.Fsync(dir_fd.get()); !r.ok()) {
    return ErrnoError(r.err, "fsync directory %s", dir);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> RemoveTempFiles(
    Sys& sys, absl::string_view dir) {
  std::string d(dir);
  std::vector<std::string> removed;
  SysResult opened = sys.Open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (!opened.ok() && opened.err == ENOENT) return removed;
  if (!opened.ok()) return ErrnoError(opened.err, "open %s", d);
  ASSIGN_OR_RETURN(Dir listing,
                   OpenDirOver(UniqueFd(static_cast<int>(opened.value)), d));
  for (const std::string& name : ListNames(listing.get())) {
    if (!absl::EndsWith(name, kTempSuffix)) continue;
    std::string path = absl::StrCat(d, "/", name);
    // Flags 0: a directory by that name is no temp file of ours; unlinkat
    // refuses it (EISDIR) and it stays.
    if (SysResult r = sys.Unlinkat(::dirfd(listing.get()), name.c_str(), 0);
        !r.ok()) {
      if (r.err == ENOENT || r.err == EISDIR) continue;
      return ErrnoError(r.err, "remove leftover %s", path);
    }
    removed.push_back(std::move(path));
  }
  return removed;
}

absl::Status CheckTrustedDir(absl::string_view path, uid_t owner) {
  std::string p(path);
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return ErrnoError(errno, "stat %s", p);
  auto refuse = [&p](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat("directory ", p, ": ", why));
  };
  if (!S_ISDIR(st.st_mode)) return refuse("not a directory");
  if (st.st_uid != owner) {
    return refuse(absl::StrFormat("owned by uid %u, must be owned by uid %u",
                                  st.st_uid, owner));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return refuse(
        absl::StrFormat("mode %04o lets %s write it; remove that (chmod go-w)",
                        st.st_mode & 07777,
                        (st.st_mode & S_IWOTH) != 0 ? "others" : "its group"));
  }
  return absl::OkStatus();
}

absl::Status MakeDirs(Sys& sys, absl::string_view path, mode_t mode) {
  std::string p(path);
  struct stat st;
  if (::stat(p.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("mkdir ", p, ": exists and is not a directory"));
  }
  std::string parent = DirName(p);
  if (parent != p && parent != "/" && parent != ".") {
    RETURN_IF_ERROR(MakeDirs(sys, parent, mode));
  }
  SysResult r = sys.Mkdir(p.c_str(), mode);
  if (!r.ok() && r.err != EEXIST) return ErrnoError(r.err, "mkdir %s", p);
  return absl::OkStatus();
}

absl::Status RemoveFileIfExists(Sys& sys, absl::string_view path) {
  std::string p(path);
  SysResult r = sys.Unlink(p.c_str());
  if (!r.ok() && r.err != ENOENT) return ErrnoError(r.err, "unlink %s", p);
  return absl::OkStatus();
}

namespace {

// unlinkat(2) of `name` in `parent_fd`; already gone counts as removed.
absl::Status UnlinkAt(Sys& sys, int parent_fd, const std::string& name,
                      const std::string& path, int flags) {
  SysResult r = sys.Unlinkat(parent_fd, name.c_str(), flags);
  if (!r.ok() && r.err != ENOENT) {
    return ErrnoError(r.err, "%s %s",
                      flags == AT_REMOVEDIR ? "rmdir" : "unlink", path);
  }
  return absl::OkStatus();
}

absl::Status RemoveAt(Sys& sys, int parent_fd, const std::string& name,
                      const std::string& path, dev_t tree_dev);

// Removes everything in the directory open as `fd` (which it consumes).
absl::Status EmptyDir(Sys& sys, UniqueFd fd, const std::string& path,
                      dev_t tree_dev) {
  ASSIGN_OR_RETURN(Dir dir, OpenDirOver(std::move(fd), path));
  for (const std::string& name : ListNames(dir.get())) {
    RETURN_IF_ERROR(RemoveAt(sys, ::dirfd(dir.get()), name,
                             absl::StrCat(path, "/", name), tree_dev));
  }
  return absl::OkStatus();
}

// Removes the entry `name` of the directory open as `parent_fd` (`path`
// only names it in messages). Nothing here resolves more than one
// component, and nothing follows a symlink.
absl::Status RemoveAt(Sys& sys, int parent_fd, const std::string& name,
                      const std::string& path, dev_t tree_dev) {
  // fstatat has no side effect, so it is called directly.
  struct stat st;
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(errno, "stat %s", path);
  }
  // A different device is a mount point (a pin, a bind): emptying it would
  // delete what belongs to someone else.
  if (st.st_dev != tree_dev) return ErrnoError(EBUSY, "remove %s", path);
  if (!S_ISDIR(st.st_mode)) return UnlinkAt(sys, parent_fd, name, path, 0);
  SysResult opened =
      sys.Openat(parent_fd, name.c_str(),
                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (!opened.ok()) {
    if (opened.err == ENOENT) return absl::OkStatus();
    // Swapped since the fstatat for a symlink (ELOOP) or another file
    // (ENOTDIR): remove the entry it is now, without following it.
    if (opened.err == ELOOP || opened.err == ENOTDIR) {
      return UnlinkAt(sys, parent_fd, name, path, 0);
    }
    return ErrnoError(opened.err, "open %s", path);
  }
  UniqueFd dir(static_cast<int>(opened.value));
  // The fd, not the name, is what we empty: check that it is still on our
  // filesystem (a mount may have landed there since the fstatat).
  struct stat opened_st;
  if (::fstat(dir.get(), &opened_st) != 0) {
    return ErrnoError(errno, "stat %s", path);
  }
  if (opened_st.st_dev != tree_dev) {
    return ErrnoError(EBUSY, "remove %s", path);
  }
  RETURN_IF_ERROR(EmptyDir(sys, std::move(dir), path, tree_dev));
  // ENOTDIR here: the emptied directory was moved away and something else
  // put in its place; that is reported, never removed blindly.
  return UnlinkAt(sys, parent_fd, name, path, AT_REMOVEDIR);
}

}  // namespace

absl::Status RemoveTree(Sys& sys, absl::string_view path) {
  std::string p(path);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  std::string name = BaseName(p);
  if (name.empty() || name == "/" || name == "." || name == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("remove tree \"", p, "\": names no directory entry"));
  }
  std::string parent = DirName(p);
  SysResult opened =
      sys.Open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (!opened.ok() && opened.err == ENOENT) return absl::OkStatus();
  if (!opened.ok()) return ErrnoError(opened.err, "open %s", parent);
  UniqueFd parent_fd(static_cast<int>(opened.value));
  struct stat st;
  if (::fstatat(parent_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(errno, "stat %s", p);
  }
  // The tree is the filesystem `path` is on, even if `path` is itself a
  // mount point (a test's tmpfs, say).
  return RemoveAt(sys, parent_fd.get(), name, p, st.st_dev);
}

}  // namespace podsandbox::sys
