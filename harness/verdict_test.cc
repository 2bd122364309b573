#include "harness/verdict.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace podsandbox::harness {
namespace {

TEST(VerdictTest, LineHasOutcomeNameAndDetail) {
  CheckResult r{"maps", Verdict::Fail("uid_map \"0 0 4294967295\""), {}};
  EXPECT_EQ(FormatLine(r, 6), "FAIL  maps    uid_map \"0 0 4294967295\"");
}

TEST(VerdictTest, JsonCountsOutcomes) {
  std::vector<CheckResult> results = {
      {"a", Verdict::Pass("ok"), absl::Milliseconds(12)},
      {"b", Verdict::Skip("no pid"), {}},
      {"c", Verdict::Fail("bad \xff byte"), {}},
  };
  nlohmann::json j = nlohmann::json::parse(FormatJson(results), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["pass"], 1);
  EXPECT_EQ(j["skip"], 1);
  EXPECT_EQ(j["fail"], 1);
  EXPECT_EQ(j["results"][0]["durationMs"], 12);
  EXPECT_EQ(j["results"][2]["outcome"], "FAIL");
  EXPECT_FALSE(NoFailures(results));
  results.pop_back();
  EXPECT_TRUE(NoFailures(results));
}

}  // namespace
}  // namespace podsandbox::harness
