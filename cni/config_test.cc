#include "cni/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "cni/config_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cni {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Testdata(const std::string& name) {
  char cwd[4096];
  return absl::StrCat(::getcwd(cwd, sizeof(cwd)), "/testdata/cni/conf/", name);
}

std::string ReadTestdata(const std::string& name) {
  absl::StatusOr<std::string> text = sys::ReadFile(Testdata(name));
  EXPECT_TRUE(text.ok()) << text.status();
  return text.value_or("");
}

TEST(ConfigTest, ParsesAListAndKeepsUnknownFields) {
  std::string path = Testdata("good/10-bridge.conflist");
  ASSERT_OK_AND_ASSIGN(
      NetworkConfigList list,
      ParseConfigFile(path, ReadTestdata("good/10-bridge.conflist")));
  EXPECT_EQ(list.name, "podnet");
  EXPECT_EQ(list.cni_version, "1.0.0");
  EXPECT_EQ(list.source, path);
  ASSERT_EQ(list.plugins.size(), 2u);
  EXPECT_EQ(list.plugins[0].type, "bridge");
  EXPECT_EQ(list.plugins[0].raw["someFutureField"]["kept"][2], 3);
  EXPECT_EQ(list.plugins[1].type, "portmap");
  EXPECT_FALSE(list.disable_check);
}

TEST(ConfigTest, SingleConfBecomesAOnePluginList) {
  ASSERT_OK_AND_ASSIGN(
      NetworkConfigList list,
      ParseConfigFile("x/20-single.conf", ReadTestdata("good/20-single.conf")));
  EXPECT_EQ(list.name, "single");
  EXPECT_EQ(list.cni_version, "0.4.0");
  ASSERT_EQ(list.plugins.size(), 1u);
  EXPECT_EQ(list.plugins[0].type, "bridge");
  EXPECT_EQ(list.plugins[0].raw["bridge"], "cni1");
  // The synthesized list parses back as a list: that is what gets cached.
  ASSERT_OK_AND_ASSIGN(NetworkConfigList again,
                       ParseConfigList(list.bytes, "cache"));
  EXPECT_EQ(again.plugins[0].raw, list.plugins[0].raw);
}

TEST(ConfigTest, BadFilesAreRejectedNamingTheFileAndTheReason) {
  struct Case {
    const char* file;
    const char* reason;
  };
  for (const Case& c : {
           Case{"bad/invalid-json.conflist",
                "invalid JSON at line 5, column 23: syntax error"},
           Case{"bad/missing-type.conflist", "plugins[0].type: missing"},
           Case{"bad/slash-type.conflist", "must be a plain file name"},
           Case{"bad/unknown-version.conflist",
                "cniVersion \"9.9.9\": unknown CNI version"},
       }) {
    std::string path = Testdata(c.file);
    EXPECT_THAT(ParseConfigFile(path, ReadTestdata(c.file)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(path), HasSubstr(c.reason))))
        << c.file;
  }
}

TEST(ConfigTest, OtherValidationErrors) {
  struct Case {
    const char* json;
    const char* reason;
  };
  for (
      const Case& c : {
          Case{R"({"cniVersion":"1.0.0","plugins":[{"type":"x"}]})",
               "name: missing"},
          Case{
              R"({"name":"-bad","cniVersion":"1.0.0","plugins":[{"type":"x"}]})",
              "name \"-bad\""},
          Case{R"({"name":"n","plugins":[{"type":"x"}]})",
               "cniVersion: missing"},
          Case{R"({"name":"n","cniVersion":"0.2.0","plugins":[{"type":"x"}]})",
               "not supported"},
          Case{R"({"name":"n","cniVersion":"1.0.0","plugins":[]})",
               "plugins: must be a non-empty array"},
          Case{R"({"name":"n","cniVersion":"1.0.0","plugins":[{"type":".."}]})",
               "plain file name"},
          Case{R"({"name":"n","cniVersion":"1.0.0","plugins":[{"type":7}]})",
               "plugins[0].type: must be a string"},
          Case{R"([1,2])", "not an object"},
          Case{"", "invalid JSON at line 1, column 1"},
      }) {
    EXPECT_THAT(ParseConfigList(c.json, "f.conflist"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("f.conflist: "), HasSubstr(c.reason))))
        << c.json;
  }
}

TEST(ConfigTest, FindPluginLooksInBinDirsInOrder) {
  sys::TempDir a;
  sys::TempDir b;
  sys::RealSys sys;
  ASSERT_OK(sys::WriteFileAtomically(sys, a.Sub("noexec"), "x", 0644));
  ASSERT_OK(sys::WriteFileAtomically(sys, b.Sub("noexec"), "x", 0755));
  ASSERT_OK(sys::WriteFileAtomically(sys, a.Sub("both"), "x", 0755));
  ASSERT_OK(sys::WriteFileAtomically(sys, b.Sub("both"), "x", 0755));
  std::vector<std::string> dirs = {a.path(), b.path()};
  EXPECT_THAT(FindPlugin(dirs, "noexec"),
              sys::testing::IsOkAndHolds(b.Sub("noexec")));
  EXPECT_THAT(FindPlugin(dirs, "both"),
              sys::testing::IsOkAndHolds(a.Sub("both")));
  EXPECT_THAT(
      FindPlugin(dirs, "none"),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("\"none\" not found"), HasSubstr(a.path()))));
  EXPECT_THAT(FindPlugin(dirs, "../x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("plain")));
}

class ConfigLoaderTest : public ::testing::Test {
 protected:
  void Write(const std::string& name, const std::string& text) {
    ASSERT_OK(sys::WriteFileAtomically(sys_, conf_.Sub(name), text, 0644));
  }
  void MakePlugin(const std::string& name) {
    ASSERT_OK(
        sys::WriteFileAtomically(sys_, bin_.Sub(name), "#!/bin/true\n", 0755));
  }
  static std::string List(const std::string& name, const std::string& type) {
    return absl::StrCat(R"({"cniVersion":"1.0.0","name":")", name,
                        R"(","plugins":[{"type":")", type, R"("}]})");
  }

  sys::RealSys sys_;
  sys::TempDir conf_;
  sys::TempDir bin_;
  ConfigLoader loader_{conf_.path(), {bin_.path()}};
};

TEST_F(ConfigLoaderTest, EmptyDirIsNotReady) {
  EXPECT_THAT(loader_.Default(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(conf_.path()),
                             HasSubstr("no *.conflist, *.conf or *.json"))));
  EXPECT_THAT(loader_.Ready(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(ConfigLoaderTest, FirstValidFileByNameIsTheDefault) {
  Write("05-bad.conflist", "{oops");
  Write("10-b.conf", R"({"cniVersion":"1.0.0","name":"b","type":"p"})");
  Write("20-a.conflist", List("a", "p"));
  Write("00-ignored.txt", List("ignored", "p"));
  ASSERT_OK_AND_ASSIGN(auto network, loader_.Default());
  EXPECT_EQ(network->name, "b");
}

TEST_F(ConfigLoaderTest, NoValidFileNamesEachFileAndWhy) {
  Write("10-a.conflist", "{\n  \"name\": }");
  Write("20-b.json", R"({"cniVersion":"1.0.0","name":"b"})");
  EXPECT_THAT(
      loader_.Default(),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("10-a.conflist: invalid JSON at line 2"),
                     HasSubstr("20-b.json: plugins[0].type: missing"))));
}

TEST_F(ConfigLoaderTest, ReadyNeedsEveryPluginBinary) {
  Write(
      "10-a.conflist",
      R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"p"},{"type":"q"}]})");
  MakePlugin("p");
  EXPECT_THAT(loader_.Ready(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("network a"), HasSubstr("10-a.conflist"),
                             HasSubstr("plugin \"q\" not found"))));
  MakePlugin("q");
  EXPECT_OK(loader_.Ready());
}

TEST_F(ConfigLoaderTest, PicksUpChangesWithoutRestart) {
  Write("10-a.conflist", List("first", "p"));
  ASSERT_OK_AND_ASSIGN(auto first, loader_.Default());
  EXPECT_EQ(first->name, "first");
  // Unchanged: the very same object, nothing re-read.
  ASSERT_OK_AND_ASSIGN(auto again, loader_.Default());
  EXPECT_EQ(first.get(), again.get());
  // Rewritten (a new inode via rename), and a new earlier file.
  Write("10-a.conflist", List("second", "p"));
  ASSERT_OK_AND_ASSIGN(auto second, loader_.Default());
  EXPECT_EQ(second->name, "second");
  Write("01-z.conflist", List("third", "p"));
  ASSERT_OK_AND_ASSIGN(auto third, loader_.Default());
  EXPECT_EQ(third->name, "third");
  // The old snapshot is still intact for whoever holds it.
  EXPECT_EQ(first->name, "first");
  ASSERT_EQ(::unlink(conf_.Sub("01-z.conflist").c_str()), 0);
  ASSERT_EQ(::unlink(conf_.Sub("10-a.conflist").c_str()), 0);
  EXPECT_THAT(loader_.Default(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace podsandbox::cni
