#include "cni/version.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::cni {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

const std::vector<std::string> kDebian111 = {"0.1.0", "0.2.0", "0.3.0",
                                             "0.3.1", "0.4.0", "1.0.0"};

TEST(VersionTest, KnownAndSupported) {
  EXPECT_TRUE(IsKnownVersion("0.1.0"));
  EXPECT_TRUE(IsKnownVersion("1.1.0"));
  EXPECT_FALSE(IsKnownVersion("1.2.0"));
  EXPECT_FALSE(IsKnownVersion("1.0"));
  EXPECT_FALSE(IsSupportedVersion("0.2.0"));
  EXPECT_TRUE(IsSupportedVersion("0.3.0"));
}

TEST(VersionTest, Compare) {
  EXPECT_LT(CompareVersions("0.3.1", "0.4.0"), 0);
  EXPECT_GT(CompareVersions("1.0.0", "0.10.0"), 0);
  EXPECT_EQ(CompareVersions("1.0.0", "1.0.0"), 0);
  EXPECT_LT(CompareVersions("junk", "0.1.0"), 0);
  EXPECT_TRUE(SupportsStatusAndGc("1.1.0"));
  EXPECT_FALSE(SupportsStatusAndGc("1.0.0"));
  EXPECT_TRUE(SupportsCheck("0.4.0"));
  EXPECT_FALSE(SupportsCheck("0.3.1"));
}

TEST(VersionTest, NegotiatesTheHighestCommonVersion) {
  EXPECT_THAT(NegotiateVersion({"1.0.0"}, {kDebian111, kDebian111}),
              IsOkAndHolds("1.0.0"));
  EXPECT_THAT(NegotiateVersion({"1.1.0", "0.4.0", "1.0.0"}, {kDebian111}),
              IsOkAndHolds("1.0.0"));
  EXPECT_THAT(
      NegotiateVersion({"1.1.0", "1.0.0"}, {{"1.0.0", "1.1.0"}, {"1.1.0"}}),
      IsOkAndHolds("1.1.0"));
  EXPECT_THAT(NegotiateVersion({"1.1.0"}, {kDebian111}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("incompatible CNI versions")));
  // 0.2.0 is common but we do not speak it.
  EXPECT_THAT(NegotiateVersion({"0.2.0"}, {kDebian111}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace podsandbox::cni
