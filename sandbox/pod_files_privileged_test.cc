#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/pod_files.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::testing::HasSubstr;

TEST(PodFilesTest, ResolvConfFromDnsConfig) {
  DnsConfig dns{{"10.96.0.10", "fd00::a"}, {"ns.svc", "svc"}, {"ndots:5"}};
  EXPECT_EQ(ResolvConfText(dns),
            "nameserver 10.96.0.10\nnameserver fd00::a\n"
            "search ns.svc svc\noptions ndots:5\n");
  EXPECT_EQ(ResolvConfText({}), "");
}

TEST(PodFilesTest, HostsNamesEveryPodIp) {
  EXPECT_EQ(HostsText("web", {"10.0.0.2", "fd00::2"}),
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
            "ip6-loopback\n10.0.0.2\tweb\nfd00::2\tweb\n");
}

class WritePodFilesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::geteuid(), 0u) << "needs root (chown)"; }

 protected:
  sys::RealSys real_;
  sys::FaultySys sys_{real_};
  sys::TempDir dir_;
};

TEST_F(WritePodFilesTest, WritesAllThreeOwnedByThePodRoot) {
  PodConfig config;
  std::string pod = dir_.Sub("pod");
  ASSERT_OK(WritePodFiles(sys_, pod, config, "web", {"10.0.0.2"},
                          PodFileOwner{100000, 100001}));
  EXPECT_THAT(sys::ReadFile(pod + "/hostname"), IsOkAndHolds("web\n"));
  EXPECT_THAT(sys::ReadFile(pod + "/hosts"),
              IsOkAndHolds(::testing::HasSubstr("10.0.0.2\tweb\n")));
  // No DNS config: the host's resolv.conf.
  EXPECT_EQ(sys::ReadFile(pod + "/resolv.conf").value_or("?"),
            sys::ReadFile("/etc/resolv.conf").value_or(""));
  for (const char* name : {"/hostname", "/hosts", "/resolv.conf"}) {
    struct stat st;
    ASSERT_EQ(::stat((pod + name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_uid, 100000u) << name;
    EXPECT_EQ(st.st_gid, 100001u) << name;
  }
  // The directory stays root's and only root may change its entries: the
  // pod root's host uid cannot swap a file for a symlink in it.
  struct stat dir_st;
  ASSERT_EQ(::stat(pod.c_str(), &dir_st), 0);
  EXPECT_EQ(dir_st.st_uid, 0u);
  EXPECT_EQ(dir_st.st_gid, 0u);
  EXPECT_EQ(dir_st.st_mode & 07777, 0755u);
  ASSERT_OK(RemovePodFiles(sys_, pod));
  ASSERT_OK(RemovePodFiles(sys_, pod));
  EXPECT_NE(::access(pod.c_str(), F_OK), 0);
}

// Every syscall WritePodFiles makes through Sys (every open among them),
// failed in turn with EIO: the fault fires, the error names it, and the
// directory is gone. The counts come from a probe run, so a change in how
// the files are written changes the loop with it.
TEST_F(WritePodFilesTest, EveryFailureLeavesNothing) {
  PodConfig config;
  config.dns.servers = {"10.96.0.10"};
  std::string pod = dir_.Sub("pod");
  auto write = [&] {
    return WritePodFiles(sys_, pod, config, "web", {},
                         PodFileOwner{100000, 100000});
  };
  sys_.Reset();
  ASSERT_OK(write());
  std::array<int, sys::kSysCallCount> counts;
  int total = 0;
  for (int c = 0; c < sys::kSysCallCount; ++c) {
    counts[c] = sys_.count(static_cast<sys::SysCall>(c));
    total += counts[c];
  }
  ASSERT_OK(RemovePodFiles(sys_, pod));
  ASSERT_GE(counts[static_cast<int>(sys::SysCall::kOpen)] +
                counts[static_cast<int>(sys::SysCall::kOpenat)],
            1);

  const std::string eio = std::strerror(EIO);
  int fired = 0;
  for (int c = 0; c < sys::kSysCallCount; ++c) {
    sys::SysCall call = static_cast<sys::SysCall>(c);
    for (int nth = 1; nth <= counts[c]; ++nth) {
      SCOPED_TRACE(absl::StrCat(sys::SysCallName(call), " #", nth));
      sys_.Reset();
      sys_.FailNth(call, nth, EIO);
      absl::Status s = write();
      int fired_here = sys_.fired(call);
      sys_.Reset();
      EXPECT_EQ(fired_here, 1) << "the fault fired nowhere";
      fired += fired_here;
      EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr(eio));
      if (s.ok()) ASSERT_OK(RemovePodFiles(sys_, pod));
      EXPECT_NE(::access(pod.c_str(), F_OK), 0) << s;
    }
  }
  EXPECT_EQ(fired, total);
}

}  // namespace
}  // namespace podsandbox::sandbox
