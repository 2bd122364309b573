#include "harness/checks.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "harness/kernel_view.h"
#include "harness/namespace_checks.h"

namespace podsandbox::harness {
namespace {

std::vector<std::string> Names(const std::vector<Check>& checks) {
  std::vector<std::string> names;
  for (const Check& c : checks) names.push_back(c.name);
  return names;
}

TEST(SelectChecksTest, EmptySelectsAllWithUniqueNames) {
  absl::StatusOr<std::vector<Check>> all = SelectChecks("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), AllChecks().size());
  std::set<std::string> unique;
  for (const Check& c : *all) unique.insert(c.name);
  EXPECT_EQ(unique.size(), all->size());
}

TEST(SelectChecksTest, NamesAndPrefixesInRegistryOrder) {
  absl::StatusOr<std::vector<Check>> some =
      SelectChecks("teardown_leaves_nothing, refuses_*,maps_one_range");
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_EQ(Names(*some),
            (std::vector<std::string>{
                "maps_one_range", "refuses_mode_container",
                "refuses_overlapping_ranges", "refuses_zero_length",
                "refuses_uids_without_gids", "teardown_leaves_nothing"}));
}

TEST(SelectChecksTest, UnknownEntryIsNamed) {
  absl::StatusOr<std::vector<Check>> none = SelectChecks("maps_one_range,nope");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("\"nope\""), std::string::npos);
}

MountEntry Sys(const std::string& device, const std::string& fstype) {
  MountEntry m;
  m.device = device;
  m.mount_point = "/sys";
  m.fstype = fstype;
  m.options = "ro";
  return m;
}

TEST(JudgeSysfsTest, OnlyTheSysfsOfThePausesOwnNetnsPasses) {
  EXPECT_EQ(JudgeSysfs(7, Sys("0:48", "sysfs"), "0:21", "0:48").outcome,
            Outcome::kPass);
  const Verdict host = JudgeSysfs(7, Sys("0:21", "sysfs"), "0:21", "0:48");
  EXPECT_EQ(host.outcome, Outcome::kFail);
  EXPECT_NE(host.detail.find("is the host's sysfs"), std::string::npos);
  // Another netns's sysfs (another pod's, bound in): not the host's, and
  // still wrong.
  const Verdict other = JudgeSysfs(7, Sys("0:50", "sysfs"), "0:21", "0:48");
  EXPECT_EQ(other.outcome, Outcome::kFail);
  EXPECT_NE(other.detail.find("not the sysfs of its own netns (0:48)"),
            std::string::npos);
  const Verdict tmpfs = JudgeSysfs(7, Sys("0:60", "tmpfs"), "0:21", "0:48");
  EXPECT_EQ(tmpfs.outcome, Outcome::kFail);
  EXPECT_NE(tmpfs.detail.find("is tmpfs, not sysfs"), std::string::npos);
}

}  // namespace
}  // namespace podsandbox::harness
