#include "cni/plugin_exec.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/registry.h"
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

// Every exec is observed, a failing one too, by the binary's name and the
// command (podsandboxd serves the histogram).
TEST(PluginExecTest, EachExecIsObservedByPluginAndCommand) {
  metrics::HistogramFamily& exec = metrics::DefaultRegistry().Histogram(
      "podsandbox_cni_plugin_exec_duration_seconds", "", {"plugin", "command"},
      metrics::LatencyBuckets());
  const double ok_before = exec.Value({"true", "CHECK"});
  const double failed_before = exec.Value({"false", "DEL"});
  sys::RealSys sys;
  PluginCall call;
  call.path = "/bin/true";
  call.command = "CHECK";
  EXPECT_OK(ExecPlugin(sys, call).status());
  call.path = "/bin/false";
  call.command = "DEL";
  EXPECT_FALSE(ExecPlugin(sys, call).ok());
  EXPECT_EQ(exec.Value({"true", "CHECK"}), ok_before + 1);
  EXPECT_EQ(exec.Value({"false", "DEL"}), failed_before + 1);
}

}  // namespace
}  // namespace podsandbox::cni
