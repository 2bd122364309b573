#include <sys/stat.h>
#include <unistd.h>

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
  for (const char* name : {"", "/hostname", "/hosts", "/resolv.conf"}) {
    struct stat st;
    ASSERT_EQ(::stat((pod + name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_uid, 100000u) << name;
    EXPECT_EQ(st.st_gid, 100001u) << name;
  }
  ASSERT_OK(RemovePodFiles(sys_, pod));
  ASSERT_OK(RemovePodFiles(sys_, pod));
  EXPECT_NE(::access(pod.c_str(), F_OK), 0);
}

TEST_F(WritePodFilesTest, EveryFailureLeavesNothing) {
  PodConfig config;
  config.dns.servers = {"10.96.0.10"};
  std::string pod = dir_.Sub("pod");
  for (sys::SysCall call :
       {sys::SysCall::kMkdir, sys::SysCall::kOpen, sys::SysCall::kWrite,
        sys::SysCall::kRename, sys::SysCall::kFchown}) {
    for (int nth = 1; nth <= 4; ++nth) {
      SCOPED_TRACE(absl::StrCat(sys::SysCallName(call), " #", nth));
      sys_.Reset();
      sys_.FailNth(call, nth, EIO);
      absl::Status s = WritePodFiles(sys_, pod, config, "web", {},
                                     PodFileOwner{100000, 100000});
      sys_.Reset();
      if (s.ok()) {
        ASSERT_OK(RemovePodFiles(sys_, pod));
        continue;
      }
      EXPECT_NE(::access(pod.c_str(), F_OK), 0) << s;
    }
  }
}

}  // namespace
}  // namespace podsandbox::sandbox
