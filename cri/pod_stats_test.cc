#include "cri/pod_stats.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podsandbox::cri {
namespace {

TEST(ParseNetDevTest, InterfacesButLoopback) {
  constexpr char kText[] =
      "Inter-|   Receive                                                |  "
      "Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes "
      "   packets errs drop fifo colls carrier compressed\n"
      "    lo:     100       1    0    0    0     0          0         0      "
      " 100       1    0    0    0     0       0          0\n"
      "  eth0:    5000      40    2    0    0     0          0         0     "
      "7000      50    3    0    0     0       0          0\n"
      "  bad: 1 2\n";
  std::vector<InterfaceUsage> got = ParseNetDev(kText);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name, "eth0");
  EXPECT_EQ(got[0].rx_bytes, 5000u);
  EXPECT_EQ(got[0].rx_errors, 2u);
  EXPECT_EQ(got[0].tx_bytes, 7000u);
  EXPECT_EQ(got[0].tx_errors, 3u);
}

}  // namespace
}  // namespace podsandbox::cri
