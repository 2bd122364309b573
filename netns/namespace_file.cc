#include "netns/namespace_file.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::netns {

std::string NamespaceId::ToString() const {
  return absl::StrCat(device, ":[", inode, "]");
}

absl::StatusOr<sys::UniqueFd> OpenNamespace(sys::Sys& sys,
                                            absl::string_view path) {
  return sys::OpenFile(sys, path, O_RDONLY);
}

absl::StatusOr<NamespaceId> IdOf(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return sys::ErrnoError(errno, "fstat fd %d", fd);
  return NamespaceId{static_cast<uint64_t>(st.st_dev),
                     static_cast<uint64_t>(st.st_ino)};
}

absl::StatusOr<NamespaceId> IdOfPath(absl::string_view path) {
  std::string p(path);
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return sys::ErrnoError(errno, "stat %s", p);
  return NamespaceId{static_cast<uint64_t>(st.st_dev),
                     static_cast<uint64_t>(st.st_ino)};
}

absl::StatusOr<sys::UniqueFd> OwningUserNamespace(sys::Sys& sys, int ns_fd) {
  sys::SysResult r = sys.Ioctl(ns_fd, NS_GET_USERNS);
  if (!r.ok()) return sys::ErrnoError(r.err, "ioctl NS_GET_USERNS");
  return sys::UniqueFd(static_cast<int>(r.value));
}

}  // namespace podsandbox::netns
