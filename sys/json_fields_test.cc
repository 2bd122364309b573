#include "sys/json_fields.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sys/testing/status_matchers.h"

namespace podsandbox::sys {
namespace {

using json = nlohmann::json;
using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

enum class Color { kRed, kGreen, kBlue };

constexpr EnumNames<Color> kColorNames[] = {
    {Color::kRed, "red"},
    {Color::kGreen, "green"},
};

TEST(EnumNameTest, NamesListedValuesAndMarksOthers) {
  EXPECT_EQ(EnumName(kColorNames, Color::kGreen), "green");
  EXPECT_EQ(EnumName(kColorNames, Color::kBlue), "?");
}

TEST(EnumFromNameTest, ReadsKnownNamesAndRejectsOthersNamingTheField) {
  Color color = Color::kBlue;
  EXPECT_THAT(EnumFromName(kColorNames, "red", "record.color", &color), IsOk());
  EXPECT_EQ(color, Color::kRed);

  EXPECT_THAT(EnumFromName(kColorNames, "mauve", "record.color", &color),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("record.color: unknown value \"mauve\"")));
  EXPECT_EQ(color, Color::kRed);
}

TEST(OptionalInt64Test, ReadsWideIntegersLeavesMissingAndRejectsOthers) {
  json obj = {{"big", int64_t{1} << 40}, {"text", "7"}, {"real", 1.5}};
  int64_t out = -1;
  EXPECT_THAT(OptionalInt64(obj, "missing", "record", &out), IsOk());
  EXPECT_EQ(out, -1);
  EXPECT_THAT(OptionalInt64(obj, "big", "record", &out), IsOk());
  EXPECT_EQ(out, int64_t{1} << 40);
  EXPECT_THAT(OptionalInt64(obj, "text", "record", &out),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("record.text: must be an integer")));
  EXPECT_THAT(
      OptionalInt64(obj, "real", "record", &out),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record.real")));
}

TEST(OptionalInt64Test, AnUnsignedAboveInt64MaxKeepsItsBitsThroughACast) {
  // Records write uint64_t fields (a pid's start time) and read them back as
  // int64_t then cast.
  json obj = {{"start", UINT64_MAX}};
  int64_t out = 0;
  ASSERT_THAT(OptionalInt64(obj, "start", "record", &out), IsOk());
  EXPECT_EQ(static_cast<uint64_t>(out), UINT64_MAX);
}

TEST(OptionalStringMapTest, ReadsStringValuesAndNamesTheBadEntry) {
  std::map<std::string, std::string> out;
  EXPECT_THAT(OptionalStringMap(json::object(), "labels", "config", &out),
              IsOk());
  EXPECT_TRUE(out.empty());
  EXPECT_THAT(OptionalStringMap({{"labels", {{"a", "1"}, {"b", "2"}}}},
                                "labels", "config", &out),
              IsOk());
  EXPECT_THAT(out, ElementsAre(Pair("a", "1"), Pair("b", "2")));

  EXPECT_THAT(OptionalStringMap({{"labels", {"a"}}}, "labels", "config", &out),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.labels: must be an object")));
  EXPECT_THAT(
      OptionalStringMap({{"labels", {{"a", 1}}}}, "labels", "config", &out),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("config.labels.a: must be a string")));
}

TEST(OptionalFieldsTest, NullIsAbsentForStringsListsAndMaps) {
  json obj = {{"s", nullptr}, {"l", nullptr}, {"m", nullptr}};
  std::string s = "kept";
  std::vector<std::string> l = {"kept"};
  std::map<std::string, std::string> m = {{"k", "kept"}};
  EXPECT_THAT(OptionalString(obj, "s", "config", &s), IsOk());
  EXPECT_THAT(OptionalStrings(obj, "l", "config", &l), IsOk());
  EXPECT_THAT(OptionalStringMap(obj, "m", "config", &m), IsOk());
  EXPECT_EQ(s, "kept");
  EXPECT_THAT(l, ElementsAre("kept"));
  EXPECT_THAT(m, ElementsAre(Pair("k", "kept")));
  int i = 0;
  EXPECT_THAT(OptionalInt({{"i", nullptr}}, "i", "config", &i),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(UnixNanosTest, NeverIsZeroAndOtherTimesRoundTrip) {
  EXPECT_EQ(TimeToUnixNanos(absl::InfinitePast()), 0);
  EXPECT_EQ(TimeFromUnixNanos(0), absl::InfinitePast());
  absl::Time t = absl::FromUnixNanos(1700000000123456789);
  EXPECT_EQ(TimeFromUnixNanos(TimeToUnixNanos(t)), t);
}

}  // namespace
}  // namespace podsandbox::sys
