// The shared config types compile on their own and compare by value (cri/
// conversion tests and the store's round trips rely on operator==).
#include <gtest/gtest.h>

#include "container/container_config.h"
#include "container/pod_context.h"

namespace podsandbox::container {
namespace {

TEST(ContainerConfigTest, EqualityCoversNestedSecurityFields) {
  ContainerConfig a;
  a.metadata.name = "app";
  ContainerConfig b = a;
  EXPECT_EQ(a, b);
  b.security.capabilities.drop.push_back("ALL");
  EXPECT_FALSE(a == b);
  b = a;
  b.security.run_as_user = 0;
  EXPECT_FALSE(a == b);
}

TEST(PodContextTest, UserNamespacedOnlyWithMappings) {
  PodContext pod;
  EXPECT_FALSE(pod.user_namespaced());
  pod.id_mappings =
      userns::IdMappings{{{0, 100000, 65536}}, {{0, 100000, 65536}}};
  EXPECT_TRUE(pod.user_namespaced());
}

}  // namespace
}  // namespace podsandbox::container
