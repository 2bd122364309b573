#include "oci/runtime_handler.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::oci {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Pointee;

RuntimeHandler Handler(std::string name, RuntimeType type, std::string path) {
  RuntimeHandler h;
  h.name = std::move(name);
  h.type = type;
  h.path = std::move(path);
  h.root = "/run/podsandbox/" + h.name;
  return h;
}

std::vector<RuntimeHandler> Configured() {
  return {Handler("runc", RuntimeType::kRunc, "/usr/sbin/runc"),
          Handler("crun", RuntimeType::kCrun, "/usr/bin/crun"),
          Handler("gvisor", RuntimeType::kRunsc, "/usr/bin/runsc")};
}

TEST(HandlerRegistryTest, EmptyNameSelectsTheDefault) {
  ASSERT_OK_AND_ASSIGN(HandlerRegistry registry,
                       HandlerRegistry::Create(Configured(), "crun"));
  EXPECT_THAT(registry.Resolve(""),
              IsOkAndHolds(Pointee(Field(&RuntimeHandler::name, "crun"))));
  EXPECT_THAT(
      registry.Resolve("gvisor"),
      IsOkAndHolds(Pointee(Field(&RuntimeHandler::path, "/usr/bin/runsc"))));
}

TEST(HandlerRegistryTest, PathsAndTraversalAreRefusedAsPaths) {
  ASSERT_OK_AND_ASSIGN(HandlerRegistry registry,
                       HandlerRegistry::Create(Configured(), "runc"));
  for (const char* name :
       {"/usr/sbin/runc", "../../usr/sbin/runc", "./runc", "runc/", "a/b"}) {
    EXPECT_THAT(registry.Resolve(name),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("runtime_handler: \"")))
        << name;
    EXPECT_THAT(
        registry.Resolve(name),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is a path")));
  }
}

TEST(HandlerRegistryTest, UnknownNamesAreRefusedNeverLookedUpOnPath) {
  ASSERT_OK_AND_ASSIGN(HandlerRegistry registry,
                       HandlerRegistry::Create(Configured(), "runc"));
  // "bash" and "runsc" exist on PATH; neither is a configured name.
  for (const char* name : {"bash", "runsc", "..", "RUNC", "runc "}) {
    EXPECT_THAT(registry.Resolve(name),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("runtime_handler: unknown handler")))
        << name;
  }
}

TEST(HandlerRegistryTest, ConfigurationIsValidated) {
  struct Case {
    std::vector<RuntimeHandler> handlers;
    std::string default_name;
    std::string message;
  };
  std::vector<RuntimeHandler> relative = Configured();
  relative[1].path = "crun";
  std::vector<RuntimeHandler> bad_name = Configured();
  bad_name[0].name = "run/c";
  std::vector<RuntimeHandler> duplicate = Configured();
  duplicate[1].name = "runc";
  std::vector<RuntimeHandler> runc_option = Configured();
  runc_option[1].no_pivot_root = true;
  std::vector<RuntimeHandler> no_root = Configured();
  no_root[2].root = "";
  std::vector<Case> cases = {
      {relative, "runc", "runtime_handlers[1].path: must be absolute"},
      {bad_name, "crun", "runtime_handlers[0].name"},
      {duplicate, "runc", "runtime_handlers[1].name: duplicate"},
      {runc_option, "runc", "runc-only options on a crun handler"},
      {no_root, "runc", "runtime_handlers[2].root"},
      {Configured(), "kata", "default_runtime_handler: \"kata\""},
      {{}, "", "none configured"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(
        HandlerRegistry::Create(c.handlers, c.default_name),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(CheckHandlerSupportsTest, UsernsByPathNeedsARuntimeThatJoins) {
  TaskSpec spec;
  spec.sandbox_id = "x";
  spec.netns_path = "/run/netns/x";
  spec.id_mappings =
      userns::IdMappings{{{0, 100000, 65536}}, {{0, 100000, 65536}}};
  spec.userns_path = "/run/userns/x";
  EXPECT_OK(CheckHandlerSupports(Configured()[0], spec));
  EXPECT_OK(CheckHandlerSupports(Configured()[1], spec));
  EXPECT_THAT(CheckHandlerSupports(Configured()[2], spec),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot join the pod's user namespace")));
  spec.id_mappings.reset();
  spec.userns_path.clear();
  EXPECT_OK(CheckHandlerSupports(Configured()[2], spec));
}

}  // namespace
}  // namespace podsandbox::oci
