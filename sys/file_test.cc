#include "sys/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

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
using ::testing::HasSubstr;

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

}  // namespace
}  // namespace podsandbox::sys
