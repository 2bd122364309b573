// What a controller checks and collects in its directories when it starts,
// before any pod: no network or runtime is needed.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/namespaces.h"
#include "sandbox/controller.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

bool Exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

class ControllerStartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "privileged test: run as root";
  }

  void TearDown() override {
    controller_.reset();
    // Init made the pin directories shared mounts.
    netns::UnmountPinDirs(real_, state_ + "/ns").IgnoreError();
  }

  ControllerOptions Options() {
    ControllerOptions o;
    o.root_dir = root_;
    o.state_dir = state_;
    o.cni_conf_dir = dir_.Sub("net.d");
    o.pause_binary = "sandbox/pause/pause";
    return o;
  }

  sys::RealSys real_;
  // Under /tmp: $TEST_TMPDIR's 0700 ancestors would fail the state
  // directory's o+x check.
  sys::TempDir dir_{"/tmp"};
  const std::string root_ = dir_.Sub("root");
  const std::string state_ = dir_.Sub("state");
  std::unique_ptr<Controller> controller_;
};

// A directory another user owns or may write could have records, pins or
// bundles replaced under a daemon that trusts them: refused, naming it,
// before anything is created.
TEST_F(ControllerStartTest, RefusesDirectoriesOthersOwnOrMayWrite) {
  struct Case {
    const char* what;
    mode_t mode;
    uid_t owner;
  };
  for (const std::string* dir : {&root_, &state_}) {
    for (const Case& c : {Case{"others may write", 0757, 0},
                          Case{"its group may write", 0770, 0},
                          Case{"another owner", 0700, 1000}}) {
      SCOPED_TRACE(absl::StrCat(*dir, ": ", c.what));
      ASSERT_OK(sys::RemoveTree(real_, root_));
      ASSERT_OK(sys::RemoveTree(real_, state_));
      ASSERT_OK(sys::MakeDirs(real_, *dir, 0700));
      ASSERT_EQ(::chmod(dir->c_str(), c.mode), 0);
      ASSERT_EQ(::chown(dir->c_str(), c.owner, 0), 0);
      EXPECT_THAT(Controller::Create(real_, Options()).status(),
                  StatusIs(absl::StatusCode::kFailedPrecondition,
                           HasSubstr(absl::StrCat("directory ", *dir, ":"))));
      // Nothing was created: neither the other directory nor the lock.
      EXPECT_FALSE(Exists(dir == &root_ ? state_ : root_));
      EXPECT_FALSE(Exists(root_ + "/lock"));
    }
  }
  // Fixed, they are accepted.
  ASSERT_EQ(::chown(state_.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(state_.c_str(), 0711), 0);
  ASSERT_OK_AND_ASSIGN(controller_, Controller::Create(real_, Options()));
}

// A daemon SIGKILLed between an atomic write's write and rename leaves the
// temp file; the next start removes it and lists no sandbox for it.
TEST_F(ControllerStartTest, CollectsTempFilesOfKilledWrites) {
  const std::string id(64, 'd');
  const std::string record_temp =
      absl::StrCat(root_, "/sandboxes/", id, ".json.tmp");
  const std::string cni_temp =
      absl::StrCat(root_, "/cni/results/psbnet-", id, "-eth0.tmp");
  ASSERT_OK(sys::MakeDirs(real_, root_ + "/sandboxes", 0700));
  ASSERT_OK(sys::MakeDirs(real_, root_ + "/cni/results", 0700));
  // Half-written, as a kill leaves them.
  ASSERT_OK(sys::WriteFileAtomically(real_, record_temp, "{\"id\":", 0600));
  ASSERT_OK(sys::WriteFileAtomically(real_, cni_temp, "{\"kind\":", 0600));
  ASSERT_OK_AND_ASSIGN(controller_, Controller::Create(real_, Options()));
  EXPECT_FALSE(Exists(record_temp));
  EXPECT_FALSE(Exists(cni_temp));
  EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
}

}  // namespace
}  // namespace podsandbox::sandbox
