#include "sandbox/range_registry.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kPrefix[] = "userns_options";

userns::IdMappings Same(uint32_t host, uint32_t length) {
  return {{{0, host, length}}, {{0, host, length}}};
}

TEST(RangeRegistryTest, DisjointRangesAreHeldTogether) {
  RangeRegistry ranges;
  EXPECT_OK(ranges.Reserve("a", "ns/a", Same(100000, 65536), kPrefix));
  // Adjacent is not overlapping.
  EXPECT_OK(ranges.Reserve("b", "ns/b", Same(165536, 65536), kPrefix));
  EXPECT_OK(ranges.Reserve("c", "ns/c", Same(10000, 90000), kPrefix));
}

TEST(RangeRegistryTest, OverlapIsRefusedNamingTheFieldAndTheHolder) {
  RangeRegistry ranges;
  ASSERT_OK(ranges.Reserve("a", "ns/a", Same(100000, 65536), kPrefix));
  userns::IdMappings two = {{{0, 300000, 10}, {10, 165535, 1}},
                            {{0, 300000, 10}, {10, 165535, 1}}};
  EXPECT_THAT(
      ranges.Reserve("b", "ns/b", two, kPrefix),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("userns_options.uids[1]: host range 165535+1 "
                               "overlaps host range 100000+65536"),
                     HasSubstr("of live sandbox a (pod ns/a)"))));
  // Refused means nothing held: a pod on b's first range still fits.
  EXPECT_OK(ranges.Reserve("c", "ns/c", Same(300000, 10), kPrefix));
}

TEST(RangeRegistryTest, GidsAreComparedWithGids) {
  RangeRegistry ranges;
  ASSERT_OK(ranges.Reserve("a", "ns/a", {{{0, 100000, 10}}, {{0, 500000, 10}}},
                           kPrefix));
  // b's uids sit on a's gids: different id spaces, no overlap.
  EXPECT_OK(ranges.Reserve("b", "ns/b", {{{0, 500000, 10}}, {{0, 600000, 10}}},
                           kPrefix));
  EXPECT_THAT(ranges.Reserve("c", "ns/c",
                             {{{0, 700000, 10}}, {{0, 500005, 10}}}, kPrefix),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("userns_options.gids[0]")));
}

TEST(RangeRegistryTest, ReleaseAndRestore) {
  RangeRegistry ranges;
  ASSERT_OK(ranges.Reserve("a", "ns/a", Same(100000, 65536), kPrefix));
  ranges.Release("a");
  ranges.Release("a");  // nothing held: nothing to do
  ASSERT_OK(ranges.Reserve("b", "ns/b", Same(100000, 65536), kPrefix));
  // Restore takes what recovery finds, even an overlap, and then holds it.
  ranges.Restore("c", "ns/c", Same(100000, 1));
  ranges.Release("b");
  EXPECT_THAT(ranges.Reserve("d", "ns/d", Same(100000, 1), kPrefix),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("live sandbox c (pod ns/c)")));
}

// Many threads race for the same range: exactly one wins.
TEST(RangeRegistryTest, ConcurrentReservationsOfOneRangeAdmitOne) {
  RangeRegistry ranges;
  constexpr int kThreads = 16;
  std::vector<absl::Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&ranges, &results, i] {
      results[i] = ranges.Reserve(absl::StrCat("id", i), "ns/p",
                                  Same(100000 + i, 65536), kPrefix);
    });
  }
  for (std::thread& t : threads) t.join();
  int admitted = 0;
  for (const absl::Status& s : results) {
    if (s.ok()) {
      ++admitted;
    } else {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
    }
  }
  EXPECT_EQ(admitted, 1);
}

}  // namespace
}  // namespace podsandbox::sandbox
