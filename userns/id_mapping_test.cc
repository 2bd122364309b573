#include "userns/id_mapping.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::userns {
namespace {

using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kPrefix[] = "userns_options";
const IdMapping kPod = {0, 100000, 65536};

struct InvalidCase {
  std::string name;
  IdMappings mappings;
  std::string field;   // the field the message must name
  std::string reason;  // and a piece of the reason
};

std::vector<IdMapping> Many(size_t n) {
  std::vector<IdMapping> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(
        {static_cast<uint32_t>(i), static_cast<uint32_t>(100000 + i), 1});
  }
  return out;
}

// `n` one-id ranges whose ids take ten digits: 24 bytes a line after the
// first.
std::vector<IdMapping> LongLines(size_t n) {
  std::vector<IdMapping> out;
  out.push_back({0, 1000000000, 1});
  for (size_t i = 1; i < n; ++i) {
    uint32_t id = static_cast<uint32_t>(1000000000 + i);
    out.push_back({id, id, 1});
  }
  return out;
}

// `n` one-id ranges with the shortest text: "i i+1 1".
std::vector<IdMapping> ShortLines(size_t n) {
  std::vector<IdMapping> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1), 1});
  }
  return out;
}

class InvalidMappingsTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidMappingsTest, NamesFieldAndReason) {
  const InvalidCase& c = GetParam();
  absl::Status s = ValidateMappings(c.mappings, MappingPolicy{}, kPrefix);
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(std::string(kPrefix) + "." + c.field + ": ")));
  EXPECT_THAT(std::string(s.message()), HasSubstr(c.reason));
}

INSTANTIATE_TEST_SUITE_P(
    Rules, InvalidMappingsTest,
    ::testing::Values(
        InvalidCase{"Empty", {}, "uids", "must not be empty"},
        InvalidCase{
            "UidsWithoutGids", {{kPod}, {}}, "gids", "when uids are set"},
        InvalidCase{
            "GidsWithoutUids", {{}, {kPod}}, "uids", "when gids are set"},
        InvalidCase{"ZeroLengthUid",
                    {{{0, 100000, 0}}, {kPod}},
                    "uids[0].length",
                    "greater than 0"},
        InvalidCase{"ZeroLengthGid",
                    {{kPod}, {kPod, {70000, 300000, 0}}},
                    "gids[1].length",
                    "greater than 0"},
        InvalidCase{"ContainerRangeOverflows",
                    {{{4294967000u, 100000, 1000}}, {kPod}},
                    "uids[0]",
                    "container range"},
        InvalidCase{"ContainerRangeReachesMinusOne",
                    {{{4294967295u, 100000, 1}}, {kPod}},
                    "uids[0]",
                    "past 2^32-1"},
        InvalidCase{"HostRangeOverflows",
                    {{kPod}, {{0, 4294967295u - 10, 65536}}},
                    "gids[0]",
                    "host range"},
        InvalidCase{"OverlappingContainerRanges",
                    {{{0, 100000, 1000}, {500, 300000, 10}}, {kPod}},
                    "uids[1]",
                    "container range overlaps that of uids[0]"},
        InvalidCase{
            "OverlappingContainerRangesOutOfOrder",
            {{{5000, 100000, 10}, {6000, 200000, 10}, {0, 300000, 5001}},
             {kPod}},
            "uids[2]",
            "overlaps that of uids[0]"},
        InvalidCase{"OverlappingHostRanges",
                    {{{0, 100000, 1000}, {2000, 100500, 10}}, {kPod}},
                    "uids[1]",
                    "host range overlaps"},
        InvalidCase{"TooManyLines", {Many(341), {kPod}}, "uids", "at most 340"},
        InvalidCase{
            "HostRootUid", {{{0, 0, 65536}}, {kPod}}, "uids[0]", "host id 0"},
        InvalidCase{
            "HostRootGid", {{kPod}, {{0, 0, 1}}}, "gids[0]", "host id 0"},
        // runc refuses a map without the pod's root, after namespaces and
        // CNI ran: refused here first.
        InvalidCase{"UidsMissContainerRoot",
                    {{{1, 100000, 65536}}, {kPod}},
                    "uids",
                    "must map container id 0"},
        InvalidCase{"GidsMissContainerRoot",
                    {{kPod}, {{1000, 100000, 10}}},
                    "gids",
                    "must map container id 0"},
        // 340 lines the kernel would count, but ~11 KB of text where it
        // takes one write of less than a page.
        InvalidCase{"TextPastOneWrite",
                    {LongLines(340), LongLines(340)},
                    "uids",
                    "in one write"},
        InvalidCase{"GidsDifferFromUids",
                    {{kPod}, {{0, 200000, 65536}}},
                    "gids",
                    "must equal uids"}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) {
      return info.param.name;
    });

TEST(ValidateMappingsTest, AcceptsOneRange) {
  EXPECT_THAT(ValidateMappings({{kPod}, {kPod}}, {}, kPrefix), IsOk());
}

TEST(ValidateMappingsTest, AcceptsSeveralRangesAndTheKernelMaximum) {
  std::vector<IdMapping> several = {{0, 100000, 1000}, {1000, 300000, 64536}};
  EXPECT_THAT(ValidateMappings({several, several}, {}, kPrefix), IsOk());
  EXPECT_THAT(ValidateMappings({ShortLines(340), ShortLines(340)}, {}, kPrefix),
              IsOk());
}

TEST(ValidateMappingsTest, TextLimitIsOneWriteOfLessThanAPage) {
  EXPECT_EQ(MaxMapTextBytes(),
            static_cast<size_t>(::sysconf(_SC_PAGESIZE)) - 1);
  // Grow a map one ten-digit line at a time: accepted while its text fits
  // the limit, refused from the first line past it.
  for (size_t n = 1; n <= kMaxMapLines; ++n) {
    std::vector<IdMapping> list = LongLines(n);
    size_t bytes = FormatMapFile(list).size();
    absl::Status s = ValidateMappings({list, list}, {}, kPrefix);
    if (bytes <= MaxMapTextBytes()) {
      ASSERT_THAT(s, IsOk()) << n << " lines, " << bytes << " bytes";
    } else {
      ASSERT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                              HasSubstr("in one write")))
          << n << " lines, " << bytes << " bytes";
      return;
    }
  }
  FAIL() << "340 ten-digit lines fit in one write";
}

TEST(ValidateMappingsTest, DifferentGidsAllowedByPolicy) {
  MappingPolicy policy;
  policy.allow_different_uid_gid_maps = true;
  EXPECT_THAT(ValidateMappings({{kPod}, {{0, 200000, 65536}}}, policy, kPrefix),
              IsOk());
}

TEST(ValidateMappingsTest, AdjacentRangesDoNotOverlap) {
  std::vector<IdMapping> adjacent = {{0, 100000, 10}, {10, 100010, 10}};
  EXPECT_THAT(ValidateMappings({adjacent, adjacent}, {}, kPrefix), IsOk());
}

TEST(ValidateMappingsTest, LargestValidRange) {
  IdMappings largest = {{{0, 1, 4294967294u}}, {{0, 1, 4294967294u}}};
  EXPECT_THAT(ValidateMappings(largest, {}, kPrefix), IsOk());
}

TEST(ValidateMappingsTest, HostRootAllowedByPolicy) {
  MappingPolicy policy;
  policy.allow_host_root = true;
  EXPECT_THAT(
      ValidateMappings({{{0, 0, 65536}}, {{0, 0, 65536}}}, policy, kPrefix),
      IsOk());
}

TEST(MapFileTest, FormatAndParseRoundTrip) {
  std::vector<IdMapping> m = {{0, 100000, 65536}, {65536, 300000, 1}};
  EXPECT_EQ(FormatMapFile(m), "0 100000 65536\n65536 300000 1\n");
  // The kernel pads its columns with spaces.
  EXPECT_THAT(ParseMapFile("         0     100000      65536\n"),
              IsOkAndHolds(ElementsAre(IdMapping{0, 100000, 65536})));
  EXPECT_THAT(ParseMapFile(FormatMapFile(m)), IsOkAndHolds(m));
}

TEST(MapFileTest, ParseRejectsMalformedLines) {
  EXPECT_THAT(
      ParseMapFile("0 100000\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0 100000")));
  EXPECT_THAT(ParseMapFile("0 -1 5\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("three")));
}

TEST(ToHostIdTest, FindsTheRange) {
  std::vector<IdMapping> m = {{0, 100000, 1000}, {1000, 500000, 10}};
  EXPECT_EQ(ToHostId(m, 0), 100000u);
  EXPECT_EQ(ToHostId(m, 999), 100999u);
  EXPECT_EQ(ToHostId(m, 1005), 500005u);
  EXPECT_EQ(ToHostId(m, 1010), std::nullopt);
}

}  // namespace
}  // namespace podsandbox::userns
