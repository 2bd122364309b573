#include "sys/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::sys {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

bool Exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

class FileTest : public ::testing::Test {
 protected:
  RealSys real_;
  FaultySys sys_{real_};
  TempDir dir_;
};

TEST_F(FileTest, ReadMissingFileIsNotFound) {
  EXPECT_THAT(ReadFile(dir_.Sub("missing")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing")));
}

TEST_F(FileTest, ListDirNamesEveryEntryButDotAndDotDot) {
  ASSERT_OK(MakeDirs(real_, dir_.Sub("d/sub"), 0755));
  ASSERT_OK(WriteFileAtomically(real_, dir_.Sub("d/file"), "x", 0600));
  ASSERT_OK(WriteFileAtomically(real_, dir_.Sub("d/.hidden"), "x", 0600));
  absl::StatusOr<std::vector<std::string>> names = ListDir(dir_.Sub("d"));
  ASSERT_OK(names.status());
  EXPECT_THAT(*names,
              ::testing::UnorderedElementsAre("sub", "file", ".hidden"));
  // A missing directory has nothing in it; a file is no directory.
  EXPECT_THAT(ListDir(dir_.Sub("missing")), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(
      ListDir(dir_.Sub("d/file")),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("d/file")));
}

TEST_F(FileTest, AtomicWriteReplacesContent) {
  std::string path = dir_.Sub("record");
  ASSERT_OK(WriteFileAtomically(sys_, path, "one", 0600));
  ASSERT_OK(WriteFileAtomically(sys_, path, "two", 0600));
  EXPECT_THAT(ReadFile(path), IsOkAndHolds("two"));
  EXPECT_FALSE(Exists(path + ".tmp"));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Durable: the file and its directory were both fsynced.
  EXPECT_EQ(sys_.count(SysCall::kFsync), 4);
}

TEST_F(FileTest, NonDurableWriteSkipsFsync) {
  ASSERT_OK(WriteFileAtomically(sys_, dir_.Sub("f"), "x", 0600,
                                /*durable=*/false));
  EXPECT_EQ(sys_.count(SysCall::kFsync), 0);
}

// A crash or failure at any point leaves the old content and no temp file.
TEST_F(FileTest, FailedAtomicWriteKeepsOldContent) {
  std::string path = dir_.Sub("record");
  ASSERT_OK(WriteFileAtomically(sys_, path, "old", 0600));
  for (SysCall call :
       {SysCall::kOpen, SysCall::kWrite, SysCall::kFsync, SysCall::kRename}) {
    SCOPED_TRACE(std::string(SysCallName(call)));
    sys_.Reset();
    sys_.FailNth(call, 1, EIO);
    EXPECT_FALSE(WriteFileAtomically(sys_, path, "new", 0600).ok());
    EXPECT_THAT(ReadFile(path), IsOkAndHolds("old"));
    EXPECT_FALSE(Exists(path + ".tmp"));
  }
}

TEST_F(FileTest, MakeDirsCreatesParentsAndIsIdempotent) {
  std::string path = dir_.Sub("a/b/c");
  ASSERT_OK(MakeDirs(sys_, path, 0700));
  ASSERT_OK(MakeDirs(sys_, path, 0700));
  EXPECT_TRUE(Exists(path));
}

TEST_F(FileTest, MakeDirsReportsAFileInTheWay) {
  ASSERT_OK(WriteFileAtomically(sys_, dir_.Sub("file"), "x", 0600));
  EXPECT_THAT(MakeDirs(sys_, dir_.Sub("file"), 0700),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not a directory")));
}

TEST_F(FileTest, RemoveTreeRemovesEverythingAndToleratesMissing) {
  ASSERT_OK(MakeDirs(sys_, dir_.Sub("t/x/y"), 0700));
  ASSERT_OK(WriteFileAtomically(sys_, dir_.Sub("t/x/y/f"), "x", 0600));
  ASSERT_OK(WriteFileAtomically(sys_, dir_.Sub("t/g"), "x", 0600));
  ASSERT_OK(RemoveTree(sys_, dir_.Sub("t")));
  EXPECT_FALSE(Exists(dir_.Sub("t")));
  ASSERT_OK(RemoveTree(sys_, dir_.Sub("t")));
}

TEST_F(FileTest, RemoveFileIfExistsReportsOtherErrors) {
  ASSERT_OK(RemoveFileIfExists(sys_, dir_.Sub("none")));
  ASSERT_OK(MakeDirs(sys_, dir_.Sub("d"), 0700));
  EXPECT_FALSE(RemoveFileIfExists(sys_, dir_.Sub("d")).ok());  // EISDIR
}

TEST_F(FileTest, AtomicWriteReplacesAStaleTempFile) {
  std::string path = dir_.Sub("record");
  UniqueFd stale(::open((path + ".tmp").c_str(), O_WRONLY | O_CREAT, 0600));
  ASSERT_TRUE(stale.valid());
  ASSERT_EQ(::write(stale.get(), "half", 4), 4);
  ASSERT_OK(WriteFileAtomically(sys_, path, "new", 0600));
  EXPECT_THAT(ReadFile(path), IsOkAndHolds("new"));
  EXPECT_FALSE(Exists(path + ".tmp"));
  // The leftover was removed once and the create retried.
  EXPECT_EQ(sys_.count(SysCall::kUnlinkat), 1);
}

// A symlink planted at the temp name is removed, never written through.
TEST_F(FileTest, AtomicWriteNeverWritesThroughASymlinkAtTheTempName) {
  std::string victim = dir_.Sub("victim");
  ASSERT_OK(WriteFileAtomically(sys_, victim, "precious", 0600));
  std::string path = dir_.Sub("record");
  ASSERT_EQ(::symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
  ASSERT_OK(WriteFileAtomically(sys_, path, "new", 0600));
  EXPECT_THAT(ReadFile(path), IsOkAndHolds("new"));
  EXPECT_THAT(ReadFile(victim), IsOkAndHolds("precious"));
  struct stat st;
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(FileTest, AtomicWriteReportsAStaleTempItCannotRemove) {
  std::string path = dir_.Sub("record");
  ASSERT_OK(MakeDirs(sys_, path + ".tmp", 0700));  // unlink: EISDIR
  EXPECT_THAT(WriteFileAtomically(sys_, path, "new", 0600),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("remove stale " + path + ".tmp")));
  EXPECT_FALSE(Exists(path));
}

// A process killed between write and rename leaves its temp file; the
// owner's start collects it and nothing else.
TEST_F(FileTest, RemoveTempFilesCollectsWhatAKilledWriteLeft) {
  std::string path = dir_.Sub("a.json");
  ASSERT_OK(WriteFileAtomically(sys_, path, "old", 0600));
  // The kill: the rename never happens, nor the cleanup after it.
  sys_.FailNth(SysCall::kRename, 1, EIO);
  sys_.FailNth(SysCall::kUnlink, 1, EIO);
  EXPECT_FALSE(WriteFileAtomically(sys_, path, "new", 0600).ok());
  ASSERT_TRUE(Exists(path + ".tmp"));
  sys_.Reset();
  ASSERT_OK(MakeDirs(sys_, dir_.Sub("kept.tmp"), 0700));  // not a file
  EXPECT_THAT(RemoveTempFiles(sys_, dir_.path()),
              IsOkAndHolds(ElementsAre(path + ".tmp")));
  EXPECT_FALSE(Exists(path + ".tmp"));
  EXPECT_THAT(ReadFile(path), IsOkAndHolds("old"));
  EXPECT_TRUE(Exists(dir_.Sub("kept.tmp")));
  EXPECT_THAT(RemoveTempFiles(sys_, dir_.Sub("missing")),
              IsOkAndHolds(IsEmpty()));
}

TEST_F(FileTest, CheckTrustedDirRefusesOtherOwnersAndWritableModes) {
  std::string d = dir_.Sub("state");
  ASSERT_OK(MakeDirs(sys_, d, 0755));
  ASSERT_EQ(::chmod(d.c_str(), 0755), 0);
  EXPECT_OK(CheckTrustedDir(d, ::geteuid()));
  EXPECT_THAT(CheckTrustedDir(d, ::geteuid() + 1),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(d), HasSubstr("owned by uid"))));
  for (mode_t mode : {0775, 0757, 0777}) {
    ASSERT_EQ(::chmod(d.c_str(), mode), 0);
    EXPECT_THAT(CheckTrustedDir(d, ::geteuid()),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         AllOf(HasSubstr(d), HasSubstr("write"))))
        << std::oct << mode;
  }
  ASSERT_OK(WriteFileAtomically(sys_, dir_.Sub("file"), "x", 0600));
  EXPECT_THAT(CheckTrustedDir(dir_.Sub("file"), ::geteuid()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not a directory")));
  EXPECT_THAT(CheckTrustedDir(dir_.Sub("missing"), ::geteuid()),
              StatusIs(absl::StatusCode::kNotFound));
}

// A tree whose subdirectory "sub" holds a file "f", and, outside the tree,
// a directory holding files of the same names that must survive.
class RemoveTreeSwapTest : public FileTest {
 protected:
  void SetUp() override {
    ASSERT_OK(MakeDirs(sys_, tree_ + "/sub", 0700));
    ASSERT_OK(WriteFileAtomically(sys_, tree_ + "/sub/f", "mine", 0600));
    ASSERT_OK(MakeDirs(sys_, outside_ + "/sub", 0700));
    ASSERT_OK(WriteFileAtomically(sys_, outside_ + "/f", "theirs", 0600));
    ASSERT_OK(WriteFileAtomically(sys_, outside_ + "/sub/f", "theirs", 0600));
  }

  // What an attacker who can write the tree does: move "sub" away and put
  // a symlink to the outside directory in its place.
  void SwapSubForSymlink() {
    ASSERT_EQ(::rename((tree_ + "/sub").c_str(), moved_.c_str()), 0);
    ASSERT_EQ(::symlink(outside_.c_str(), (tree_ + "/sub").c_str()), 0);
  }

  void ExpectOutsideUntouched() {
    EXPECT_THAT(ReadFile(outside_ + "/f"), IsOkAndHolds("theirs"));
    EXPECT_THAT(ReadFile(outside_ + "/sub/f"), IsOkAndHolds("theirs"));
  }

  const std::string tree_ = dir_.Sub("tree");
  const std::string outside_ = dir_.Sub("outside");
  const std::string moved_ = dir_.Sub("moved");
};

TEST_F(RemoveTreeSwapTest, ASymlinkInTheTreeIsUnlinkedNotFollowed) {
  SwapSubForSymlink();
  ASSERT_OK(RemoveTree(sys_, tree_));
  EXPECT_FALSE(Exists(tree_));
  ExpectOutsideUntouched();
}

// The swap lands between the fstatat that saw a directory and the open of
// it: the time-of-check race that lstat-then-opendir lost.
class SwapOnCall : public FaultySys {
 public:
  SwapOnCall(Sys& real, std::string name, std::function<void()> swap)
      : FaultySys(real), name_(std::move(name)), swap_(std::move(swap)) {}

  SysResult Openat(int dirfd, const char* path, int flags,
                   mode_t mode) override {
    MaybeSwap(path, "openat");
    return FaultySys::Openat(dirfd, path, flags, mode);
  }
  SysResult Unlinkat(int dirfd, const char* path, int flags) override {
    MaybeSwap(path, "unlinkat");
    return FaultySys::Unlinkat(dirfd, path, flags);
  }

  void SwapBefore(std::string call) { call_ = std::move(call); }
  bool swapped() const { return swapped_; }

 private:
  void MaybeSwap(const char* path, absl::string_view call) {
    if (swapped_ || call != call_ || name_ != path) return;
    swapped_ = true;
    swap_();
  }

  const std::string name_;
  const std::function<void()> swap_;
  std::string call_;
  bool swapped_ = false;
};

TEST_F(RemoveTreeSwapTest, SwapBeforeOpeningASubdirectoryIsNotFollowed) {
  SwapOnCall swapping(real_, "sub", [this] { SwapSubForSymlink(); });
  swapping.SwapBefore("openat");
  ASSERT_OK(RemoveTree(swapping, tree_));
  ASSERT_TRUE(swapping.swapped()) << "the swap never happened";
  EXPECT_FALSE(Exists(tree_));
  ExpectOutsideUntouched();
  // What was moved away is the attacker's to keep.
  EXPECT_THAT(ReadFile(moved_ + "/f"), IsOkAndHolds("mine"));
}

// The swap lands while the subdirectory is being emptied: the walk keeps
// to the directory it opened (now moved away), and the final rmdir of the
// name finds a symlink and says so.
TEST_F(RemoveTreeSwapTest, SwapWhileEmptyingASubdirectoryIsNotFollowed) {
  SwapOnCall swapping(real_, "f", [this] { SwapSubForSymlink(); });
  swapping.SwapBefore("unlinkat");
  EXPECT_THAT(RemoveTree(swapping, tree_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("rmdir " + tree_ + "/sub")));
  ASSERT_TRUE(swapping.swapped()) << "the swap never happened";
  ExpectOutsideUntouched();
  EXPECT_FALSE(Exists(moved_ + "/f"));  // removed through the fd
}

TEST_F(FileTest, RemoveTreeRefusesPathsThatNameNoEntry) {
  for (const char* bad : {"/", ".", "..", "a/.."}) {
    EXPECT_THAT(RemoveTree(sys_, bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad)));
  }
}

TEST_F(FileTest, RemoveTreeUnlinksASymlinkPathItself) {
  ASSERT_OK(MakeDirs(sys_, dir_.Sub("target"), 0700));
  ASSERT_OK(WriteFileAtomically(sys_, dir_.Sub("target/f"), "x", 0600));
  ASSERT_EQ(::symlink(dir_.Sub("target").c_str(), dir_.Sub("link").c_str()), 0);
  ASSERT_OK(RemoveTree(sys_, dir_.Sub("link")));
  EXPECT_FALSE(Exists(dir_.Sub("link")));
  EXPECT_THAT(ReadFile(dir_.Sub("target/f")), IsOkAndHolds("x"));
}

}  // namespace
}  // namespace podsandbox::sys
