#include "image/registry_hosts.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

TEST(RegistryHostsTest, DefaultsToVerifiedHttps) {
  RegistryHosts hosts;
  std::vector<Endpoint> e = hosts.Endpoints("quay.io");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].url, "https://quay.io");
  EXPECT_TRUE(e[0].verify_tls);
  EXPECT_FALSE(e[0].mirror);
  EXPECT_EQ(hosts.Endpoints("docker.io")[0].url,
            "https://registry-1.docker.io");
}

TEST(RegistryHostsTest, MirrorsFirstWithTheirOwnHostsSettings) {
  std::map<std::string, HostConfig> config;
  config["registry.k8s.io"].mirrors = {"http://127.0.0.1:5000",
                                       "https://m.example/"};
  config["m.example"].ca_file = "/ca.pem";
  config["127.0.0.1:5001"].insecure = true;
  ASSERT_OK_AND_ASSIGN(RegistryHosts hosts,
                       RegistryHosts::Create(std::move(config)));
  std::vector<Endpoint> e = hosts.Endpoints("registry.k8s.io");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].url, "http://127.0.0.1:5000");
  EXPECT_TRUE(e[0].mirror);
  EXPECT_EQ(e[1].url, "https://m.example");
  EXPECT_EQ(e[1].ca_file, "/ca.pem");
  EXPECT_EQ(e[2].url, "https://registry.k8s.io");
  EXPECT_FALSE(e[2].mirror);
  std::vector<Endpoint> insecure = hosts.Endpoints("127.0.0.1:5001");
  ASSERT_EQ(insecure.size(), 1u);
  EXPECT_EQ(insecure[0].url, "http://127.0.0.1:5001");
}

TEST(RegistryHostsTest, RefusesBadMirrorNamingIt) {
  for (const char* bad :
       {"127.0.0.1:5000", "ftp://h", "http://", "http://h/p", "https://u@h"}) {
    std::map<std::string, HostConfig> config;
    config["r.io"].mirrors = {"http://ok", bad};
    EXPECT_THAT(RegistryHosts::Create(std::move(config)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("registries.\"r.io\".mirrors[1]: ")))
        << bad;
  }
}

}  // namespace
}  // namespace podsandbox::image
