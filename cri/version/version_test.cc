#include "cri/version/version.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podsandbox::cri::version {
namespace {

using ::testing::AnyOf;
using ::testing::MatchesRegex;

TEST(VersionTest, BuildTypeIsABazelCompilationMode) {
  EXPECT_THAT(std::string(BuildType()), AnyOf("opt", "fastbuild", "dbg"));
}

TEST(VersionTest, CommitIsAGitIdOrUnknown) {
  // 40 hex digits from scripts/workspace_status, or "unknown" when the
  // build had no git (a source tarball).
  EXPECT_THAT(std::string(Commit()),
              MatchesRegex("([0-9a-f]{40}(-dirty)?|unknown)"));
}

TEST(VersionTest, TextNamesProgramVersionCommitAndBuild) {
  EXPECT_EQ(VersionText("podsandboxd"),
            absl::StrCat("podsandboxd ", kVersion, "\ncommit: ", Commit(),
                         "\nbuild: ", BuildType(), "\n"));
}

}  // namespace
}  // namespace podsandbox::cri::version
