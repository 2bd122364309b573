// Unpacks tars that the test builds with libarchive's writer into a fresh
// directory and checks what lands on disk, that nothing lands outside it,
// and that every syscall failure is returned. Root: chown, mknod and
// trusted.* xattrs need it.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/digest.h"
#include "image/store.h"
#include "image/unpack.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/dir_names.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "sys/unique_fd.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::sys::testing::DirNames;
using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

struct Entry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string data;
  mode_t perm = 0644;
  int64_t uid = 0;
  int64_t gid = 0;
  time_t mtime = 1'600'000'000;
  std::string symlink;   // target of a symlink
  std::string hardlink;  // target of a hardlink (type ignored)
  unsigned rdev_major = 0;
  unsigned rdev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

Entry Dir(std::string path, mode_t perm = 0755) {
  Entry e;
  e.path = std::move(path);
  e.type = AE_IFDIR;
  e.perm = perm;
  return e;
}
Entry File(std::string path, std::string data) {
  Entry e;
  e.path = std::move(path);
  e.data = std::move(data);
  return e;
}
Entry Symlink(std::string path, std::string target) {
  Entry e;
  e.path = std::move(path);
  e.type = AE_IFLNK;
  e.perm = 0777;
  e.symlink = std::move(target);
  return e;
}
Entry Hardlink(std::string path, std::string target) {
  Entry e;
  e.path = std::move(path);
  e.hardlink = std::move(target);
  return e;
}

la_ssize_t Append(struct archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// A pax tar of `entries`, uncompressed.
std::string MakeTar(const std::vector<Entry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_none(a);
  archive_write_open(a, &out, nullptr, Append, nullptr);
  for (const Entry& e : entries) {
    struct archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.path.c_str());
    archive_entry_set_uid(ae, e.uid);
    archive_entry_set_gid(ae, e.gid);
    archive_entry_set_mtime(ae, e.mtime, 0);
    if (!e.hardlink.empty()) {
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_hardlink(ae, e.hardlink.c_str());
      archive_entry_set_size(ae, 0);
    } else {
      archive_entry_set_filetype(ae, e.type);
      archive_entry_set_perm(ae, e.perm);
      archive_entry_set_size(ae, e.type == AE_IFREG ? e.data.size() : 0);
      if (e.type == AE_IFLNK) archive_entry_set_symlink(ae, e.symlink.c_str());
      archive_entry_set_rdevmajor(ae, e.rdev_major);
      archive_entry_set_rdevminor(ae, e.rdev_minor);
    }
    for (const auto& [name, value] : e.xattrs) {
      archive_entry_xattr_add_entry(ae, name.c_str(), value.data(),
                                    value.size());
    }
    EXPECT_EQ(archive_write_header(a, ae), ARCHIVE_OK)
        << archive_error_string(a);
    if (e.type == AE_IFREG && e.hardlink.empty() && !e.data.empty()) {
      EXPECT_EQ(archive_write_data(a, e.data.data(), e.data.size()),
                static_cast<la_ssize_t>(e.data.size()));
    }
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

enum class Compression { kNone, kGzip, kZstd };

// `data` through libarchive's gzip or zstd filter (the raw format writes
// one entry's data as the whole stream).
std::string Compress(const std::string& data, Compression c) {
  if (c == Compression::kNone) return data;
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  if (c == Compression::kGzip) archive_write_add_filter_gzip(a);
  if (c == Compression::kZstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, Append, nullptr);
  struct archive_entry* ae = archive_entry_new();
  archive_entry_set_pathname(ae, "layer");
  archive_entry_set_filetype(ae, AE_IFREG);
  archive_entry_set_size(ae, data.size());
  archive_write_header(a, ae);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(ae);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// Serves `data` in small chunks, as a network stream would.
ByteSource StringSource(std::string data) {
  auto offset = std::make_shared<size_t>(0);
  auto bytes = std::make_shared<std::string>(std::move(data));
  return [offset, bytes](char* buf, size_t size) -> absl::StatusOr<size_t> {
    size_t n = std::min({size, bytes->size() - *offset, size_t{4096}});
    std::copy_n(bytes->data() + *offset, n, buf);
    *offset += n;
    return n;
  };
}

std::string Xattr(const std::string& path, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof(buf));
  return n < 0 ? "<none>" : std::string(buf, n);
}

// <tmp>/layer is the layer; <tmp>/outside holds a file the escape attempts
// aim at, and must be unchanged after every test.
class UnpackTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    sys::LeakCheckedTest::SetUp();
    ASSERT_EQ(::mkdir(layer_.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(tmp_.Sub("outside").c_str(), 0755), 0);
    ASSERT_THAT(sys::WriteFileAtomically(real_, tmp_.Sub("outside/secret"),
                                         "secret", 0644),
                IsOk());
    fds_before_ = DirNames("/proc/self/fd");
  }

  std::string FindLeftovers() override {
    std::string out;
    if (DirNames("/proc/self/fd") != fds_before_)
      out += "file descriptors leaked\n";
    if (DirNames(tmp_.path()) != std::set<std::string>{"layer", "outside"}) {
      out += "entries appeared beside the layer directory\n";
    }
    if (DirNames(tmp_.Sub("outside")) != std::set<std::string>{"secret"}) {
      out += "entries appeared in outside/\n";
    }
    struct stat st;
    if (::stat(tmp_.Sub("outside/secret").c_str(), &st) != 0 ||
        st.st_nlink != 1 || st.st_size != 6) {
      out += "outside/secret was linked or changed\n";
    }
    return out;
  }

  absl::StatusOr<UnpackResult> Unpack(const std::string& stream, sys::Sys& sys,
                                      const UnpackOptions& options = {}) {
    sys::UniqueFd fd(
        ::open(layer_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return UnpackLayer(sys, fd.get(), StringSource(stream), options);
  }
  absl::StatusOr<UnpackResult> Unpack(const std::string& stream,
                                      const UnpackOptions& options = {}) {
    return Unpack(stream, real_, options);
  }
  std::string At(const std::string& rel) const { return layer_ + "/" + rel; }

  sys::RealSys real_;
  sys::TempDir tmp_;
  std::string layer_ = tmp_.Sub("layer");
  std::set<std::string> fds_before_;
};

TEST_F(UnpackTest, KeepsContentOwnerModeTimesAndXattrs) {
  Entry bin = File("usr/bin/tool", "#!/bin/sh\n");
  bin.perm = 04755;
  bin.uid = 1234;
  bin.gid = 5678;
  bin.mtime = 1'500'000'000;
  bin.xattrs = {{"user.origin", "test"},
                {"trusted.overlay.redirect", "/elsewhere"}};
  Entry dir = Dir("srv", 0710);
  dir.uid = 42;
  dir.mtime = 1'400'000'000;
  dir.xattrs = {{"user.kind", "dir"}};
  Entry link = Symlink("etc-passwd", "/etc/passwd");
  link.uid = 7;
  link.mtime = 1'300'000'000;
  ASSERT_THAT(Unpack(MakeTar({dir, File("srv/data", "x"), bin, link})), IsOk());

  struct stat st;
  ASSERT_EQ(::lstat(At("usr/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'500'000'000);
  EXPECT_THAT(sys::ReadFile(At("usr/bin/tool")), IsOkAndHolds("#!/bin/sh\n"));
  EXPECT_EQ(Xattr(At("usr/bin/tool"), "user.origin"), "test");
  EXPECT_EQ(Xattr(At("usr/bin/tool"), "trusted.overlay.redirect"), "<none>");
  // Implicit parents, made as tar does.
  ASSERT_EQ(::lstat(At("usr/bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755);

  ASSERT_EQ(::lstat(At("srv").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0710);
  EXPECT_EQ(st.st_uid, 42u);
  // Set after srv/data was created inside it.
  EXPECT_EQ(st.st_mtim.tv_sec, 1'400'000'000);
  EXPECT_EQ(Xattr(At("srv"), "user.kind"), "dir");

  ASSERT_EQ(::lstat(At("etc-passwd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_uid, 7u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'300'000'000);
  char target[64] = {};
  ASSERT_GT(::readlink(At("etc-passwd").c_str(), target, sizeof(target)), 0);
  EXPECT_STREQ(target, "/etc/passwd");
}

TEST_F(UnpackTest, HardlinkSharesTheInode) {
  ASSERT_THAT(Unpack(MakeTar({File("a", "data"), Hardlink("b", "a"),
                              Hardlink("c", "./a")})),
              IsOk());
  struct stat a, b, c;
  ASSERT_EQ(::lstat(At("a").c_str(), &a), 0);
  ASSERT_EQ(::lstat(At("b").c_str(), &b), 0);
  ASSERT_EQ(::lstat(At("c").c_str(), &c), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_ino, c.st_ino);
  EXPECT_EQ(a.st_nlink, 3u);
}

TEST_F(UnpackTest, WhiteoutsAndOpaqueDirsBecomeOverlayMetadata) {
  ASSERT_THAT(
      Unpack(MakeTar({Dir("etc"), File("etc/.wh.removed", ""), Dir("var"),
                      File("var/.wh..wh..opq", ""),
                      File("var/.wh..wh.plnk", ""), File("var/kept", "k")})),
      IsOk());
  struct stat st;
  ASSERT_EQ(::lstat(At("etc/removed").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_EQ(DirNames(At("etc")), std::set<std::string>{"removed"});
  EXPECT_EQ(Xattr(At("var"), "trusted.overlay.opaque"), "y");
  EXPECT_EQ(DirNames(At("var")), std::set<std::string>{"kept"});
}

TEST_F(UnpackTest, DeviceNodesAndFifosAreMade) {
  Entry null;
  null.path = "dev/null";
  null.type = AE_IFCHR;
  null.perm = 0666;
  null.rdev_major = 1;
  null.rdev_minor = 3;
  Entry loop = null;
  loop.path = "dev/loop0";
  loop.type = AE_IFBLK;
  loop.rdev_major = 7;
  loop.rdev_minor = 0;
  Entry fifo;
  fifo.path = "run/fifo";
  fifo.type = AE_IFIFO;
  fifo.perm = 0620;
  ASSERT_THAT(Unpack(MakeTar({null, loop, fifo})), IsOk());
  struct stat st;
  ASSERT_EQ(::lstat(At("dev/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666);
  ASSERT_EQ(::lstat(At("dev/loop0").c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(7, 0));
  ASSERT_EQ(::lstat(At("run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0620);
}

class CompressionTest : public UnpackTest,
                        public ::testing::WithParamInterface<Compression> {};

TEST_P(CompressionTest, DiffIdIsTheSha256OfTheUncompressedTar) {
  std::string tar = MakeTar({Dir("d"), File("d/f", std::string(100000, 'z'))});
  absl::StatusOr<UnpackResult> r = Unpack(Compress(tar, GetParam()));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->diff_id, Sha256Of(tar));
  EXPECT_EQ(r->tar_bytes, tar.size());
  EXPECT_EQ(r->entries, 2u);
  EXPECT_THAT(sys::ReadFile(At("d/f")), IsOkAndHolds(std::string(100000, 'z')));
}

INSTANTIATE_TEST_SUITE_P(AllMediaTypes, CompressionTest,
                         ::testing::Values(Compression::kNone,
                                           Compression::kGzip,
                                           Compression::kZstd));

// Each escape attempt: what the layer holds, and whether the unpack is
// refused. Contained ones succeed, with their effect inside the layer.
// Whatever happens, FindLeftovers checks that outside/ and the temp dir
// are untouched.
struct EscapeCase {
  std::string name;
  std::vector<Entry> entries;
  absl::StatusCode code;
  std::string inside;  // a path that must exist in the layer afterwards
};

class EscapeTest : public UnpackTest,
                   public ::testing::WithParamInterface<EscapeCase> {};

TEST_P(EscapeTest, NothingIsWrittenOutsideTheLayer) {
  EXPECT_THAT(Unpack(MakeTar(GetParam().entries)), StatusIs(GetParam().code));
  if (!GetParam().inside.empty()) {
    struct stat st;
    EXPECT_EQ(::lstat(At(GetParam().inside).c_str(), &st), 0)
        << GetParam().inside;
  }
}

Entry Whiteout(std::string path) { return File(std::move(path), ""); }

INSTANTIATE_TEST_SUITE_P(
    Attempts, EscapeTest,
    ::testing::Values(
        EscapeCase{"DotDot",
                   {File("../outside/evil", "x")},
                   absl::StatusCode::kInvalidArgument,
                   ""},
        EscapeCase{"DotDotInside",
                   {File("a/../../outside/evil", "x")},
                   absl::StatusCode::kInvalidArgument,
                   ""},
        EscapeCase{"AbsolutePathIsRelativeToTheLayer",
                   {File("/outside/evil", "x")},
                   absl::StatusCode::kOk,
                   "outside/evil"},
        EscapeCase{"WriteThroughSymlinkToRoot",
                   {Symlink("link", "/"), File("link/evil", "x")},
                   absl::StatusCode::kOk,
                   "evil"},
        EscapeCase{"WriteThroughRelativeSymlinkUp",
                   {Symlink("link", "../../.."), Dir("link/outside"),
                    File("link/outside/evil", "x")},
                   absl::StatusCode::kOk,
                   "outside/evil"},
        EscapeCase{"WriteThroughDanglingSymlinkOut",
                   {Symlink("link", "../outside"), File("link/evil", "x")},
                   absl::StatusCode::kInvalidArgument,
                   "link"},
        EscapeCase{"FileReplacesSymlinkOut",
                   {Symlink("secret", "../outside/secret"),
                    File("secret", "overwritten?")},
                   absl::StatusCode::kOk,
                   "secret"},
        EscapeCase{"HardlinkDotDot",
                   {Hardlink("h", "../outside/secret")},
                   absl::StatusCode::kInvalidArgument,
                   ""},
        EscapeCase{"HardlinkAbsoluteOutside",
                   {Hardlink("h", "/outside/secret")},
                   absl::StatusCode::kInvalidArgument,
                   ""},
        EscapeCase{"HardlinkThroughSymlink",
                   {Symlink("up", "../outside"), Hardlink("h", "up/secret")},
                   absl::StatusCode::kInvalidArgument,
                   ""},
        EscapeCase{"WhiteoutDotDot",
                   {Whiteout(".wh..."), Whiteout("a/.wh..")},
                   absl::StatusCode::kInvalidArgument,
                   ""}),
    [](const auto& info) { return info.param.name; });

// A layer whose entry sits under a name that does not resolve to a
// directory inside it is a bad layer: InvalidArgument naming the entry and
// the component, never NotFound (which would read as a missing object).
struct BadParentCase {
  std::string name;
  std::vector<Entry> entries;
  std::string entry;      // named in the error
  std::string component;  // named in the error
};

class BadParentTest : public UnpackTest,
                      public ::testing::WithParamInterface<BadParentCase> {};

TEST_P(BadParentTest, IsInvalidArgumentNamingTheEntry) {
  EXPECT_THAT(
      Unpack(MakeTar(GetParam().entries)),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          ::testing::AllOf(
              HasSubstr(absl::StrCat("layer entry \"", GetParam().entry, "\"")),
              HasSubstr(absl::StrCat("\"", GetParam().component,
                                     "\" does not resolve")))));
}

INSTANTIATE_TEST_SUITE_P(
    Layers, BadParentTest,
    ::testing::Values(
        BadParentCase{"UnderSymlinkToMissingTarget",
                      {Symlink("etc", "missing"), File("etc/passwd", "x")},
                      "etc/passwd",
                      "etc"},
        BadParentCase{"DeepUnderSymlinkToMissingTarget",
                      {Dir("usr"), Symlink("usr/lib", "/nowhere/lib"),
                       File("usr/lib/a/b", "x")},
                      "usr/lib/a/b",
                      "usr/lib"},
        BadParentCase{"UnderARegularFile",
                      {File("f", "x"), File("f/g", "y")},
                      "f/g",
                      "f"},
        BadParentCase{"UnderASymlinkLoop",
                      {Symlink("a", "b"), Symlink("b", "a"), File("a/x", "y")},
                      "a/x",
                      "a"},
        BadParentCase{"HardlinkToAMissingTarget",
                      {Hardlink("h", "missing")},
                      "h",
                      "missing"}),
    [](const auto& info) { return info.param.name; });

TEST_F(UnpackTest, DecompressionBombIsRefused) {
  std::string tar = MakeTar({File("zeros", std::string(32 << 20, '\0'))});
  std::string gz = Compress(tar, Compression::kGzip);
  ASSERT_LT(gz.size(), size_t{1} << 20);
  UnpackOptions options;
  options.max_bytes = 1 << 20;
  EXPECT_THAT(Unpack(gz, options),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("uncompressed size")));
}

// As the puller uses it: unpacked into the store's temp dir, a bomb leaves
// no layer and no temp behind.
TEST_F(UnpackTest, DecompressionBombInTheStoreLeavesNothing) {
  std::string gz =
      Compress(MakeTar({File("zeros", std::string(32 << 20, '\0'))}),
               Compression::kGzip);
  Store store(real_, tmp_.Sub("layer/images"));
  ASSERT_THAT(store.Init(), IsOk());
  UnpackOptions options;
  options.max_bytes = 1 << 20;
  Digest chain_id = Sha256Of("bomb");
  EXPECT_THAT(store.CommitLayer(chain_id,
                                [&](int dir_fd) {
                                  return UnpackLayer(real_, dir_fd,
                                                     StringSource(gz), options)
                                      .status();
                                }),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_FALSE(store.HasLayer(chain_id));
  EXPECT_TRUE(DirNames(tmp_.Sub("layer/images/layers")).empty());
  EXPECT_TRUE(DirNames(tmp_.Sub("layer/images/tmp")).empty());
}

TEST_F(UnpackTest, TooManyEntriesAreRefused) {
  UnpackOptions options;
  options.max_entries = 2;
  EXPECT_THAT(
      Unpack(MakeTar({File("a", ""), File("b", ""), File("c", "")}), options),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("entries")));
}

TEST_F(UnpackTest, CorruptOrTruncatedStreamIsDataLoss) {
  std::string gz = Compress(MakeTar({File("f", std::string(100000, 'q'))}),
                            Compression::kGzip);
  EXPECT_THAT(Unpack(gz.substr(0, gz.size() / 2)),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(Unpack(std::string(1000, 'x')),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(UnpackTest, SourceErrorIsReturnedAsIs) {
  sys::UniqueFd fd(::open(layer_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ByteSource failing = [](char*, size_t) -> absl::StatusOr<size_t> {
    return absl::DataLossError("blob digest mismatch");
  };
  EXPECT_THAT(UnpackLayer(real_, fd.get(), failing),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("mismatch")));
}

TEST_F(UnpackTest, ReadsAPipeThroughFdByteSource) {
  std::string tar = MakeTar({File("f", "via pipe")});
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  sys::UniqueFd r(p[0]), w(p[1]);
  // The tar fits in the pipe buffer: write it all, then close for EOF.
  ASSERT_LT(tar.size(), size_t{65536});
  ASSERT_THAT(sys::WriteAll(real_, w.get(), tar), IsOk());
  w.reset();
  sys::UniqueFd fd(::open(layer_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  absl::StatusOr<UnpackResult> result =
      UnpackLayer(real_, fd.get(), FdByteSource(real_, r.get()));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->diff_id, Sha256Of(tar));
  EXPECT_THAT(sys::ReadFile(At("f")), IsOkAndHolds("via pipe"));
}

// Every syscall of the unpack, failed in turn: the error comes back, and
// the fault is proven to have fired.
TEST_F(UnpackTest, EveryFailedSyscallIsReturned) {
  Entry dev;
  dev.path = "dev/null";
  dev.type = AE_IFCHR;
  dev.rdev_major = 1;
  dev.rdev_minor = 3;
  Entry file = File("d/f", "data");
  file.xattrs = {{"user.x", "1"}};
  std::string tar =
      MakeTar({Dir("d"), file, Hardlink("d/h", "d/f"), Symlink("d/s", "f"), dev,
               File("d/.wh.gone", ""), File("d/.wh..wh..opq", "")});
  const sys::SysCall calls[] = {
      sys::SysCall::kOpenat2,   sys::SysCall::kOpenat,
      sys::SysCall::kMkdirat,   sys::SysCall::kMknodat,
      sys::SysCall::kFchownat,  sys::SysCall::kFchmodat,
      sys::SysCall::kLinkat,    sys::SysCall::kSymlinkat,
      sys::SysCall::kFsetxattr, sys::SysCall::kUtimensat,
      sys::SysCall::kWrite,     sys::SysCall::kUnlinkat,
  };
  sys::FaultySys probe(real_);
  ASSERT_THAT(Unpack(tar, probe), IsOk());
  for (sys::SysCall call : calls) {
    int count = probe.count(call);
    EXPECT_GT(count, 0) << sys::SysCallName(call) << " never called";
    for (int n = 1; n <= count; ++n) {
      ASSERT_EQ(sys::RemoveTree(real_, layer_), absl::OkStatus());
      ASSERT_EQ(::mkdir(layer_.c_str(), 0700), 0);
      sys::FaultySys faulty(real_);
      faulty.FailNth(call, n, EIO);
      absl::StatusOr<UnpackResult> r = Unpack(tar, faulty);
      EXPECT_FALSE(r.ok()) << sys::SysCallName(call) << " #" << n;
      EXPECT_THAT(r.status().message(), HasSubstr("layer"));
      EXPECT_EQ(faulty.fired(call), 1) << sys::SysCallName(call) << " #" << n;
    }
  }
}

}  // namespace
}  // namespace podsandbox::image
