#include "cni/plugin_exec.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::cni {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// Whatever PATH the daemon was started with, a plugin gets the fixed one:
// a PATH that names a directory someone else writes would let them choose
// what a root plugin (portmap's iptables, a delegated IPAM) runs.
TEST(PluginExecTest, PluginsGetAFixedPathNotTheDaemons) {
  ASSERT_EQ(::setenv("PATH", "/tmp/attacker:/usr/bin", 1), 0);
  PluginCall call;
  call.path = "/usr/bin/env";  // prints the environment it was given
  call.command = "VERSION";
  call.bin_dirs = {"/usr/lib/cni"};
  const std::string fixed = absl::StrCat("PATH=", kPluginPath);
  EXPECT_THAT(PluginEnvironment(call), Contains(fixed));
  sys::RealSys sys;
  ASSERT_OK_AND_ASSIGN(std::string env, ExecPlugin(sys, call));
  EXPECT_THAT(env, HasSubstr(fixed + "\n"));
  EXPECT_THAT(env, Not(HasSubstr("/tmp/attacker")));
  EXPECT_THAT(env, HasSubstr("CNI_COMMAND=VERSION\n"));
}

}  // namespace
}  // namespace podsandbox::cni
