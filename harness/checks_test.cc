#include "harness/checks.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace podsandbox::harness
