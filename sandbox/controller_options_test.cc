#include "sandbox/controller_options.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "oci/runtime_handler.h"
#include "oci/runtime_type.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

ControllerOptions WithRunc() {
  ControllerOptions o;
  o.state_dir = "/run/psb";
  oci::RuntimeHandler runc;
  runc.name = "runc";
  runc.type = oci::RuntimeType::kRunc;
  runc.path = "/usr/sbin/runc";
  o.runtime_handlers = {runc};
  return o;
}

TEST(ControllerOptionsTest, HandlerRootsLandUnderTheStateDir) {
  ControllerOptions o = WithRunc();
  o.runtime_handlers.push_back(o.runtime_handlers[0]);
  o.runtime_handlers[1].name = "other";
  o.runtime_handlers[1].root = "/elsewhere";
  ASSERT_OK_AND_ASSIGN(oci::HandlerRegistry registry,
                       CompleteControllerOptions(o));
  EXPECT_EQ(o.runtime_handlers[0].root, "/run/psb/runtime/runc");
  EXPECT_EQ(o.runtime_handlers[1].root, "/elsewhere");
  EXPECT_EQ(registry.default_handler().name, "runc");
  // Idempotent: a second pass changes nothing.
  ControllerOptions again = o;
  ASSERT_THAT(CompleteControllerOptions(again).status(), IsOk());
  EXPECT_EQ(again.runtime_handlers[0].root, o.runtime_handlers[0].root);
}

// Without a configured handler: builtin, the default, then the installed
// runc and crun, found only at their packaged paths, each with its root
// under the state dir.
TEST(ControllerOptionsTest, NoHandlerMeansBuiltinThenTheInstalledRuntimes) {
  ControllerOptions o;
  o.state_dir = "/run/psb";
  ASSERT_OK_AND_ASSIGN(oci::HandlerRegistry registry,
                       CompleteControllerOptions(o));
  EXPECT_EQ(registry.default_handler().name, "builtin");
  EXPECT_EQ(registry.default_handler().type, oci::RuntimeType::kBuiltin);
  EXPECT_EQ(o.default_runtime, "builtin");
  ASSERT_EQ(o.runtime_handlers.size(), InstalledRuntimeHandlers().size());
  EXPECT_EQ(o.runtime_handlers[0].name, "builtin");
  EXPECT_TRUE(o.runtime_handlers[0].path.empty());
  for (size_t i = 1; i < o.runtime_handlers.size(); ++i) {
    const oci::RuntimeHandler& h = o.runtime_handlers[i];
    EXPECT_EQ(h.root, "/run/psb/runtime/" + h.name);
    EXPECT_EQ(h.path[0], '/');
    EXPECT_NE(h.type, oci::RuntimeType::kBuiltin);
  }
}

// Configured handlers without a default_runtime: the first of them.
TEST(ControllerOptionsTest, NoDefaultMeansTheFirstConfiguredHandler) {
  ControllerOptions o = WithRunc();
  o.runtime_handlers.push_back(o.runtime_handlers[0]);
  o.runtime_handlers[1].name = "second";
  ASSERT_OK_AND_ASSIGN(oci::HandlerRegistry registry,
                       CompleteControllerOptions(o));
  EXPECT_EQ(registry.default_handler().name, "runc");
}

TEST(ControllerOptionsTest, EachBadOptionIsNamed) {
  struct Bad {
    void (*mutate)(ControllerOptions&);
    const char* field;
  };
  for (const Bad& bad : {
           Bad{[](ControllerOptions& o) { o.root_dir = "var/lib"; },
               "root_dir"},
           Bad{[](ControllerOptions& o) { o.state_dir = ""; }, "state_dir"},
           Bad{[](ControllerOptions& o) {
                 o.pod_limits.cgroup_parent_prefix = "/a/../b";
               },
               "pod_limits.cgroup_parent_prefix"},
           Bad{[](ControllerOptions& o) { o.max_sandboxes = 0; },
               "max_sandboxes"},
           Bad{[](ControllerOptions& o) {
                 o.stop_grace_period = absl::Seconds(-1);
               },
               "stop_grace_period"},
           Bad{[](ControllerOptions& o) { o.default_runtime = "gvisor"; },
               "gvisor"},
       }) {
    ControllerOptions o = WithRunc();
    bad.mutate(o);
    EXPECT_THAT(
        CompleteControllerOptions(o).status(),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad.field)))
        << bad.field;
  }
}

}  // namespace
}  // namespace podsandbox::sandbox
