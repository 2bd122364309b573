#include "container/image_user.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <algorithm>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sys/status.h"
#include "sys/unique_fd.h"

namespace podsandbox::container {
namespace {

constexpr absl::string_view kSecurityField = "config.linux.security_context";

// An id the kernel accepts: uid_t minus (uid_t)-1, which means "unchanged"
// to setresuid(2).
std::optional<uint32_t> ParseId(absl::string_view text) {
  uint64_t value = 0;
  if (text.empty() || !absl::SimpleAtoi(text, &value)) return std::nullopt;
  // SimpleAtoi takes a sign and spaces; an id is plain digits.
  if (!std::all_of(text.begin(), text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  if (value >= std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(value);
}

struct IdFiles {
  std::vector<PasswdEntry> passwd;
  std::vector<GroupEntry> group;
  bool has_passwd = false;
  bool has_group = false;
};

absl::StatusOr<IdFiles> ReadIdFiles(sys::Sys& sys, int rootfs_fd) {
  IdFiles files;
  ASSIGN_OR_RETURN(
      std::optional<std::string> passwd,
      ReadFileInRoot(sys, rootfs_fd, "etc/passwd", kMaxIdFileBytes));
  ASSIGN_OR_RETURN(
      std::optional<std::string> group,
      ReadFileInRoot(sys, rootfs_fd, "etc/group", kMaxIdFileBytes));
  if (passwd.has_value()) {
    files.has_passwd = true;
    files.passwd = ParsePasswd(*passwd);
  }
  if (group.has_value()) {
    files.has_group = true;
    files.group = ParseGroup(*group);
  }
  return files;
}

const PasswdEntry* FindUser(const IdFiles& files, absl::string_view name) {
  for (const PasswdEntry& e : files.passwd) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

const PasswdEntry* FindUid(const IdFiles& files, uint32_t uid) {
  for (const PasswdEntry& e : files.passwd) {
    if (e.uid == uid) return &e;
  }
  return nullptr;
}

absl::Status NoSuchName(absl::string_view field, absl::string_view kind,
                        absl::string_view name, absl::string_view file,
                        bool file_exists) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", kind, " \"", name, "\" is not in the image's ",
                   file, file_exists ? "" : " (the image has none)"));
}

// A value for an id field of the security context: 0..2^32-2.
absl::StatusOr<uint32_t> CheckedId(int64_t value, absl::string_view field) {
  if (value < 0 || value >= std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", value, " is not a valid id (0..4294967294)"));
  }
  return static_cast<uint32_t>(value);
}

}  // namespace

std::vector<PasswdEntry> ParsePasswd(absl::string_view text) {
  std::vector<PasswdEntry> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ':');
    if (f.size() < 4 || f[0].empty()) continue;
    std::optional<uint32_t> uid = ParseId(f[2]);
    std::optional<uint32_t> gid = ParseId(f[3]);
    if (!uid || !gid) continue;
    out.push_back({std::string(f[0]), *uid, *gid});
  }
  return out;
}

std::vector<GroupEntry> ParseGroup(absl::string_view text) {
  std::vector<GroupEntry> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ':');
    if (f.size() < 3 || f[0].empty()) continue;
    std::optional<uint32_t> gid = ParseId(f[2]);
    if (!gid) continue;
    GroupEntry e{std::string(f[0]), *gid, {}};
    if (f.size() >= 4) {
      for (absl::string_view m : absl::StrSplit(f[3], ',', absl::SkipEmpty())) {
        e.members.emplace_back(m);
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::optional<std::string>> ReadFileInRoot(
    sys::Sys& sys, int rootfs_fd, absl::string_view path, size_t max_bytes) {
  std::string rel(path);
  struct open_how how = {};
  // O_PATH first: opening a FIFO for reading would block and opening a
  // device node can act on the device; neither happens with O_PATH, and the
  // type is checked before the file is opened for reading.
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  sys::SysResult r = sys.Openat2(rootfs_fd, rel.c_str(), &how, sizeof(how));
  if (!r.ok()) {
    if (r.err == ENOENT || r.err == ENOTDIR) return std::nullopt;
    if (r.err == ELOOP || r.err == EXDEV) {
      return absl::InvalidArgumentError(absl::StrCat(
          "image /", path, ": ",
          r.err == ELOOP ? "too many symlinks" : "resolves across a mount"));
    }
    return sys::ErrnoError(r.err, "open image /%s", path);
  }
  sys::UniqueFd pathfd(static_cast<int>(r.value));
  struct stat st;
  if (fstat(pathfd.get(), &st) != 0) {
    return sys::ErrnoError(errno, "stat image /%s", path);
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("image /", path, ": not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image /", path, ": ", st.st_size, " bytes, more than ", max_bytes));
  }
  // Reopen the very inode the O_PATH fd holds (the magic link is our own
  // process's fd table, not the image's).
  std::string self = absl::StrCat("/proc/self/fd/", pathfd.get());
  sys::SysResult o = sys.Open(self.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (!o.ok()) return sys::ErrnoError(o.err, "open image /%s", path);
  sys::UniqueFd fd(static_cast<int>(o.value));
  std::string data;
  // One byte more than allowed: a file that grew after fstat is still
  // caught.
  std::vector<char> buf(std::min<size_t>(max_bytes + 1, 64 << 10));
  while (data.size() <= max_bytes) {
    sys::SysResult n = sys.Read(fd.get(), buf.data(), buf.size());
    if (!n.ok()) {
      if (n.err == EINTR) continue;
      return sys::ErrnoError(n.err, "read image /%s", path);
    }
    if (n.value == 0) return data;
    data.append(buf.data(), static_cast<size_t>(n.value));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("image /", path, ": more than ", max_bytes, " bytes"));
}

absl::StatusOr<ProcessUser> ResolveProcessUser(sys::Sys& sys, int rootfs_fd,
                                               const SecurityContext& security,
                                               absl::string_view image_user) {
  ASSIGN_OR_RETURN(IdFiles files, ReadIdFiles(sys, rootfs_fd));
  ProcessUser user;
  // The user's name, when known: it selects the /etc/group memberships.
  std::string name;
  bool gid_known = false;

  if (security.run_as_user.has_value()) {
    ASSIGN_OR_RETURN(user.uid,
                     CheckedId(*security.run_as_user,
                               absl::StrCat(kSecurityField, ".run_as_user")));
    if (const PasswdEntry* e = FindUid(files, user.uid)) {
      name = e->name;
      user.gid = e->gid;
      gid_known = true;
    }
  } else if (!security.run_as_username.empty()) {
    const PasswdEntry* e = FindUser(files, security.run_as_username);
    if (e == nullptr) {
      return NoSuchName(absl::StrCat(kSecurityField, ".run_as_username"),
                        "user", security.run_as_username, "/etc/passwd",
                        files.has_passwd);
    }
    name = e->name;
    user.uid = e->uid;
    user.gid = e->gid;
    gid_known = true;
  } else if (!image_user.empty()) {
    constexpr absl::string_view kField = "image config User";
    std::vector<absl::string_view> parts =
        absl::StrSplit(image_user, absl::MaxSplits(':', 1));
    absl::string_view user_part = parts[0];
    if (user_part.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kField, " \"", image_user, "\": no user before ':'"));
    }
    if (std::optional<uint32_t> uid = ParseId(user_part)) {
      user.uid = *uid;
      if (const PasswdEntry* e = FindUid(files, user.uid)) {
        name = e->name;
        user.gid = e->gid;
        gid_known = true;
      }
    } else {
      const PasswdEntry* e = FindUser(files, user_part);
      if (e == nullptr) {
        return NoSuchName(kField, "user", user_part, "/etc/passwd",
                          files.has_passwd);
      }
      name = e->name;
      user.uid = e->uid;
      user.gid = e->gid;
      gid_known = true;
    }
    if (parts.size() == 2) {
      absl::string_view group_part = parts[1];
      if (std::optional<uint32_t> gid = ParseId(group_part)) {
        user.gid = *gid;
      } else {
        auto it = std::find_if(
            files.group.begin(), files.group.end(),
            [&](const GroupEntry& g) { return g.name == group_part; });
        if (group_part.empty() || it == files.group.end()) {
          return NoSuchName(kField, "group", group_part, "/etc/group",
                            files.has_group);
        }
        user.gid = it->gid;
      }
      gid_known = true;
    }
  } else if (const PasswdEntry* e = FindUid(files, 0)) {
    // No user anywhere: root, with root's name for its group memberships.
    name = e->name;
    user.gid = e->gid;
    gid_known = true;
  }
  if (!gid_known) user.gid = 0;
  if (security.run_as_group.has_value()) {
    ASSIGN_OR_RETURN(user.gid,
                     CheckedId(*security.run_as_group,
                               absl::StrCat(kSecurityField, ".run_as_group")));
  }

  auto add = [&user](uint32_t gid) {
    if (std::find(user.additional_gids.begin(), user.additional_gids.end(),
                  gid) == user.additional_gids.end()) {
      user.additional_gids.push_back(gid);
    }
  };
  add(user.gid);
  if (!name.empty()) {
    for (const GroupEntry& g : files.group) {
      if (std::find(g.members.begin(), g.members.end(), name) !=
          g.members.end()) {
        add(g.gid);
      }
    }
  }
  for (size_t i = 0; i < security.supplemental_groups.size(); ++i) {
    ASSIGN_OR_RETURN(uint32_t gid,
                     CheckedId(security.supplemental_groups[i],
                               absl::StrCat(kSecurityField,
                                            ".supplemental_groups[", i, "]")));
    add(gid);
  }
  return user;
}

}  // namespace podsandbox::container
