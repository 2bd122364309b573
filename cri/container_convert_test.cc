#include "cri/container_convert.h"

#include <gmock/gmock.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "sys/testing/status_matchers.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::ContainerConfig Full() {
  v1::ContainerConfig c;
  c.mutable_metadata()->set_name("app");
  c.mutable_metadata()->set_attempt(2);
  c.mutable_image()->set_image("busybox:1");
  c.add_command("/bin/sh");
  c.add_args("-c");
  c.add_args("true");
  c.set_working_dir("/w");
  v1::KeyValue* env = c.add_envs();
  env->set_key("A");
  env->set_value("1");
  v1::Mount* m = c.add_mounts();
  m->set_container_path("/data");
  m->set_host_path("/srv/data");
  m->set_readonly(true);
  m->set_recursive_read_only(true);
  m->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  v1::Device* d = c.add_devices();
  d->set_container_path("/dev/fuse");
  d->set_host_path("/dev/fuse");
  d->set_permissions("rwm");
  (*c.mutable_labels())["l"] = "v";
  (*c.mutable_annotations())["a"] = "w";
  c.set_log_path("app/2.log");
  v1::LinuxContainerResources* r = c.mutable_linux()->mutable_resources();
  r->set_cpu_period(100000);
  r->set_cpu_quota(20000);
  r->set_cpu_shares(256);
  r->set_memory_limit_in_bytes(1 << 26);
  r->set_memory_swap_limit_in_bytes(1 << 27);
  r->set_oom_score_adj(100);
  r->set_cpuset_cpus("0");
  r->set_cpuset_mems("0");
  v1::LinuxContainerSecurityContext* s =
      c.mutable_linux()->mutable_security_context();
  s->mutable_capabilities()->add_add_capabilities("NET_ADMIN");
  s->mutable_capabilities()->add_drop_capabilities("ALL");
  s->set_privileged(true);
  s->mutable_run_as_user()->set_value(1000);
  s->mutable_run_as_group()->set_value(0);
  s->set_run_as_username("web");
  s->set_readonly_rootfs(true);
  s->add_supplemental_groups(5);
  s->set_no_new_privs(true);
  s->add_masked_paths("/proc/kcore");
  s->add_readonly_paths("/proc/sys");
  s->mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
  s->mutable_seccomp()->set_localhost_ref("/var/lib/kubelet/seccomp/p.json");
  s->mutable_apparmor()->set_profile_type(v1::SecurityProfile::Unconfined);
  return c;
}

TEST(ContainerConvertTest, EveryFieldArrivesAndRoundTrips) {
  ASSERT_OK_AND_ASSIGN(container::ContainerConfig c,
                       ContainerConfigFromCri(Full()));
  EXPECT_EQ(c.metadata.name, "app");
  EXPECT_EQ(c.metadata.attempt, 2u);
  EXPECT_EQ(c.image, "busybox:1");
  EXPECT_THAT(c.command, ElementsAre("/bin/sh"));
  EXPECT_THAT(c.args, ElementsAre("-c", "true"));
  ASSERT_EQ(c.mounts.size(), 1u);
  EXPECT_EQ(c.mounts[0].propagation,
            container::MountPropagation::kHostToContainer);
  EXPECT_TRUE(c.mounts[0].recursive_read_only);
  EXPECT_EQ(c.devices[0].permissions, "rwm");
  EXPECT_EQ(c.resources.memory_swap_limit_in_bytes, 1 << 27);
  EXPECT_EQ(c.security.run_as_user, 1000);
  EXPECT_EQ(c.security.run_as_group, 0);  // set to 0 is not unset
  EXPECT_EQ(c.security.seccomp.type, container::ProfileType::kLocalhost);
  ASSERT_TRUE(c.security.apparmor.has_value());
  EXPECT_EQ(c.security.apparmor->type, container::ProfileType::kUnconfined);

  v1::ContainerConfig back = ContainerConfigToCri(c);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(back, Full()))
      << back.DebugString();
  ASSERT_OK_AND_ASSIGN(container::ContainerConfig again,
                       ContainerConfigFromCri(back));
  EXPECT_EQ(again, c);
}

TEST(ContainerConvertTest, UnsetOptionalsStayUnset) {
  v1::ContainerConfig wire;
  ASSERT_OK_AND_ASSIGN(container::ContainerConfig c,
                       ContainerConfigFromCri(wire));
  EXPECT_FALSE(c.security.run_as_user.has_value());
  EXPECT_FALSE(c.security.run_as_group.has_value());
  EXPECT_FALSE(c.security.apparmor.has_value());
  // No seccomp at all: unconfined, as containerd runs it (CRI semantics;
  // kubelet sends RuntimeDefault explicitly).
  EXPECT_EQ(c.security.seccomp.type, container::ProfileType::kUnconfined);
}

// The deprecated fields are what this test sends.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
TEST(ContainerConvertTest, DeprecatedProfileStrings) {
  v1::ContainerConfig wire;
  auto* s = wire.mutable_linux()->mutable_security_context();
  s->set_seccomp_profile_path("localhost//etc/p.json");
  s->set_apparmor_profile("runtime/default");
  ASSERT_OK_AND_ASSIGN(container::ContainerConfig c,
                       ContainerConfigFromCri(wire));
  EXPECT_EQ(c.security.seccomp.type, container::ProfileType::kLocalhost);
  EXPECT_EQ(c.security.seccomp.localhost_ref, "/etc/p.json");
  EXPECT_EQ(c.security.apparmor->type, container::ProfileType::kRuntimeDefault);
  s->set_seccomp_profile_path("unconfined");
  ASSERT_OK_AND_ASSIGN(container::ContainerConfig u,
                       ContainerConfigFromCri(wire));
  EXPECT_EQ(u.security.seccomp.type, container::ProfileType::kUnconfined);
  s->set_seccomp_profile_path("bogus");
  EXPECT_THAT(ContainerConfigFromCri(wire),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.linux.security_context.seccomp_"
                                 "profile_path: \"bogus\"")));
}

#pragma GCC diagnostic pop

TEST(ContainerConvertTest, EnumsOutOfRangeNameTheField) {
  v1::ContainerConfig wire;
  wire.add_mounts()->set_propagation(static_cast<v1::MountPropagation>(7));
  EXPECT_THAT(ContainerConfigFromCri(wire),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.mounts[0].propagation: unknown "
                                 "value 7")));
  v1::ContainerConfig w2;
  w2.mutable_linux()
      ->mutable_security_context()
      ->mutable_seccomp()
      ->set_profile_type(static_cast<v1::SecurityProfile::ProfileType>(9));
  EXPECT_THAT(ContainerConfigFromCri(w2),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.linux.security_context.seccomp."
                                 "profile_type: unknown value 9")));
}

TEST(ContainerConvertTest, WhatWeCannotHonourIsRefusedNotDropped) {
  v1::ContainerConfig wire;
  v1::Mount* m = wire.add_mounts();
  // Upstream's Mount.uidMappings (field 6), absent from our proto.
  m->GetReflection()->MutableUnknownFields(m)->AddLengthDelimited(6, "x");
  EXPECT_THAT(ContainerConfigFromCri(wire),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.mounts[0]: id-mapped")));
  v1::ContainerConfig ambient;
  ambient.mutable_linux()
      ->mutable_security_context()
      ->mutable_capabilities()
      ->add_add_ambient_capabilities("NET_RAW");
  EXPECT_THAT(ContainerConfigFromCri(ambient),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("add_ambient_capabilities")));
  v1::ContainerConfig strict;
  strict.mutable_linux()
      ->mutable_security_context()
      ->set_supplemental_groups_policy(v1::Strict);
  EXPECT_THAT(ContainerConfigFromCri(strict),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("supplemental_groups_policy")));
}

TEST(ContainerConvertTest, HugepagesAndUnifiedAreAcceptedAndIgnored) {
  v1::ContainerConfig wire = Full();
  auto* r = wire.mutable_linux()->mutable_resources();
  v1::HugepageLimit* h = r->add_hugepage_limits();
  h->set_page_size("2MB");
  h->set_limit(0);
  (*r->mutable_unified())["memory.high"] = "100000";
  EXPECT_OK(ContainerConfigFromCri(wire).status());
}

}  // namespace
}  // namespace podsandbox::cri
