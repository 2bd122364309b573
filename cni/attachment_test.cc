#include "cni/attachment.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::cni {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

// Parses known-good test JSON (no exceptions: discarded on error).
nlohmann::json J(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, false);
}

Attachment Valid() {
  Attachment a;
  a.container_id = "0123abcd";
  a.netns = "/run/psb/netns/0123abcd";
  a.pod_namespace = "default";
  a.pod_name = "web";
  a.pod_uid = "6f1c-11";
  return a;
}

TEST(AttachmentTest, ValidAttachmentPasses) {
  EXPECT_OK(ValidateAttachment(Valid(), false));
  Attachment no_netns = Valid();
  no_netns.netns.clear();
  EXPECT_OK(ValidateAttachment(no_netns, /*for_del=*/true));
  EXPECT_THAT(ValidateAttachment(no_netns, /*for_del=*/false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("netns")));
}

TEST(AttachmentTest, BadFieldsAreNamed) {
  struct Case {
    void (*mutate)(Attachment&);
    const char* field;
  };
  for (const Case& c : {
           Case{[](Attachment& a) { a.container_id = ""; }, "container_id"},
           Case{[](Attachment& a) { a.container_id = "-x"; }, "container_id"},
           Case{[](Attachment& a) { a.container_id = "a/b"; }, "container_id"},
           Case{[](Attachment& a) { a.ifname = ""; }, "ifname"},
           Case{[](Attachment& a) { a.ifname = "sixteen-chars-xx"; }, "ifname"},
           Case{[](Attachment& a) { a.ifname = "eth:0"; }, "ifname"},
           Case{[](Attachment& a) { a.ifname = "eth 0"; }, "ifname"},
           Case{[](Attachment& a) { a.ifname = ".."; }, "ifname"},
           Case{[](Attachment& a) { a.netns = "relative"; }, "netns"},
           Case{[](Attachment& a) { a.pod_name = "a;B=c"; }, "pod_name"},
           Case{[](Attachment& a) { a.pod_uid = "x=y"; }, "pod_uid"},
           Case{[](Attachment& a) {
                  a.port_mappings = {{80, 0, "tcp", ""}};
                },
                "port_mappings[0].container_port"},
           Case{[](Attachment& a) {
                  a.port_mappings = {{70000, 80, "tcp", ""}};
                },
                "port_mappings[0].host_port"},
           Case{[](Attachment& a) {
                  a.port_mappings = {{80, 80, "TCP", ""}};
                },
                "port_mappings[0].protocol"},
       }) {
    Attachment a = Valid();
    c.mutate(a);
    EXPECT_THAT(
        ValidateAttachment(a, false),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)));
  }
}

TEST(AttachmentTest, CniArgsCarryThePodIdentity) {
  EXPECT_EQ(JoinCniArgs(CniArgs(Valid())),
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;"
            "K8S_POD_INFRA_CONTAINER_ID=0123abcd;K8S_POD_UID=6f1c-11");
}

TEST(AttachmentTest, CapabilityArgs) {
  Attachment a = Valid();
  EXPECT_EQ(CapabilityArgs(a), nlohmann::json::object());
  a.port_mappings = {{8080, 80, "tcp", ""},
                     {0, 53, "udp", ""},
                     {9090, 90, "sctp", "127.0.0.1"}};
  a.dns.servers = {"10.0.0.10"};
  a.dns.searches = {"svc.cluster.local"};
  EXPECT_EQ(CapabilityArgs(a), J(R"({
    "portMappings": [
      {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
      {"hostPort": 9090, "containerPort": 90, "protocol": "sctp",
       "hostIP": "127.0.0.1"}],
    "dns": {"servers": ["10.0.0.10"], "searches": ["svc.cluster.local"],
            "options": []}})"));
}

}  // namespace
}  // namespace podsandbox::cni
