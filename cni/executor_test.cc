// The executor against fake plugins (testdata/cni/plugins): the exec
// protocol, chaining, caching, rollback and every way a plugin can
// misbehave. No root needed: the fakes touch nothing but their record file.
#include "cni/executor.h"

#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/file.h"
#include "sys/proc.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cni {
namespace {

using json = nlohmann::json;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string FakePluginDir() {
  char cwd[4096];
  return absl::StrCat(::getcwd(cwd, sizeof(cwd)), "/testdata/cni/plugins");
}

// One recorded plugin call.
struct Call {
  std::string command;
  std::string plugin;
  json stdin_json;
};

class ExecutorTest : public ::testing::Test {
 protected:
  // Writes a list of the given plugin types; each records its calls and
  // carries a "tag" naming its position.
  void WriteList(const std::vector<std::string>& types,
                 const std::string& extra_field = "") {
    json plugins = json::array();
    for (size_t i = 0; i < types.size(); ++i) {
      json p = {{"type", types[i]},
                {"recordFile", record_},
                {"tag", absl::StrCat("p", i)},
                {"pidFile", dir_.Sub("pids")},
                {"capabilities", {{"portMappings", true}}}};
      if (!extra_field.empty()) p[extra_field] = "11";
      plugins.push_back(p);
    }
    json list = {
        {"cniVersion", "1.0.0"}, {"name", "fakenet"}, {"plugins", plugins}};
    ASSERT_OK(sys::WriteFileAtomically(sys_, conf_dir_ + "/10-fake.conflist",
                                       list.dump(), 0644));
  }

  std::vector<Call> Calls() {
    std::vector<Call> calls;
    absl::StatusOr<std::string> text = sys::ReadFile(record_);
    if (!text.ok()) return calls;
    for (absl::string_view line :
         absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
      std::vector<std::string> parts =
          absl::StrSplit(line, absl::MaxSplits(' ', 2));
      calls.push_back(
          {parts[0], parts[1], json::parse(parts[2], nullptr, false)});
    }
    return calls;
  }

  // "ADD p0", "DEL p1", ...: the order plugins ran in.
  std::vector<std::string> Sequence() {
    std::vector<std::string> out;
    for (const Call& c : Calls()) {
      out.push_back(
          absl::StrCat(c.command, " ", c.stdin_json.value("tag", "")));
    }
    return out;
  }

  Attachment Pod() {
    Attachment a;
    a.container_id = "c0ffee";
    a.netns = dir_.Sub("netns-pin");
    a.pod_namespace = "default";
    a.pod_name = "web";
    a.pod_uid = "uid-1";
    a.port_mappings = {{8080, 80, "tcp", ""}};
    return a;
  }

  bool Cached() {
    return sys::ReadFile(cache_dir_ + "/results/fakenet-c0ffee-eth0").ok();
  }

  sys::RealSys real_;
  sys::FaultySys sys_{real_};
  sys::TempDir dir_;
  std::string conf_dir_ = dir_.Sub("net.d");
  std::string cache_dir_ = dir_.Sub("cache");
  std::string record_ = dir_.Sub("record");
  absl::Duration timeout_ = absl::Seconds(20);
  Executor executor_{sys_, conf_dir_, {FakePluginDir()}, cache_dir_, timeout_};

  void SetUp() override { ASSERT_OK(sys::MakeDirs(sys_, conf_dir_, 0755)); }
};

TEST_F(ExecutorTest, AddChainsResultsAndCachesThenDelUndoesInReverse) {
  WriteList({"fake-result", "fake-result"});
  ASSERT_OK(executor_.Ready());
  ASSERT_OK_AND_ASSIGN(Result result, executor_.Add(Pod()));
  EXPECT_THAT(result.PodIps(), ElementsAre("10.99.0.5"));
  EXPECT_EQ(result.interfaces[0].sandbox, Pod().netns);
  EXPECT_TRUE(Cached());

  std::vector<Call> calls = Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_FALSE(calls[0].stdin_json.contains("prevResult"));
  EXPECT_EQ(calls[1].stdin_json["prevResult"]["ips"][0]["address"],
            "10.99.0.5/24");
  for (const Call& c : calls) {
    EXPECT_EQ(c.stdin_json["name"], "fakenet");
    EXPECT_EQ(c.stdin_json["cniVersion"], "1.0.0");
    EXPECT_FALSE(c.stdin_json.contains("capabilities"));
    EXPECT_EQ(c.stdin_json["runtimeConfig"]["portMappings"][0]["hostPort"],
              8080);
  }
  ASSERT_OK_AND_ASSIGN(std::string env, sys::ReadFile(record_ + ".env"));
  EXPECT_THAT(env, AllOf(HasSubstr("CNI_COMMAND=ADD\n"),
                         HasSubstr("CNI_CONTAINERID=c0ffee\n"),
                         HasSubstr(absl::StrCat("CNI_NETNS=", Pod().netns))));
  EXPECT_THAT(env, HasSubstr("CNI_IFNAME=eth0\n"));
  EXPECT_THAT(env,
              HasSubstr("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;"
                        "K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=c0ffee;"
                        "K8S_POD_UID=uid-1\n"));
  EXPECT_THAT(env, HasSubstr(absl::StrCat("CNI_PATH=", FakePluginDir(), "\n")));

  // DEL needs only the ids: arguments and result come from the cache.
  Attachment del;
  del.container_id = "c0ffee";
  ASSERT_OK(executor_.Del(del));
  EXPECT_THAT(Sequence(), ElementsAre("ADD p0", "ADD p1", "DEL p1", "DEL p0"));
  calls = Calls();
  EXPECT_EQ(calls[2].stdin_json["prevResult"]["ips"][0]["address"],
            "10.99.0.5/24");
  EXPECT_EQ(calls[2].stdin_json["runtimeConfig"]["portMappings"][0]["hostPort"],
            8080);
  // The pin does not exist, so DEL goes without CNI_NETNS.
  ASSERT_OK_AND_ASSIGN(env, sys::ReadFile(record_ + ".env"));
  EXPECT_THAT(env, Not(HasSubstr("CNI_NETNS")));
  EXPECT_FALSE(Cached());

  // Again, with no cache: DEL with today's config, and still OK.
  ASSERT_OK(executor_.Del(del));
  EXPECT_THAT(Sequence(), ElementsAre("ADD p0", "ADD p1", "DEL p1", "DEL p0",
                                      "DEL p1", "DEL p0"));
}

TEST_F(ExecutorTest, DelUsesTheCachedConfigAfterTheConfChanged) {
  WriteList({"fake-result", "fake-result"});
  ASSERT_OK(executor_.Add(Pod()).status());
  WriteList({"fake-result"});
  ASSERT_OK(executor_.Del(Pod()));
  EXPECT_THAT(Sequence(), ElementsAre("ADD p0", "ADD p1", "DEL p1", "DEL p0"));
}

TEST_F(ExecutorTest, DelWithNoConfigAndNoCacheSucceeds) {
  EXPECT_OK(executor_.Del(Pod()));
}

TEST_F(ExecutorTest, CheckRunsForwardWithTheCachedResult) {
  WriteList({"fake-result", "fake-result"});
  EXPECT_THAT(executor_.Check(Pod()), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(executor_.Add(Pod()).status());
  ASSERT_OK(executor_.Check(Pod()));
  EXPECT_THAT(Sequence(),
              ElementsAre("ADD p0", "ADD p1", "CHECK p0", "CHECK p1"));
  EXPECT_TRUE(Calls()[2].stdin_json.contains("prevResult"));
  ASSERT_OK(executor_.Del(Pod()));
}

TEST_F(ExecutorTest, NotReadyWithoutConfigOrPlugin) {
  EXPECT_THAT(executor_.Ready(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                          HasSubstr(conf_dir_)));
  EXPECT_THAT(executor_.Add(Pod()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  WriteList({"fake-result", "no-such-plugin"});
  EXPECT_THAT(executor_.Ready(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("plugin \"no-such-plugin\" not found")));
}

TEST_F(ExecutorTest, BadAttachmentRunsNothing) {
  WriteList({"fake-result"});
  Attachment a = Pod();
  a.container_id = "../etc";
  EXPECT_THAT(executor_.Add(a), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("container_id")));
  EXPECT_THAT(executor_.Del(a), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Calls(), IsEmpty());
}

TEST_F(ExecutorTest, ErrorObjectIsReportedAndTheListRolledBack) {
  WriteList({"fake-result", "fake-error", "fake-result"});
  EXPECT_THAT(
      executor_.Add(Pod()),
      StatusIs(absl::StatusCode::kUnknown,
               AllOf(HasSubstr("network fakenet"),
                     HasSubstr("plugin fake-error ADD failed: code 7: fake "
                               "failure; asked to fail"),
                     Not(HasSubstr("stderr")))));
  EXPECT_THAT(Sequence(),
              ElementsAre("ADD p0", "ADD p1", "DEL p2", "DEL p1", "DEL p0"));
  for (const Call& c : Calls()) {
    if (c.command == "DEL") EXPECT_FALSE(c.stdin_json.contains("prevResult"));
  }
  EXPECT_FALSE(Cached());
}

TEST_F(ExecutorTest, TryAgainLaterIsUnavailable) {
  WriteList({"fake-error"}, "errorCode");
  EXPECT_THAT(executor_.Add(Pod()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("code 11")));
}

TEST_F(ExecutorTest, StderrIsTheMessageWhenStdoutHasNoErrorObject) {
  WriteList({"fake-stderr"});
  EXPECT_THAT(executor_.Add(Pod()),
              StatusIs(absl::StatusCode::kUnknown,
                       AllOf(HasSubstr("plugin fake-stderr ADD failed"),
                             HasSubstr("exit code 2"),
                             HasSubstr("fake plugin broke: no such thing"))));
  EXPECT_THAT(Sequence(), ElementsAre("ADD p0", "DEL p0"));
}

TEST_F(ExecutorTest, GarbageOutputIsAnError) {
  WriteList({"fake-garbage"});
  EXPECT_THAT(executor_.Add(Pod()),
              StatusIs(absl::StatusCode::kUnknown,
                       AllOf(HasSubstr("fake-garbage ADD returned an invalid "
                                       "result"),
                             HasSubstr("invalid JSON at line 1"))));
  EXPECT_THAT(Sequence(), ElementsAre("ADD p0", "DEL p0"));
  EXPECT_FALSE(Cached());
}

TEST_F(ExecutorTest, EmptyAddOutputIsAnError) {
  WriteList({"fake-result", "fake-empty"});
  EXPECT_THAT(executor_.Add(Pod()),
              StatusIs(absl::StatusCode::kUnknown,
                       HasSubstr("fake-empty ADD returned no result")));
  EXPECT_THAT(Sequence(), ElementsAre("ADD p0", "ADD p1", "DEL p1", "DEL p0"));
}

TEST_F(ExecutorTest, HugeOutputIsCappedAndRefused) {
  WriteList({"fake-flood"});
  EXPECT_THAT(executor_.Add(Pod()),
              StatusIs(absl::StatusCode::kUnknown,
                       HasSubstr("output over 1048576 bytes")));
  EXPECT_THAT(Sequence(), ElementsAre("ADD p0", "DEL p0"));
}

bool Gone(pid_t pid) {
  absl::StatusOr<sys::ProcStat> stat = sys::ReadProcStat(pid);
  // A zombie is dead; reaping it is its new parent's business.
  return !stat.ok() || stat->state == 'Z';
}

TEST_F(ExecutorTest, HungPluginAndItsChildAreKilledAtTheDeadline) {
  WriteList({"fake-result", "fake-hang"});
  Executor executor(sys_, conf_dir_, {FakePluginDir()}, cache_dir_,
                    absl::Milliseconds(1500));
  EXPECT_THAT(executor.Add(Pod()),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       AllOf(HasSubstr("plugin fake-hang ADD"),
                             HasSubstr("process group was killed"))));
  // The rollback ran (fake-hang hangs on ADD only).
  EXPECT_THAT(Sequence(), ElementsAre("ADD p0", "ADD p1", "DEL p1", "DEL p0"));
  ASSERT_OK_AND_ASSIGN(std::string pids, sys::ReadFile(dir_.Sub("pids")));
  std::vector<std::string> fields =
      absl::StrSplit(pids, absl::ByAnyChar(" \n"), absl::SkipEmpty());
  ASSERT_EQ(fields.size(), 2u);
  for (const std::string& field : fields) {
    pid_t pid;
    ASSERT_TRUE(absl::SimpleAtoi(field, &pid));
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!Gone(pid) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_TRUE(Gone(pid)) << "pid " << pid << " survived";
  }
  EXPECT_FALSE(Cached());
}

TEST_F(ExecutorTest, FailedCacheWriteUndoesTheAdd) {
  WriteList({"fake-result"});
  sys_.FailAlways(sys::SysCall::kRename, EIO);
  EXPECT_THAT(executor_.Add(Pod()),
              StatusIs(absl::StatusCode::kUnknown,  // EIO
                       HasSubstr("write CNI result cache")));
  EXPECT_THAT(Sequence(), ElementsAre("ADD p0", "DEL p0"));
  EXPECT_FALSE(Cached());
}

TEST_F(ExecutorTest, ParallelContainersDoNotInterfere) {
  WriteList({"fake-result"});
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      Attachment a = Pod();
      a.container_id = absl::StrCat("pod", i);
      absl::StatusOr<Result> r = executor_.Add(a);
      results[i] = r.ok() ? executor_.Del(a) : r.status();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_OK(s);
  ASSERT_OK_AND_ASSIGN(CacheLookup left,
                       ResultCache(sys_, cache_dir_).Find("pod0", "eth0"));
  EXPECT_THAT(left.entries, IsEmpty());
}

}  // namespace
}  // namespace podsandbox::cni
