// ReadLinkStats against real network namespaces: a fresh one (lo alone)
// opened by path, and the host's; and a fault in each syscall it makes
// fails the read and leaves the caller's thread in its own namespace.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/libnl_netlink.h"
#include "netns/link_stats.h"
#include "sys/real_sys.h"
#include "sys/testing/fault_loop.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::netns {
namespace {

using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::Not;

std::string ThreadNetns() {
  char buf[64] = {};
  ssize_t n = ::readlink("/proc/thread-self/ns/net", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, n) : std::string();
}

// A new, empty network namespace, held by an fd (no pin, nothing to
// clean up but the fd): a short-lived thread unshares it and opens its own
// namespace file.
int NewNetns() {
  int fd = -1;
  std::thread([&fd] {
    if (::unshare(CLONE_NEWNET) == 0) {
      fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    }
  }).join();
  return fd;
}

class LinkStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "privileged test: run as root";
    fd_ = NewNetns();
    ASSERT_GE(fd_, 0);
    path_ = absl::StrCat("/proc/self/fd/", fd_);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
  }

  sys::RealSys real_;
  LibnlNetlink netlink_;
  int fd_ = -1;
  std::string path_;
};

TEST_F(LinkStatsTest, ReadsTheNamedNamespaceNotTheCallers) {
  const std::string mine = ThreadNetns();
  ASSERT_OK_AND_ASSIGN(std::vector<LinkStats> links,
                       ReadLinkStats(real_, netlink_, path_));
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].name, "lo");
  EXPECT_TRUE(links[0].loopback);
  EXPECT_GT(links[0].index, 0);
  EXPECT_EQ(links[0].rx_bytes, 0u);  // down, never used
  EXPECT_EQ(ThreadNetns(), mine);

  // The host's has more than lo (this test's host has at least eth0).
  ASSERT_OK_AND_ASSIGN(std::vector<LinkStats> host,
                       ReadLinkStats(real_, netlink_, "/proc/self/ns/net"));
  EXPECT_GT(host.size(), 1u);
}

TEST_F(LinkStatsTest, MissingPathIsNotFound) {
  EXPECT_THAT(ReadLinkStats(real_, netlink_, "/nonexistent/netns"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(LinkStatsTest, EachSyscallFailingFailsTheRead) {
  sys::FaultySys faulty(real_);
  const std::string mine = ThreadNetns();
  absl::StatusOr<std::vector<LinkStats>> got;
  sys::CallCounts counts = sys::CountCalls(
      faulty, [&] { got = ReadLinkStats(faulty, netlink_, path_); });
  ASSERT_THAT(got.status(), IsOk());
  ASSERT_GT(counts[static_cast<int>(sys::SysCall::kSetns)], 0);
  sys::ForEachFault(
      faulty, counts, EPERM,
      [&](const sys::Fault&) { got = ReadLinkStats(faulty, netlink_, path_); },
      [&](const sys::Fault&) {
        EXPECT_THAT(got.status(), Not(IsOk()));
        EXPECT_EQ(ThreadNetns(), mine);
      });
}

}  // namespace
}  // namespace podsandbox::netns
