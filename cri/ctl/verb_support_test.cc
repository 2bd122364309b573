#include "cri/ctl/verb_support.h"

#include <fstream>
#include <string>
#include <vector>

#include "cri/api.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cri::ctl {
namespace {

namespace v1 = ::runtime::v1;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ResolveIdPrefixTest, ExactIdWinsOverLongerIdsItPrefixes) {
  EXPECT_THAT(ResolveIdPrefix({"abc", "abcdef"}, "abc", "pod"),
              IsOkAndHolds("abc"));
}

TEST(ResolveIdPrefixTest, UniquePrefixNamesItsId) {
  EXPECT_THAT(ResolveIdPrefix({"abc1", "def2"}, "de", "pod"),
              IsOkAndHolds("def2"));
}

TEST(ResolveIdPrefixTest, UnknownIdIsPassedOnForTheRuntimeToRefuse) {
  EXPECT_THAT(ResolveIdPrefix({"abc1"}, "zz", "pod"), IsOkAndHolds("zz"));
}

TEST(ResolveIdPrefixTest, AmbiguousPrefixIsInvalidArgumentNamingTheKind) {
  EXPECT_THAT(ResolveIdPrefix({"ab1", "ab2"}, "ab", "container"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("container id prefix ab is ambiguous")));
}

TEST(ReadJsonMessageTest, ReadsLowerCamelCaseAndRefusesOtherText) {
  sys::TempDir dir;
  const std::string good = dir.Sub("good.json");
  std::ofstream(good) << R"({"metadata": {"name": "web"}, "logPath": "x"})";
  v1::ContainerConfig config;
  ASSERT_OK(ReadJsonMessage(good, config));
  EXPECT_EQ(config.metadata().name(), "web");
  EXPECT_EQ(config.log_path(), "x");

  const std::string bad = dir.Sub("bad.json");
  std::ofstream(bad) << "not json";
  EXPECT_THAT(ReadJsonMessage(bad, config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad)));
  EXPECT_THAT(ReadJsonMessage(dir.Sub("absent.json"), config),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(AddLabelsTest, SplitsAtTheFirstEquals) {
  v1::PodSandboxFilter filter;
  AddLabels({"app=web", "expr=a=b", "bare"}, filter.mutable_label_selector());
  EXPECT_EQ(filter.label_selector().at("app"), "web");
  EXPECT_EQ(filter.label_selector().at("expr"), "a=b");
  EXPECT_EQ(filter.label_selector().at("bare"), "");
}

TEST(NewestFirstTest, OrdersByCreationKeepingTiesAndCutsToLast) {
  std::vector<v1::PodSandbox> pods(4);
  const int64_t created[] = {10, 30, 20, 30};
  for (int i = 0; i < 4; ++i) {
    pods[i].set_id(std::to_string(i));
    pods[i].set_created_at(created[i]);
  }
  NewestFirst(pods, 0);
  std::vector<std::string> ids;
  for (const v1::PodSandbox& p : pods) ids.push_back(p.id());
  EXPECT_THAT(ids, ElementsAre("1", "3", "2", "0"));
  NewestFirst(pods, 2);
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_EQ(pods[1].id(), "3");
}

}  // namespace
}  // namespace podsandbox::cri::ctl
