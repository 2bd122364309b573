#include "container/image_user.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "sys/unique_fd.h"

namespace podsandbox::container {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1::/:/bin/false\n"
    "# a comment\n"
    "garbage line\n"
    "web:x:1000:1001::/home/web:/bin/sh\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "wheel:x:10:root,web\n"
    "webgrp:x:1001:\n"
    "audio:x:29:web\n";

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path) << data;
}

class ImageUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(root_.Sub("etc").c_str(), 0755), 0);
    WriteFile(root_.Sub("etc/passwd"), kPasswd);
    WriteFile(root_.Sub("etc/group"), kGroup);
    OpenRoot();
  }
  void OpenRoot() {
    fd_ = sys::UniqueFd(open(root_.path().c_str(), O_PATH | O_DIRECTORY));
    ASSERT_GE(fd_.get(), 0);
  }
  absl::StatusOr<ProcessUser> Resolve(const SecurityContext& sc,
                                      absl::string_view image_user) {
    return ResolveProcessUser(sys_, fd_.get(), sc, image_user);
  }

  sys::RealSys sys_;
  sys::TempDir root_;
  // A host file a hostile image would like the daemon to read.
  sys::TempDir host_;
  sys::UniqueFd fd_;
};

TEST(ParseTest, SkipsMalformedLinesAndParsesMembers) {
  std::vector<PasswdEntry> p = ParsePasswd(kPasswd);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[2].name, "web");
  EXPECT_EQ(p[2].uid, 1000u);
  EXPECT_EQ(p[2].gid, 1001u);
  EXPECT_TRUE(ParsePasswd("x:x:-1:0\ny:x:4294967295:0\nz:x: 5:0\n").empty());
  std::vector<GroupEntry> g = ParseGroup(kGroup);
  ASSERT_EQ(g.size(), 4u);
  EXPECT_THAT(g[1].members, ElementsAre("root", "web"));
}

TEST_F(ImageUserTest, NoUserAnywhereIsRootWithRootsGroups) {
  ASSERT_OK_AND_ASSIGN(ProcessUser u, Resolve({}, ""));
  EXPECT_EQ(u.uid, 0u);
  EXPECT_EQ(u.gid, 0u);
  EXPECT_THAT(u.additional_gids, ElementsAre(0u, 10u));
}

TEST_F(ImageUserTest, ImageUserByNameTakesPasswdGidAndMemberships) {
  ASSERT_OK_AND_ASSIGN(ProcessUser u, Resolve({}, "web"));
  EXPECT_EQ(u.uid, 1000u);
  EXPECT_EQ(u.gid, 1001u);
  EXPECT_THAT(u.additional_gids, ElementsAre(1001u, 10u, 29u));
}

TEST_F(ImageUserTest, ImageUserForms) {
  ASSERT_OK_AND_ASSIGN(ProcessUser a, Resolve({}, "1000"));
  EXPECT_EQ(a.gid, 1001u);  // from the passwd entry of uid 1000
  ASSERT_OK_AND_ASSIGN(ProcessUser b, Resolve({}, "4242"));
  EXPECT_EQ(b.uid, 4242u);  // not in passwd: gid 0
  EXPECT_EQ(b.gid, 0u);
  EXPECT_THAT(b.additional_gids, ElementsAre(0u));
  ASSERT_OK_AND_ASSIGN(ProcessUser c, Resolve({}, "4242:77"));
  EXPECT_EQ(c.gid, 77u);
  ASSERT_OK_AND_ASSIGN(ProcessUser d, Resolve({}, "web:audio"));
  EXPECT_EQ(d.uid, 1000u);
  EXPECT_EQ(d.gid, 29u);
  EXPECT_THAT(d.additional_gids, ElementsAre(29u, 10u));
  ASSERT_OK_AND_ASSIGN(ProcessUser e, Resolve({}, "1000:wheel"));
  EXPECT_EQ(e.gid, 10u);
}

TEST_F(ImageUserTest, UnknownNamesAreInvalidArgumentNamingTheField) {
  EXPECT_THAT(Resolve({}, "nobody"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("image config User: user \"nobody\"")));
  EXPECT_THAT(Resolve({}, "web:nogroup"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("group \"nogroup\"")));
  EXPECT_THAT(Resolve({}, ":10"), StatusIs(absl::StatusCode::kInvalidArgument));
  SecurityContext sc;
  sc.run_as_username = "ghost";
  EXPECT_THAT(Resolve(sc, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.linux.security_context.run_as_"
                                 "username: user \"ghost\"")));
}

TEST_F(ImageUserTest, SecurityContextOverridesTheImage) {
  SecurityContext sc;
  sc.run_as_user = 1000;
  ASSERT_OK_AND_ASSIGN(ProcessUser a, Resolve(sc, "daemon"));
  EXPECT_EQ(a.uid, 1000u);
  EXPECT_EQ(a.gid, 1001u);
  sc.run_as_group = 3000;
  sc.supplemental_groups = {4000, 10, 3000};
  ASSERT_OK_AND_ASSIGN(ProcessUser b, Resolve(sc, "daemon"));
  EXPECT_EQ(b.gid, 3000u);
  // Primary first, /etc/group memberships, then the config's; no repeats.
  EXPECT_THAT(b.additional_gids, ElementsAre(3000u, 10u, 29u, 4000u));

  SecurityContext by_name;
  by_name.run_as_username = "web";
  ASSERT_OK_AND_ASSIGN(ProcessUser c, Resolve(by_name, "root"));
  EXPECT_EQ(c.uid, 1000u);

  SecurityContext bad;
  bad.run_as_user = -1;
  EXPECT_THAT(Resolve(bad, ""), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("run_as_user: -1")));
  bad.run_as_user = 4294967295;
  EXPECT_THAT(Resolve(bad, ""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ImageUserTest, NumericUsersNeedNoPasswd) {
  ASSERT_EQ(unlink(root_.Sub("etc/passwd").c_str()), 0);
  ASSERT_EQ(unlink(root_.Sub("etc/group").c_str()), 0);
  ASSERT_OK_AND_ASSIGN(ProcessUser u, Resolve({}, "123:456"));
  EXPECT_EQ(u.uid, 123u);
  EXPECT_EQ(u.gid, 456u);
  EXPECT_THAT(Resolve({}, "web"), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("(the image has none)")));
}

// The hostile image: /etc/passwd is an absolute symlink to a host file.
// RESOLVE_IN_ROOT resolves it inside the rootfs, where it does not exist.
TEST_F(ImageUserTest, AbsoluteSymlinkOutOfTheRootStaysInside) {
  WriteFile(host_.Sub("passwd"), "evil:x:0:0::/:/bin/sh\n");
  ASSERT_EQ(unlink(root_.Sub("etc/passwd").c_str()), 0);
  ASSERT_EQ(
      symlink(host_.Sub("passwd").c_str(), root_.Sub("etc/passwd").c_str()), 0);
  EXPECT_THAT(Resolve({}, "evil"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("(the image has none)")));
}

TEST_F(ImageUserTest, DotDotSymlinkStopsAtTheRoot) {
  WriteFile(host_.Sub("passwd"), "evil:x:0:0::/:/bin/sh\n");
  ASSERT_EQ(unlink(root_.Sub("etc/passwd").c_str()), 0);
  // Enough ".." to leave any temp dir, then down into the host dir.
  std::string target =
      "../../../../../../../../../../.." + host_.path() + "/passwd";
  ASSERT_EQ(symlink(target.c_str(), root_.Sub("etc/passwd").c_str()), 0);
  EXPECT_THAT(Resolve({}, "evil"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A symlink that stays inside is followed: images use them.
  WriteFile(root_.Sub("etc/passwd.real"), "web:x:1000:1001::/:/bin/sh\n");
  ASSERT_EQ(unlink(root_.Sub("etc/passwd").c_str()), 0);
  ASSERT_EQ(symlink("/etc/passwd.real", root_.Sub("etc/passwd").c_str()), 0);
  ASSERT_OK_AND_ASSIGN(ProcessUser u, Resolve({}, "web"));
  EXPECT_EQ(u.uid, 1000u);
}

TEST_F(ImageUserTest, EtcAsSymlinkToHostRootStaysInside) {
  ASSERT_EQ(unlink(root_.Sub("etc/passwd").c_str()), 0);
  ASSERT_EQ(unlink(root_.Sub("etc/group").c_str()), 0);
  ASSERT_EQ(rmdir(root_.Sub("etc").c_str()), 0);
  ASSERT_EQ(symlink("/", root_.Sub("etc").c_str()), 0);
  // "/etc" -> "/" inside the root: etc/passwd is <root>/passwd, absent;
  // the host's /etc/passwd (which has root) is never read.
  EXPECT_THAT(Resolve({}, "root"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("(the image has none)")));
}

TEST_F(ImageUserTest, ProcSelfSymlinkResolvesInsideTheRoot) {
  ASSERT_EQ(unlink(root_.Sub("etc/passwd").c_str()), 0);
  ASSERT_EQ(
      symlink("/proc/self/root/etc/passwd", root_.Sub("etc/passwd").c_str()),
      0);
  // In the root, /proc/self/... does not exist: nothing is read.
  EXPECT_THAT(Resolve({}, "root"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("(the image has none)")));
}

TEST_F(ImageUserTest, FifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(unlink(root_.Sub("etc/passwd").c_str()), 0);
  ASSERT_EQ(mkfifo(root_.Sub("etc/passwd").c_str(), 0644), 0);
  EXPECT_THAT(Resolve({}, "web"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("image /etc/passwd: not a regular file")));
}

TEST_F(ImageUserTest, OversizedFileIsRefused) {
  WriteFile(root_.Sub("etc/group"), std::string(kMaxIdFileBytes + 1, '#'));
  EXPECT_THAT(Resolve({}, "web"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("image /etc/group: 1048577 bytes")));
}

TEST_F(ImageUserTest, SymlinkLoopIsRefused) {
  ASSERT_EQ(unlink(root_.Sub("etc/passwd").c_str()), 0);
  ASSERT_EQ(symlink("/etc/passwd", root_.Sub("etc/passwd").c_str()), 0);
  EXPECT_THAT(Resolve({}, "web"), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("too many symlinks")));
}

TEST_F(ImageUserTest, ReadErrorIsReportedAndFired) {
  sys::FaultySys faulty(sys_);
  faulty.FailNth(sys::SysCall::kRead, 1, EACCES);
  EXPECT_THAT(ResolveProcessUser(faulty, fd_.get(), {}, "web"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("read image /etc/passwd")));
  EXPECT_EQ(faulty.fired(sys::SysCall::kRead), 1);
}

// Each syscall the read makes, failed in turn: the error surfaces (never a
// silent "no passwd"), and the fault is proven to have fired.
TEST_F(ImageUserTest, EverySyscallFaultSurfaces) {
  for (sys::SysCall call :
       {sys::SysCall::kOpenat2, sys::SysCall::kOpen, sys::SysCall::kRead}) {
    for (int nth : {1, 2}) {
      sys::FaultySys faulty(sys_);
      faulty.FailNth(call, nth, EACCES);
      absl::StatusOr<ProcessUser> u =
          ResolveProcessUser(faulty, fd_.get(), {}, "web");
      if (faulty.fired(call) == 0) {
        // Fewer than `nth` calls of this kind on the success path.
        EXPECT_OK(u.status());
        continue;
      }
      EXPECT_EQ(faulty.fired(call), 1);
      EXPECT_THAT(u, StatusIs(absl::StatusCode::kPermissionDenied))
          << sys::SysCallName(call) << " #" << nth;
    }
  }
}

}  // namespace
}  // namespace podsandbox::container
