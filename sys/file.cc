#include "sys/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sys/status.h"

namespace podsandbox::sys {
namespace {

std::string DirName(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace

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
  std::string temp = absl::StrCat(target, ".tmp");
  ASSIGN_OR_RETURN(UniqueFd fd,
                   OpenFile(sys, temp, O_WRONLY | O_CREAT | O_TRUNC, mode));
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
    // Best effort: a leftover temp file is overwritten by the next write.
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

absl::Status RemoveTreeOnDevice(Sys& sys, const std::string& path,
                                const struct stat& st) {
  if (!S_ISDIR(st.st_mode)) return RemoveFileIfExists(sys, path);
  std::vector<std::string> entries;
  {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()),
                                            ::closedir);
    if (dir == nullptr) return ErrnoError(errno, "opendir %s", path);
    while (struct dirent* e = ::readdir(dir.get())) {
      absl::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      entries.push_back(absl::StrCat(path, "/", name));
    }
  }
  for (const std::string& entry : entries) {
    struct stat entry_st;
    if (::lstat(entry.c_str(), &entry_st) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoError(errno, "stat %s", entry);
    }
    // A different device is a mount point (a pin, a bind): emptying it would
    // delete what belongs to someone else.
    if (entry_st.st_dev != st.st_dev) {
      return ErrnoError(EBUSY, "remove %s", entry);
    }
    RETURN_IF_ERROR(RemoveTreeOnDevice(sys, entry, entry_st));
  }
  SysResult r = sys.Rmdir(path.c_str());
  if (!r.ok() && r.err != ENOENT) return ErrnoError(r.err, "rmdir %s", path);
  return absl::OkStatus();
}

}  // namespace

absl::Status RemoveTree(Sys& sys, absl::string_view path) {
  std::string p(path);
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(errno, "stat %s", p);
  }
  return RemoveTreeOnDevice(sys, p, st);
}

}  // namespace podsandbox::sys
