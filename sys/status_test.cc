#include "sys/status.h"

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::sys {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ErrnoErrorTest, NamesOperationObjectAndCause) {
  EXPECT_THAT(ErrnoError(ENOENT, "open %s", "/x"),
              StatusIs(absl::StatusCode::kNotFound,
                       "open /x: No such file or directory"));
}

TEST(ErrnoErrorTest, KernelEinvalIsOurBugNotTheClients) {
  EXPECT_THAT(ErrnoError(EINVAL, "mount %s", "/x"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("mount /x")));
}

TEST(ErrnoErrorTest, PermissionDenied) {
  EXPECT_THAT(
      ErrnoError(EPERM, "unshare"),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("unshare")));
}

TEST(AnnotateTest, KeepsCodeAndPrefixesContext) {
  EXPECT_THAT(
      Annotate(absl::NotFoundError("gone"), "pin netns for pod 1"),
      StatusIs(absl::StatusCode::kNotFound, "pin netns for pod 1: gone"));
  EXPECT_TRUE(Annotate(absl::OkStatus(), "ctx").ok());
}

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError("odd");
  return n / 2;
}

absl::StatusOr<int> Quarter(int n) {
  ASSIGN_OR_RETURN(int half, Half(n));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int n) {
  RETURN_IF_ERROR(Half(n));
  return absl::OkStatus();
}

TEST(MacrosTest, AssignOrReturnPropagates) {
  EXPECT_THAT(Quarter(8), IsOkAndHolds(2));
  EXPECT_THAT(Quarter(6), StatusIs(absl::StatusCode::kInvalidArgument, "odd"));
}

TEST(MacrosTest, ReturnIfErrorAcceptsStatusOr) {
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_THAT(CheckEven(3),
              StatusIs(absl::StatusCode::kInvalidArgument, "odd"));
}

}  // namespace
}  // namespace podsandbox::sys
