#include "cni/result.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::cni {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// What bridge 1.1.1 prints, per version (from real runs, addresses changed).
constexpr char kResult100[] = R"({"cniVersion":"1.0.0",
  "interfaces":[{"name":"psbtest0","mac":"aa:bb:cc:dd:ee:01"},
                {"name":"veth1","mac":"aa:bb:cc:dd:ee:02"},
                {"name":"eth0","mac":"aa:bb:cc:dd:ee:03","sandbox":"/run/netns/p"}],
  "ips":[{"interface":2,"address":"10.233.0.2/24","gateway":"10.233.0.1"}],
  "routes":[{"dst":"0.0.0.0/0","gw":"10.233.0.1"}],
  "dns":{"nameservers":["10.233.0.53"],"domain":"cluster.local",
         "search":["svc"],"options":["ndots:5"]}})";

constexpr char kResult040[] = R"({"cniVersion":"0.4.0",
  "interfaces":[{"name":"eth0","sandbox":"/run/netns/p"}],
  "ips":[{"version":"6","interface":0,"address":"fd00::2/64"},
         {"version":"4","interface":0,"address":"10.233.0.2/24","gateway":"10.233.0.1"}],
  "dns":{}})";

constexpr char kResult031[] = R"({"cniVersion":"0.3.1",
  "ips":[{"version":"4","address":"10.233.0.7/24"}]})";

TEST(ResultTest, Parses100) {
  ASSERT_OK_AND_ASSIGN(Result r, ParseResult(kResult100, "1.0.0"));
  EXPECT_EQ(r.cni_version, "1.0.0");
  ASSERT_EQ(r.interfaces.size(), 3u);
  EXPECT_EQ(r.interfaces[2].name, "eth0");
  EXPECT_EQ(r.interfaces[2].sandbox, "/run/netns/p");
  ASSERT_EQ(r.ips.size(), 1u);
  EXPECT_EQ(r.ips[0].address, "10.233.0.2/24");
  EXPECT_EQ(r.ips[0].gateway, "10.233.0.1");
  EXPECT_EQ(r.ips[0].interface, 2);
  ASSERT_EQ(r.routes.size(), 1u);
  EXPECT_EQ(r.routes[0].dst, "0.0.0.0/0");
  EXPECT_EQ(r.routes[0].gw, "10.233.0.1");
  EXPECT_THAT(r.dns.nameservers, ElementsAre("10.233.0.53"));
  EXPECT_EQ(r.dns.domain, "cluster.local");
  EXPECT_THAT(r.dns.search, ElementsAre("svc"));
  EXPECT_THAT(r.dns.options, ElementsAre("ndots:5"));
  EXPECT_EQ(r.raw_json, kResult100);
  EXPECT_THAT(r.PodIps(), ElementsAre("10.233.0.2"));
}

TEST(ResultTest, Parses040WithIpv4First) {
  ASSERT_OK_AND_ASSIGN(Result r, ParseResult(kResult040, "1.0.0"));
  EXPECT_EQ(r.cni_version, "0.4.0");
  EXPECT_THAT(r.PodIps(), ElementsAre("10.233.0.2", "fd00::2"));
}

TEST(ResultTest, Parses031WithoutInterfaces) {
  ASSERT_OK_AND_ASSIGN(Result r, ParseResult(kResult031, "1.0.0"));
  EXPECT_EQ(r.ips[0].interface, -1);
  EXPECT_THAT(r.PodIps(), ElementsAre("10.233.0.7"));
}

TEST(ResultTest, MissingVersionTakesTheDefault) {
  ASSERT_OK_AND_ASSIGN(Result r, ParseResult("{}", "0.4.0"));
  EXPECT_EQ(r.cni_version, "0.4.0");
  EXPECT_TRUE(r.ips.empty());
}

TEST(ResultTest, BadResults) {
  struct Case {
    const char* json;
    const char* why;
  };
  for (const Case& c : {
           Case{"not json", "invalid JSON"},
           Case{R"({"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/24"}})",
                "result.cniVersion \"0.2.0\": not supported"},
           Case{R"({"ips":[{"address":"10.0.0.2"}]})", "not a CIDR"},
           Case{R"({"ips":[{"address":"10.0.0.2/33"}]})", "not a CIDR"},
           Case{R"({"ips":[{"address":"10.0.0.2/24","interface":0}]})",
                "result.ips[0].interface: no interface 0"},
           Case{R"({"ips":{}})", "result.ips: must be an array"},
           Case{R"({"ips":[7]})", "result.ips[0]: must be an object"},
           Case{R"({"routes":[{"dst":5}]})", "result.routes[0].dst"},
           Case{R"({"dns":{"nameservers":"x"}})", "result.dns.nameservers"},
       }) {
    EXPECT_THAT(ParseResult(c.json, "1.0.0"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.why)))
        << c.json;
  }
}

}  // namespace
}  // namespace podsandbox::cni
