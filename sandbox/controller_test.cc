// The controller's logic without root: a fake OCI runtime
// (oci/testing/fake_oci_runtime.h), fake namespace pins
// (sandbox/testing/fake_pod_netns.h) and fake CNI plugins (testdata/cni)
// stand in for the kernel and the binaries. What is checked is the order
// and the decisions: what is refused before any side effect, name
// reservation, the journal's order on both paths, Stop and Remove's
// idempotence, and what recovery does with each state a record can be in.
// The privileged tests (controller_privileged_test) hold the kernel truth.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "oci/runtime_handler.h"
#include "oci/runtime_type.h"
#include "oci/testing/fake_oci_runtime.h"
#include "sandbox/controller_impl.h"
#include "sandbox/record.h"
#include "sandbox/store.h"
#include "sandbox/testing/fake_pod_netns.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::oci::testing::FakeOciRuntime;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Verb = FakeOciRuntime::Verb;

class ControllerLogicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.Sub("root");
    state_ = dir_.Sub("state");
    conf_dir_ = dir_.Sub("net.d");
    pins_ = dir_.Sub("pins");
    cni_calls_ = dir_.Sub("cni-calls");
    for (const std::string& d : {conf_dir_, pins_}) {
      ASSERT_OK(sys::MakeDirs(real_, d, 0755));
    }
    ASSERT_OK(sys::WriteFileAtomically(
        real_, conf_dir_ + "/10-fake.conflist",
        absl::StrCat(R"({"cniVersion":"1.0.0","name":"fakenet","plugins":[)",
                     R"({"type":"fake-result","recordFile":")", cni_calls_,
                     R"("}]})"),
        0644));
  }

  // A controller on the fakes, started (recovery included). Its hooks are
  // set before Init, so recovery reports through them too.
  absl::StatusOr<std::unique_ptr<ControllerImpl>> Start() {
    ControllerOptions o;
    o.root_dir = root_;
    o.state_dir = state_;
    o.cni_conf_dir = conf_dir_;
    char cwd[4096];
    o.cni_bin_dirs = {
        absl::StrCat(::getcwd(cwd, sizeof(cwd)), "/testdata/cni/plugins")};
    o.pause_binary = "sandbox/pause/pause";
    o.stop_grace_period = absl::ZeroDuration();
    o.overlap_network_with_create = overlap_network_with_create_;
    oci::RuntimeHandler runc;
    runc.name = "runc";
    runc.type = oci::RuntimeType::kRunc;
    runc.path = "/usr/sbin/runc";  // never run: the fake stands in
    runc.root = state_ + "/runtime/runc";
    o.runtime_handlers = {runc};
    ASSIGN_OR_RETURN(oci::HandlerRegistry handlers,
                     CompleteControllerOptions(o));
    ControllerImpl::Seams seams;
    seams.netns = std::make_unique<testing::FakePodNetns>(pins_);
    seams.make_runtime = runtime_.Factory();
    // The fake's containers die at SIGKILL at once; a kill the test fails
    // need not be waited for long.
    seams.kill_wait = absl::Milliseconds(200);
    // Mounting the pod's tmpfs needs root: a plain directory stands in.
    seams.shm = PodShmOps{
        [this](const std::string& dir, std::optional<PodFileOwner>) {
          return sys::MakeDirs(real_, dir, 0700);
        },
        [this](const std::string& dir) { return sys::RemoveTree(real_, dir); }};
    auto c = std::make_unique<ControllerImpl>(
        real_, std::move(o), std::move(handlers), std::move(seams));
    c->SetCrashPointHookForTesting(
        [this](absl::string_view point) { points_.emplace_back(point); });
    c->SetStepHookForTesting(
        [this](Step step) { steps_.emplace_back(StepName(step)); });
    RETURN_IF_ERROR(c->Init());
    return c;
  }

  // A pod with its own network and no user namespace (its pod files then
  // need no chown, which needs root).
  static PodConfig Pod(absl::string_view name) {
    PodConfig config;
    config.metadata = {std::string(name), absl::StrCat("uid-", name), "logic",
                       0};
    config.hostname = std::string(name);
    config.dns.servers = {"10.96.0.10"};
    return config;
  }

  // The CNI commands the fake plugin saw, in order ("ADD", "DEL").
  std::vector<std::string> CniCommands() {
    std::vector<std::string> out;
    for (absl::string_view line : absl::StrSplit(
             sys::ReadFile(cni_calls_).value_or(""), '\n', absl::SkipEmpty())) {
      out.emplace_back(line.substr(0, line.find(' ')));
    }
    return out;
  }

  std::vector<std::string> Pins() {
    absl::StatusOr<std::vector<std::string>> netns =
        sys::ListDir(pins_ + "/netns");
    return netns.value_or(std::vector<std::string>());
  }

  std::vector<std::string> Records() {
    std::vector<std::string> out;
    for (const std::string& name : sys::ListDir(root_ + "/sandboxes")
                                       .value_or(std::vector<std::string>())) {
      if (absl::EndsWith(name, ".json")) out.push_back(name);
    }
    return out;
  }

  // Only journal entries, of the crash points seen.
  std::vector<std::string> Journalled() {
    std::vector<std::string> out;
    for (const std::string& p : points_) {
      if (absl::StartsWith(p, "journalled ")) out.push_back(p.substr(11));
    }
    return out;
  }

  sys::RealSys real_;
  sys::TempDir dir_{"/tmp"};
  std::string root_, state_, conf_dir_, pins_, cni_calls_;
  FakeOciRuntime runtime_;
  bool overlap_network_with_create_ = true;
  std::vector<std::string> points_;
  std::vector<std::string> steps_;
};

// Each refusal comes before the name, the journal or any fake is touched.
TEST_F(ControllerLogicTest, RefusalsComeBeforeAnySideEffect) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControllerImpl> c, Start());
  points_.clear();  // recovery's, at Start
  PodConfig bad = Pod("bad");
  bad.metadata.uid = "";
  EXPECT_THAT(c->RunPodSandbox(bad, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("config.metadata.uid")));
  EXPECT_THAT(c->RunPodSandbox(Pod("a"), "gvisor"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  runtime_.FailNext(Verb::kCheckCanRun,
                    absl::FailedPreconditionError("cannot run that"));
  EXPECT_THAT(c->RunPodSandbox(Pod("a"), ""),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::HasSubstr("cannot run that")));
  EXPECT_TRUE(runtime_.AllInjectedFired());
  EXPECT_EQ(runtime_.count(Verb::kCreate), 0);
  EXPECT_THAT(Pins(), IsEmpty());
  EXPECT_THAT(Records(), IsEmpty());
  EXPECT_THAT(CniCommands(), IsEmpty());
  EXPECT_THAT(points_, IsEmpty());
  // Nothing was reserved: the same name runs now.
  ASSERT_OK_AND_ASSIGN(std::string id, c->RunPodSandbox(Pod("a"), ""));
  ASSERT_OK(c->RemovePodSandbox(id));
}

TEST_F(ControllerLogicTest, SameRequestGetsItsSandboxAnotherIsRefused) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControllerImpl> c, Start());
  ASSERT_OK_AND_ASSIGN(std::string id, c->RunPodSandbox(Pod("a"), ""));
  EXPECT_THAT(c->RunPodSandbox(Pod("a"), ""), IsOkAndHolds(id));
  EXPECT_EQ(runtime_.count(Verb::kCreate), 1);
  PodConfig other = Pod("a");
  other.hostname = "other";
  EXPECT_THAT(c->RunPodSandbox(other, ""),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // A stopped holder is not ready: the retry is refused until Remove.
  ASSERT_OK(c->StopPodSandbox(id));
  EXPECT_THAT(c->RunPodSandbox(Pod("a"), ""),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK(c->RemovePodSandbox(id));
  ASSERT_OK_AND_ASSIGN(std::string again, c->RunPodSandbox(Pod("a"), ""));
  EXPECT_NE(again, id);
  ASSERT_OK(c->RemovePodSandbox(again));
}

// Journal entries precede their side effects, in the order the path runs:
// with ADD beside the runtime's create the pod files (which name the IPs)
// come after the task's entry, between create and start.
TEST_F(ControllerLogicTest, JournalOrderFollowsThePath) {
  struct Path {
    bool overlap;
    std::vector<std::string> journalled;
    std::vector<std::string> done;
  };
  for (const Path& path : std::vector<Path>{
           {true,
            {"shm", "namespaces", "network", "task", "pod_files"},
            {"shm", "namespaces", "network", "pod_files", "task"}},
           {false,
            {"shm", "namespaces", "network", "pod_files", "task"},
            {"shm", "namespaces", "network", "pod_files", "task"}}}) {
    SCOPED_TRACE(path.overlap ? "overlapped" : "sequential");
    overlap_network_with_create_ = path.overlap;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControllerImpl> c, Start());
    points_.clear();
    steps_.clear();
    ASSERT_OK_AND_ASSIGN(std::string id, c->RunPodSandbox(Pod("j"), ""));
    EXPECT_EQ(Journalled(), path.journalled);
    EXPECT_EQ(steps_, path.done);
    ASSERT_OK(c->RemovePodSandbox(id));
  }
}

// A failing step unwinds the ones before it, newest first, with the same
// undos Stop uses; nothing stays, not even the record.
TEST_F(ControllerLogicTest, FailedCreateRollsBackEveryEarlierStep) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControllerImpl> c, Start());
  runtime_.FailNext(Verb::kStart, absl::InternalError("start failed"));
  EXPECT_THAT(c->RunPodSandbox(Pod("f"), ""),
              StatusIs(absl::StatusCode::kInternal,
                       ::testing::HasSubstr("start failed")));
  EXPECT_TRUE(runtime_.AllInjectedFired());
  EXPECT_THAT(CniCommands(), ElementsAre("ADD", "DEL"));
  EXPECT_THAT(runtime_.containers(), IsEmpty());
  EXPECT_THAT(Pins(), IsEmpty());
  EXPECT_THAT(Records(), IsEmpty());
  EXPECT_THAT(sys::ListDir(state_ + "/pods"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(c->ListPodSandbox({}), IsEmpty());
}

TEST_F(ControllerLogicTest, StopAndRemoveAreIdempotent) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControllerImpl> c, Start());
  ASSERT_OK_AND_ASSIGN(std::string id, c->RunPodSandbox(Pod("s"), ""));
  ASSERT_OK(c->StopPodSandbox(id));
  const int kills = runtime_.count(Verb::kKill);
  EXPECT_GE(kills, 1);
  EXPECT_THAT(CniCommands(), ElementsAre("ADD", "DEL"));
  EXPECT_THAT(Pins(), IsEmpty());
  // Stopped: a second Stop (and the one inside Remove) runs nothing.
  ASSERT_OK(c->StopPodSandbox(id));
  EXPECT_EQ(runtime_.count(Verb::kKill), kills);
  EXPECT_THAT(CniCommands(), SizeIs(2));
  ASSERT_OK(c->RemovePodSandbox(id));
  EXPECT_EQ(runtime_.count(Verb::kKill), kills);
  EXPECT_THAT(runtime_.containers(), IsEmpty());
  EXPECT_THAT(Records(), IsEmpty());
  // Gone, or never there: OK, as CRI wants; an empty id is a bad request.
  EXPECT_OK(c->StopPodSandbox(id));
  EXPECT_OK(c->RemovePodSandbox(id));
  EXPECT_OK(c->StopPodSandbox("0123456789abcdef"));
  EXPECT_THAT(c->StopPodSandbox(""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// A kill that fails beside DEL: DEL is done and leaves the journal, the
// kill's error comes back, the pins stay, and the next Stop only kills.
TEST_F(ControllerLogicTest, FailedKillBesideDelIsRetriedAlone) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControllerImpl> c, Start());
  ASSERT_OK_AND_ASSIGN(std::string id, c->RunPodSandbox(Pod("k"), ""));
  runtime_.FailNext(Verb::kKill, absl::InternalError("kill failed"), 2);
  EXPECT_THAT(c->StopPodSandbox(id),
              StatusIs(absl::StatusCode::kInternal,
                       ::testing::HasSubstr("kill failed")));
  EXPECT_TRUE(runtime_.AllInjectedFired());
  EXPECT_THAT(CniCommands(), ElementsAre("ADD", "DEL"));
  EXPECT_THAT(Pins(), ElementsAre(id));
  ASSERT_OK(c->StopPodSandbox(id));
  EXPECT_THAT(CniCommands(), ElementsAre("ADD", "DEL"));
  EXPECT_THAT(Pins(), IsEmpty());
  ASSERT_OK(c->RemovePodSandbox(id));
}

// Recovery's decision for each state a record can be in at start.
TEST_F(ControllerLogicTest, RecoveryDecidesByTheRecordsState) {
  std::string live, dead, stopped;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControllerImpl> c, Start());
    ASSERT_OK_AND_ASSIGN(live, c->RunPodSandbox(Pod("live"), ""));
    ASSERT_OK_AND_ASSIGN(dead, c->RunPodSandbox(Pod("dead"), ""));
    ASSERT_OK_AND_ASSIGN(stopped, c->RunPodSandbox(Pod("stopped"), ""));
    ASSERT_OK(c->StopPodSandbox(stopped));
  }
  // While we were away: one pause died.
  pid_t dead_pid = runtime_.pid(dead);
  ASSERT_GT(dead_pid, 0);
  ASSERT_EQ(::kill(dead_pid, SIGKILL), 0);
  ASSERT_EQ(::waitpid(dead_pid, nullptr, 0), dead_pid);
  // And one RunPodSandbox was cut short after all four steps: a record
  // still creating, each step's leftover there.
  SandboxRecord creating;
  creating.id = std::string(64, 'c');
  creating.config = Pod("creating");
  creating.runtime_handler = "runc";
  creating.phase = Phase::kCreating;
  creating.steps = {Step::kNamespaces, Step::kNetwork, Step::kTask,
                    Step::kPodFiles};
  {
    testing::FakePodNetns netns(pins_);
    ASSERT_OK(netns.Create(creating.id, nullptr).status());
    ASSERT_OK(sys::MakeDirs(real_, state_ + "/pods/" + creating.id, 0755));
    Store store(real_, root_ + "/sandboxes");
    ASSERT_OK(store.Save(creating, /*durable=*/true));
  }
  // And a pin nothing records: an orphan.
  {
    testing::FakePodNetns netns(pins_);
    ASSERT_OK(netns.Create("orphan", nullptr).status());
  }

  points_.clear();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControllerImpl> c, Start());
  auto state_of = [&c](const std::string& id) {
    absl::StatusOr<SandboxStatus> s = c->PodSandboxStatus(id, false);
    return s.ok() ? s->state : SandboxState::kNotReady;
  };
  EXPECT_EQ(state_of(live), SandboxState::kReady);  // re-attached
  EXPECT_EQ(state_of(dead), SandboxState::kNotReady);
  EXPECT_THAT(c->PodSandboxStatus(stopped, false),
              IsOkAndHolds(::testing::Field(&SandboxStatus::state,
                                            SandboxState::kNotReady)));
  // The creating one is rolled back, newest step first, and forgotten.
  EXPECT_THAT(c->PodSandboxStatus(creating.id, false),
              StatusIs(absl::StatusCode::kNotFound));
  std::vector<std::string> undone;
  for (const std::string& p : points_) {
    if (absl::StartsWith(p, "recover: undid ")) undone.push_back(p.substr(15));
  }
  EXPECT_THAT(undone,
              ElementsAre("pod_files", "task", "network", "namespaces"));
  EXPECT_THAT(Records(), SizeIs(3));
  EXPECT_THAT(
      sys::ListDir(state_ + "/pods"),
      IsOkAndHolds(::testing::UnorderedElementsAre(live, dead, stopped)));
  // The orphan pin is collected; the live and dead pods keep theirs for
  // Stop (and every listed pod its files, for Remove).
  EXPECT_THAT(Pins(), ::testing::UnorderedElementsAre(live, dead));

  for (const std::string& id : {live, dead, stopped}) {
    ASSERT_OK(c->RemovePodSandbox(id));
  }
  EXPECT_THAT(Pins(), IsEmpty());
  EXPECT_THAT(Records(), IsEmpty());
  EXPECT_THAT(runtime_.containers(), IsEmpty());
}

// A record still creating, for each journal a crash can leave (one step
// journalled, two, ... all four, in the overlapped order): recovery undoes
// exactly the journalled steps, newest first, and forgets the sandbox.
TEST_F(ControllerLogicTest, CreatingRecordRollsBackExactlyItsJournal) {
  const std::vector<Step> order = {Step::kNamespaces, Step::kNetwork,
                                   Step::kTask, Step::kPodFiles};
  for (size_t n = 1; n <= order.size(); ++n) {
    SandboxRecord record;
    record.id = std::string(64, static_cast<char>('0' + n));
    SCOPED_TRACE(absl::StrCat(n, " steps journalled"));
    record.config = Pod(absl::StrCat("creating", n));
    record.runtime_handler = "runc";
    record.phase = Phase::kCreating;
    record.steps.assign(order.begin(), order.begin() + n);
    {
      testing::FakePodNetns netns(pins_);
      ASSERT_OK(netns.Init());
      ASSERT_OK(netns.Create(record.id, nullptr).status());
      Store store(real_, root_ + "/sandboxes");
      ASSERT_OK(store.Init());
      ASSERT_OK(store.Save(record, /*durable=*/true));
    }
    points_.clear();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControllerImpl> c, Start());
    std::vector<std::string> undone;
    for (const std::string& p : points_) {
      if (absl::StartsWith(p, "recover: undid ")) {
        undone.push_back(p.substr(15));
      }
    }
    std::vector<std::string> expected;
    for (size_t i = n; i > 0; --i) {
      expected.emplace_back(StepName(order[i - 1]));
    }
    EXPECT_EQ(undone, expected);
    EXPECT_THAT(Records(), IsEmpty());
    EXPECT_THAT(Pins(), IsEmpty());  // the namespaces' undo, or an orphan
    EXPECT_THAT(c->ListPodSandbox({}), IsEmpty());
  }
}

}  // namespace
}  // namespace podsandbox::sandbox
