#include "container/capabilities.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::container {
namespace {

using sys::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

TEST(CapabilitiesTest, NormalizeAcceptsKubernetesSpellings) {
  EXPECT_EQ(NormalizeCapability("NET_ADMIN"), "CAP_NET_ADMIN");
  EXPECT_EQ(NormalizeCapability("net_admin"), "CAP_NET_ADMIN");
  EXPECT_EQ(NormalizeCapability("CAP_NET_ADMIN"), "CAP_NET_ADMIN");
  EXPECT_EQ(NormalizeCapability("all"), "ALL");
  EXPECT_EQ(NormalizeCapability("NET_FLY"), std::nullopt);
  EXPECT_EQ(NormalizeCapability(""), std::nullopt);
  EXPECT_EQ(AllCapabilities().size(), 41u);
  EXPECT_EQ(AllCapabilities()[21], "CAP_SYS_ADMIN");
  EXPECT_EQ(AllCapabilities()[40], "CAP_CHECKPOINT_RESTORE");
}

TEST(CapabilitiesTest, DefaultSetIsContainerds) {
  std::vector<std::string> caps = ContainerCapabilities({}, false);
  EXPECT_EQ(caps.size(), 14u);
  EXPECT_THAT(caps, ::testing::Contains("CAP_NET_BIND_SERVICE"));
  EXPECT_THAT(caps, ::testing::Not(::testing::Contains("CAP_SYS_ADMIN")));
  EXPECT_THAT(caps, ::testing::Not(::testing::Contains("CAP_NET_ADMIN")));
}

TEST(CapabilitiesTest, AddAndDrop) {
  std::vector<std::string> caps =
      ContainerCapabilities({{"NET_ADMIN"}, {"KILL", "cap_chown"}}, false);
  EXPECT_THAT(caps, ::testing::Contains("CAP_NET_ADMIN"));
  EXPECT_THAT(caps, ::testing::Not(::testing::Contains("CAP_KILL")));
  EXPECT_THAT(caps, ::testing::Not(::testing::Contains("CAP_CHOWN")));
  EXPECT_EQ(caps.size(), 13u);
}

TEST(CapabilitiesTest, DropAllThenAddKeepsOnlyTheAdded) {
  EXPECT_THAT(ContainerCapabilities({{"NET_BIND_SERVICE"}, {"ALL"}}, false),
              ElementsAre("CAP_NET_BIND_SERVICE"));
  EXPECT_THAT(ContainerCapabilities({{}, {"ALL"}}, false), IsEmpty());
}

TEST(CapabilitiesTest, AddAllThenDrop) {
  std::vector<std::string> caps =
      ContainerCapabilities({{"ALL"}, {"SYS_ADMIN"}}, false);
  EXPECT_EQ(caps.size(), 40u);
  EXPECT_THAT(caps, ::testing::Not(::testing::Contains("CAP_SYS_ADMIN")));
  // Both ALL: drop wins, as in containerd.
  EXPECT_THAT(ContainerCapabilities({{"ALL"}, {"ALL"}}, false), IsEmpty());
}

TEST(CapabilitiesTest, PrivilegedGetsEverythingWhateverTheLists) {
  EXPECT_EQ(ContainerCapabilities({{}, {"ALL"}}, true), AllCapabilities());
}

// A daemon without CAP_SYS_RESOURCE (a host whose bounding set lacks it)
// gives privileged and "ALL" containers what it holds: asking the runtime
// for more fails the container's start.
TEST(CapabilitiesTest, PrivilegedAndAllAreWhatTheDaemonHolds) {
  std::vector<std::string> held;
  for (const std::string& name : AllCapabilities()) {
    if (name != "CAP_SYS_RESOURCE") held.push_back(name);
  }
  EXPECT_EQ(ContainerCapabilities({}, true, held), held);
  EXPECT_EQ(ContainerCapabilities({{"ALL"}, {}}, false, held), held);
  std::vector<std::string> all_but =
      ContainerCapabilities({{"ALL"}, {"SYS_ADMIN"}}, false, held);
  EXPECT_EQ(all_but.size(), 39u);
  EXPECT_THAT(all_but, Not(Contains("CAP_SYS_RESOURCE")));
  EXPECT_THAT(all_but, Not(Contains("CAP_SYS_ADMIN")));
  // Asked for by name, it stays: the runtime's refusal names the problem.
  EXPECT_THAT(ContainerCapabilities({{"SYS_RESOURCE"}, {}}, false, held),
              Contains("CAP_SYS_RESOURCE"));
  // The default set is containerd's whatever the daemon holds.
  EXPECT_EQ(ContainerCapabilities({}, false, held),
            ContainerCapabilities({}, false));
}

TEST(CapabilitiesTest, HeldIsEffectiveWithinBounding) {
  // This host's: the bounding set lacks bit 24 (CAP_SYS_RESOURCE).
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> held,
                       HeldCapabilities("Name:\tpodsandboxd\n"
                                        "CapInh:\t0000000000000000\n"
                                        "CapPrm:\t000001fffeffffff\n"
                                        "CapEff:\t000001ffffffffff\n"
                                        "CapBnd:\t000001fffeffffff\n"
                                        "CapAmb:\t0000000000000000\n"));
  EXPECT_EQ(held.size(), 40u);
  EXPECT_THAT(held, Not(Contains("CAP_SYS_RESOURCE")));
  EXPECT_EQ(held.front(), "CAP_CHOWN");
  EXPECT_EQ(held.back(), "CAP_CHECKPOINT_RESTORE");
  // Bits past the capabilities we know are not names.
  ASSERT_OK_AND_ASSIGN(held, HeldCapabilities("CapEff:\tffffffffffffffff\n"
                                              "CapBnd:\t0000000000200001\n"));
  EXPECT_THAT(held, ElementsAre("CAP_CHOWN", "CAP_SYS_ADMIN"));
  ASSERT_OK_AND_ASSIGN(held, HeldCapabilities("CapEff:\t0\nCapBnd:\t0\n"));
  EXPECT_THAT(held, IsEmpty());
}

TEST(CapabilitiesTest, HeldNeedsBothLines) {
  EXPECT_THAT(HeldCapabilities("CapEff:\t000001ffffffffff\n"),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(HeldCapabilities("CapEff:\tzz\nCapBnd:\t0\n"),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(HeldCapabilities(""), StatusIs(absl::StatusCode::kInternal));
}

}  // namespace
}  // namespace podsandbox::container
