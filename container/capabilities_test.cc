#include "container/capabilities.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace podsandbox::container {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

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

}  // namespace
}  // namespace podsandbox::container
