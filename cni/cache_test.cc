#include "cni/cache.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/kill_at_rename.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cni {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

CacheEntry Entry(const std::string& network, const std::string& id) {
  CacheEntry e;
  e.network_name = network;
  e.container_id = id;
  e.ifname = "eth0";
  e.netns = "/run/psb/netns/" + id;
  e.config = R"({"cniVersion":"1.0.0","name":")" + network +
             R"(","plugins":[{"type":"bridge"}]})";
  e.cni_args = {{"IgnoreUnknown", "1"}, {"K8S_POD_NAME", "web"}};
  e.capability_args = nlohmann::json::parse(
      R"({"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]})",
      nullptr, false);
  e.result = R"({"cniVersion":"1.0.0","ips":[{"address":"10.233.0.2/24"}]})";
  return e;
}

class CacheTest : public ::testing::Test {
 protected:
  sys::RealSys real_;
  sys::FaultySys sys_{real_};
  sys::TempDir dir_;
  ResultCache cache_{sys_, dir_.path()};
};

TEST_F(CacheTest, RoundTripsInLibcniLayout) {
  CacheEntry written = Entry("podnet", "abc");
  ASSERT_OK(cache_.Write(written));
  std::string path = dir_.path() + "/results/podnet-abc-eth0";
  EXPECT_EQ(cache_.PathFor("podnet", "abc", "eth0"), path);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_.path() + "/results").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  ASSERT_OK_AND_ASSIGN(std::string text, sys::ReadFile(path));
  nlohmann::json obj = nlohmann::json::parse(text, nullptr, false);
  EXPECT_EQ(obj["kind"], "cniCacheV1");
  EXPECT_EQ(obj["containerId"], "abc");
  EXPECT_EQ(obj["ifName"], "eth0");
  EXPECT_EQ(obj["networkName"], "podnet");
  EXPECT_EQ(obj["cniArgs"][1][0], "K8S_POD_NAME");
  EXPECT_EQ(obj["capabilityArgs"]["portMappings"][0]["hostPort"], 8080);
  EXPECT_EQ(obj["result"]["ips"][0]["address"], "10.233.0.2/24");
  EXPECT_TRUE(obj["config"].is_string());  // base64

  ASSERT_OK_AND_ASSIGN(CacheEntry read, cache_.Read("podnet", "abc", "eth0"));
  EXPECT_EQ(read.config, written.config);
  EXPECT_EQ(read.netns, written.netns);
  EXPECT_THAT(read.cni_args, ElementsAre(Pair("IgnoreUnknown", "1"),
                                         Pair("K8S_POD_NAME", "web")));
  EXPECT_EQ(read.capability_args, written.capability_args);
  EXPECT_EQ(nlohmann::json::parse(read.result, nullptr, false),
            nlohmann::json::parse(written.result, nullptr, false));
}

TEST_F(CacheTest, MissingIsNotFoundAndRemoveIsIdempotent) {
  EXPECT_THAT(cache_.Read("podnet", "abc", "eth0"),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(CacheLookup none, cache_.Find("abc", "eth0"));
  EXPECT_THAT(none.entries, IsEmpty());
  ASSERT_OK(cache_.Write(Entry("podnet", "abc")));
  ASSERT_OK(cache_.Remove("podnet", "abc", "eth0"));
  ASSERT_OK(cache_.Remove("podnet", "abc", "eth0"));
  EXPECT_THAT(cache_.Read("podnet", "abc", "eth0"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CacheTest, FindMatchesContainerAndIfnameAcrossNetworks) {
  ASSERT_OK(cache_.Write(Entry("net-a", "abc")));
  ASSERT_OK(cache_.Write(Entry("b", "abc")));
  ASSERT_OK(cache_.Write(Entry("net", "x-abc")));  // name ends the same
  ASSERT_OK(cache_.Write(Entry("net", "other")));
  ASSERT_OK(sys::WriteFileAtomically(
      sys_, dir_.path() + "/results/broken-abc-eth0", "{nope", 0600));
  ASSERT_OK_AND_ASSIGN(CacheLookup found, cache_.Find("abc", "eth0"));
  std::vector<std::string> networks;
  for (const CacheEntry& e : found.entries) networks.push_back(e.network_name);
  EXPECT_THAT(networks, ::testing::UnorderedElementsAre("net-a", "b"));
  EXPECT_THAT(found.unreadable,
              ElementsAre(dir_.path() + "/results/broken-abc-eth0"));
}

TEST_F(CacheTest, CorruptEntriesAreDataLoss) {
  for (
      const char* text :
      {"{", R"({"kind":"other"})",
       R"({"kind":"cniCacheV1","containerId":"a","ifName":"eth0","networkName":"n","config":"!!"})",
       R"({"kind":"cniCacheV1","containerId":"a","ifName":"eth0","networkName":"n","cniArgs":[["a"]]})",
       R"({"kind":"cniCacheV1","containerId":"a","ifName":"eth0","networkName":"n","result":[]})"}) {
    EXPECT_THAT(DecodeCacheEntry(text), StatusIs(absl::StatusCode::kDataLoss))
        << text;
  }
}

TEST_F(CacheTest, FailedWriteLeavesTheOldEntry) {
  ASSERT_OK(cache_.Write(Entry("podnet", "abc")));
  CacheEntry changed = Entry("podnet", "abc");
  changed.netns = "/elsewhere";
  sys_.FailNth(sys::SysCall::kRename, 1, EIO);
  EXPECT_FALSE(cache_.Write(changed).ok());
  ASSERT_OK_AND_ASSIGN(CacheEntry read, cache_.Read("podnet", "abc", "eth0"));
  EXPECT_EQ(read.netns, "/run/psb/netns/abc");
}

// A real SIGKILL between write and rename leaves
// "<network>-<container>-<ifname>.tmp"; the next start's Init removes it,
// and no lookup ever reports it.
TEST_F(CacheTest, KillBetweenWriteAndRenameLeavesATempThatInitRemoves) {
  ASSERT_OK(sys::testing::KillAtRename(real_, [this](sys::Sys& killed) {
    (void)ResultCache(killed, dir_.path()).Write(Entry("podnet", "abc"));
  }));
  std::string temp = cache_.PathFor("podnet", "abc", "eth0") + ".tmp";
  ASSERT_TRUE(sys::ReadFile(temp).ok()) << "the kill left no temp file";

  ResultCache restarted(sys_, dir_.path());
  ASSERT_OK(restarted.Init());
  EXPECT_THAT(sys::ReadFile(temp), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(CacheLookup all, restarted.All());
  EXPECT_THAT(all.entries, IsEmpty());
  EXPECT_THAT(all.unreadable, IsEmpty());
  EXPECT_THAT(restarted.Read("podnet", "abc", "eth0"),
              StatusIs(absl::StatusCode::kNotFound));
  // Init on a cache that was never written creates the results dir.
  sys::TempDir fresh;
  ASSERT_OK(ResultCache(sys_, fresh.path()).Init());
  EXPECT_EQ(::access((fresh.path() + "/results").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace podsandbox::cni
