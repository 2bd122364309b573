#include "cri/runtime_service.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sandbox/controller.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::testing::HasSubstr;

// A Controller whose Run, Stop and Remove block while the test holds them,
// as they do behind a hung CNI plugin, and whose readiness checks report
// (and, when held, block) as the test says. It counts what reached it.
class FakeController : public sandbox::Controller {
 public:
  // While held, RunPodSandbox, StopPodSandbox and RemovePodSandbox wait.
  void HoldOperations(bool hold) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    hold_operations_ = hold;
  }
  // While held, RuntimeReady waits (it has already answered once, for the
  // service's first check).
  void HoldChecks(bool hold) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    hold_checks_ = hold;
  }
  void SetRuntimeReady(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    runtime_ready_ = std::move(status);
  }

  // Waits until `n` operations are blocked (or a minute passed: then the
  // test fails on the count it sees).
  int AwaitBlockedOperations(int n) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return blocked_operations_ >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Minutes(1));
    return blocked_operations_;
  }
  // Waits until a RuntimeReady check is blocked; false after a minute.
  bool AwaitBlockedCheck() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&check_blocked_),
                                absl::Minutes(1));
  }
  int runs() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return runs_;
  }
  // StopPodSandbox and RemovePodSandbox calls that reached the Controller.
  int stop_removes() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return stop_removes_;
  }

  // sandbox::Controller
  absl::StatusOr<std::string> RunPodSandbox(
      const sandbox::PodConfig& config,
      absl::string_view runtime_handler) override {
    Block(&runs_);
    return absl::StrCat("id-", config.metadata.name);
  }
  absl::Status StopPodSandbox(absl::string_view id) override {
    Block(&stop_removes_);
    return absl::OkStatus();
  }
  absl::Status RemovePodSandbox(absl::string_view id) override {
    Block(&stop_removes_);
    return absl::OkStatus();
  }
  absl::StatusOr<sandbox::SandboxStatus> PodSandboxStatus(
      absl::string_view id, bool verbose) override {
    if (id != "ready") return absl::NotFoundError("no such sandbox");
    return Ready();
  }
  std::vector<sandbox::SandboxStatus> ListPodSandbox(
      const sandbox::ListFilter& filter) override {
    return {Ready()};
  }
  absl::Status NetworkReady() override { return absl::OkStatus(); }
  absl::Status RuntimeReady() override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (hold_checks_) {
      check_blocked_ = true;
      mu_.Await(absl::Condition(
          +[](bool* hold) { return !*hold; }, &hold_checks_));
      check_blocked_ = false;
    }
    return runtime_ready_;
  }

 private:
  static sandbox::SandboxStatus Ready() {
    sandbox::SandboxStatus status;
    status.id = "ready";
    status.state = sandbox::SandboxState::kReady;
    status.created_at = absl::UnixEpoch();
    return status;
  }

  void Block(int* counter) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (counter != nullptr) ++*counter;
    ++blocked_operations_;
    mu_.Await(absl::Condition(
        +[](bool* hold) { return !*hold; }, &hold_operations_));
    --blocked_operations_;
  }

  absl::Mutex mu_;
  bool hold_operations_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_checks_ ABSL_GUARDED_BY(mu_) = false;
  bool check_blocked_ ABSL_GUARDED_BY(mu_) = false;
  int blocked_operations_ ABSL_GUARDED_BY(mu_) = 0;
  int runs_ ABSL_GUARDED_BY(mu_) = 0;
  int stop_removes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status runtime_ready_ ABSL_GUARDED_BY(mu_);
};

// One RPC started on the callback stub; Wait returns its status.
class PendingCall {
 public:
  grpc::ClientContext context;
  void Done(grpc::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
    done_ = true;
  }
  grpc::Status Wait() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }

 private:
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// The statuses of calls as they finish, in finishing order.
class Outcomes {
 public:
  void Add(grpc::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    statuses_.push_back(std::move(status));
  }
  // Waits until `n` calls finished (or a minute passed: then the test
  // fails on what it sees) and returns them.
  std::vector<grpc::Status> Await(size_t n) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return statuses_.size() >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Minutes(1));
    return statuses_;
  }

 private:
  absl::Mutex mu_;
  std::vector<grpc::Status> statuses_ ABSL_GUARDED_BY(mu_);
};

v1::RunPodSandboxRequest RunRequest(absl::string_view name) {
  v1::RunPodSandboxRequest request;
  v1::PodSandboxMetadata* metadata =
      request.mutable_config()->mutable_metadata();
  metadata->set_name(std::string(name));
  metadata->set_namespace_("test");
  metadata->set_uid(absl::StrCat("uid-", name));
  return request;
}

// The service on a real gRPC server, reached through an in-process channel:
// the same callback path as over the daemon's socket, without one.
class RuntimeServiceTest : public ::testing::Test {
 protected:
  static constexpr int kMaxRuns = 3;
  static constexpr int kStopRemoveQueue = 2;

  void Start(absl::Duration readiness_ttl = absl::Seconds(2)) {
    RuntimeServiceOptions options;
    options.handlers = {{"runc", true}};
    options.default_handler = "runc";
    options.max_concurrent_run_pod_sandbox = kMaxRuns;
    options.stop_remove_workers = 1;
    options.stop_remove_queue = kStopRemoveQueue;
    options.readiness_ttl = readiness_ttl;
    service_ = std::make_unique<RuntimeService>(controller_, options);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::RuntimeService::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }

  void TearDown() override {
    // Whatever a failed test left blocked must end, or Shutdown waits.
    controller_.HoldOperations(false);
    controller_.HoldChecks(false);
    if (server_ != nullptr) {
      server_->Shutdown();
      server_->Wait();
    }
    service_.reset();
  }

  // A deadline is a liveness bound here, not a timing assertion: a call
  // that waits behind blocked work would wait until released, forever.
  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    return context;
  }

  std::map<std::string, const v1::RuntimeCondition*> Conditions(
      const v1::StatusResponse& response) {
    std::map<std::string, const v1::RuntimeCondition*> out;
    for (const v1::RuntimeCondition& c : response.status().conditions()) {
      out[c.type()] = &c;
    }
    return out;
  }

  FakeController controller_;
  std::unique_ptr<RuntimeService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::RuntimeService::Stub> stub_;
};

TEST_F(RuntimeServiceTest, ReadRpcsAnswerWhileRunStopAndRemoveAreBlocked) {
  ASSERT_NO_FATAL_FAILURE(Start());
  controller_.HoldOperations(true);
  std::vector<std::unique_ptr<PendingCall>> calls;
  std::vector<v1::RunPodSandboxRequest> run_requests;
  std::vector<v1::RunPodSandboxResponse> run_responses(kMaxRuns);
  for (int i = 0; i < kMaxRuns; ++i)
    run_requests.push_back(RunRequest(absl::StrCat("pod", i)));
  for (int i = 0; i < kMaxRuns; ++i) {
    calls.push_back(std::make_unique<PendingCall>());
    PendingCall* call = calls.back().get();
    stub_->async()->RunPodSandbox(&call->context, &run_requests[i],
                                  &run_responses[i],
                                  [call](grpc::Status s) { call->Done(s); });
  }
  v1::StopPodSandboxRequest stop_request;
  stop_request.set_pod_sandbox_id("ready");
  v1::StopPodSandboxResponse stop_response;
  calls.push_back(std::make_unique<PendingCall>());
  PendingCall* stop = calls.back().get();
  stub_->async()->StopPodSandbox(&stop->context, &stop_request, &stop_response,
                                 [stop](grpc::Status s) { stop->Done(s); });
  v1::RemovePodSandboxRequest remove_request;
  remove_request.set_pod_sandbox_id("ready");
  v1::RemovePodSandboxResponse remove_response;
  calls.push_back(std::make_unique<PendingCall>());
  PendingCall* remove = calls.back().get();
  stub_->async()->RemovePodSandbox(
      &remove->context, &remove_request, &remove_response,
      [remove](grpc::Status s) { remove->Done(s); });
  // Every Run and the Stop are inside the Controller and blocked; the
  // Remove waits for the one Stop/Remove worker.
  ASSERT_EQ(controller_.AwaitBlockedOperations(kMaxRuns + 1), kMaxRuns + 1);

  for (int round = 0; round < 20; ++round) {
    v1::VersionResponse version;
    grpc::Status s = stub_->Version(Context().get(), {}, &version);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(version.runtime_api_version(), "v1");

    v1::StatusRequest status_request;
    status_request.set_verbose(true);
    v1::StatusResponse status;
    s = stub_->Status(Context().get(), status_request, &status);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(Conditions(status)["RuntimeReady"]->status());
    EXPECT_TRUE(Conditions(status)["NetworkReady"]->status());

    v1::ListPodSandboxResponse list;
    s = stub_->ListPodSandbox(Context().get(), {}, &list);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(list.items_size(), 1);
    EXPECT_EQ(list.items(0).id(), "ready");

    v1::PodSandboxStatusRequest pod_request;
    pod_request.set_pod_sandbox_id("ready");
    v1::PodSandboxStatusResponse pod;
    s = stub_->PodSandboxStatus(Context().get(), pod_request, &pod);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(pod.status().state(), v1::SANDBOX_READY);
  }

  // Saturated: one more Run is refused at once and never reaches the
  // Controller; a bad one is still refused for what is wrong with it.
  v1::RunPodSandboxResponse response;
  grpc::Status refused =
      stub_->RunPodSandbox(Context().get(), RunRequest("extra"), &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(),
              HasSubstr(absl::StrCat("podsandboxd is saturated: ", kMaxRuns,
                                     " RunPodSandbox calls in progress")));
  grpc::Status invalid = stub_->RunPodSandbox(Context().get(), {}, &response);
  EXPECT_EQ(invalid.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(invalid.error_message(), HasSubstr("config: must be set"));
  EXPECT_EQ(controller_.runs(), kMaxRuns);

  controller_.HoldOperations(false);
  for (std::unique_ptr<PendingCall>& call : calls) {
    grpc::Status s = call->Wait();
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  for (int i = 0; i < kMaxRuns; ++i) {
    EXPECT_EQ(run_responses[i].pod_sandbox_id(), absl::StrCat("id-pod", i));
  }
  // The slots were given back before the replies went out.
  grpc::Status again =
      stub_->RunPodSandbox(Context().get(), RunRequest("extra"), &response);
  EXPECT_TRUE(again.ok()) << again.error_message();
  EXPECT_EQ(response.pod_sandbox_id(), "id-extra");
  EXPECT_EQ(controller_.runs(), kMaxRuns + 1);
}

TEST_F(RuntimeServiceTest, StopAndRemovePastTheQueueBoundAreRefusedAtOnce) {
  ASSERT_NO_FATAL_FAILURE(Start());
  controller_.HoldOperations(true);
  Outcomes outcomes;
  // Enough storage for every call: the stub reads and writes these until
  // the call finishes.
  constexpr int kCalls = 1 + kStopRemoveQueue + 1;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  v1::StopPodSandboxRequest stop_request;
  stop_request.set_pod_sandbox_id("ready");
  v1::RemovePodSandboxRequest remove_request;
  remove_request.set_pod_sandbox_id("ready");
  std::vector<v1::StopPodSandboxResponse> stop_responses(kCalls);
  std::vector<v1::RemovePodSandboxResponse> remove_responses(kCalls);
  auto send = [&](int i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    auto done = [&outcomes](grpc::Status s) { outcomes.Add(std::move(s)); };
    if (i % 2 == 0) {
      stub_->async()->StopPodSandbox(contexts.back().get(), &stop_request,
                                     &stop_responses[i], done);
    } else {
      stub_->async()->RemovePodSandbox(contexts.back().get(), &remove_request,
                                       &remove_responses[i], done);
    }
  };
  // Whatever happens below, the calls end before what they use goes.
  absl::Cleanup end_calls = [&] {
    controller_.HoldOperations(false);
    outcomes.Await(contexts.size());
  };
  // The one worker holds the first call inside the Controller, so what
  // follows can only queue: kStopRemoveQueue calls do, the next is refused.
  send(0);
  ASSERT_EQ(controller_.AwaitBlockedOperations(1), 1);
  for (int i = 1; i < kCalls; ++i) send(i);
  // Nothing else can finish while the Controller is held: the first call
  // to finish is the refusal, answered without waiting for a worker.
  std::vector<grpc::Status> finished = outcomes.Await(1);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(finished[0].error_message(),
              HasSubstr(absl::StrCat("podsandboxd is saturated: ",
                                     kStopRemoveQueue, " calls queued")));
  EXPECT_THAT(finished[0].error_message(),
              HasSubstr("(limits.stop_remove_queue)"));

  // Saturated, the reads still answer inline.
  v1::VersionResponse version;
  grpc::Status s = stub_->Version(Context().get(), {}, &version);
  EXPECT_TRUE(s.ok()) << s.error_message();
  v1::StatusResponse status;
  s = stub_->Status(Context().get(), {}, &status);
  EXPECT_TRUE(s.ok()) << s.error_message();
  v1::ListPodSandboxResponse list;
  s = stub_->ListPodSandbox(Context().get(), {}, &list);
  EXPECT_TRUE(s.ok()) << s.error_message();
  v1::PodSandboxStatusRequest pod_request;
  pod_request.set_pod_sandbox_id("ready");
  v1::PodSandboxStatusResponse pod;
  s = stub_->PodSandboxStatus(Context().get(), pod_request, &pod);
  EXPECT_TRUE(s.ok()) << s.error_message();

  // Released, every accepted call runs and succeeds; the refused one never
  // reached the Controller.
  controller_.HoldOperations(false);
  finished = outcomes.Await(kCalls);
  ASSERT_EQ(finished.size(), static_cast<size_t>(kCalls));
  for (int i = 1; i < kCalls; ++i) {
    EXPECT_TRUE(finished[i].ok()) << finished[i].error_message();
  }
  EXPECT_EQ(controller_.stop_removes(), kCalls - 1);
  // The queue drained: the bound refuses only while it is full.
  v1::StopPodSandboxResponse again;
  s = stub_->StopPodSandbox(Context().get(), stop_request, &again);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(RuntimeServiceTest, RuntimeNotReadyHasTheCheckersReason) {
  controller_.SetRuntimeReady(absl::FailedPreconditionError(
      "runtime handler runc: /bad/runc --version: exit code 1: broken"));
  ASSERT_NO_FATAL_FAILURE(Start());
  v1::StatusResponse status;
  grpc::Status s = stub_->Status(Context().get(), {}, &status);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::RuntimeCondition* runtime = Conditions(status)["RuntimeReady"];
  ASSERT_NE(runtime, nullptr);
  EXPECT_FALSE(runtime->status());
  EXPECT_EQ(runtime->reason(), "RuntimeNotReady");
  EXPECT_THAT(runtime->message(),
              HasSubstr("/bad/runc --version: exit code 1"));
  EXPECT_TRUE(Conditions(status)["NetworkReady"]->status());
}

TEST_F(RuntimeServiceTest, StatusNeverWaitsForARuntimeCheck) {
  // A zero TTL: every Status asks for a new check.
  ASSERT_NO_FATAL_FAILURE(Start(absl::ZeroDuration()));
  controller_.HoldChecks(true);
  controller_.SetRuntimeReady(absl::FailedPreconditionError("gone"));
  v1::StatusResponse status;
  grpc::Status s = stub_->Status(Context().get(), {}, &status);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(controller_.AwaitBlockedCheck());
  // The check hangs; Status answers with the last result meanwhile.
  for (int i = 0; i < 20; ++i) {
    s = stub_->Status(Context().get(), {}, &status);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(Conditions(status)["RuntimeReady"]->status());
  }
  controller_.HoldChecks(false);
  // The released check's result shows up (polled: the refresher stores it
  // after this thread was woken).
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  bool ready = true;
  while (ready && absl::Now() < deadline) {
    s = stub_->Status(Context().get(), {}, &status);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ready = Conditions(status)["RuntimeReady"]->status();
    if (ready) absl::SleepFor(absl::Milliseconds(10));  // polling
  }
  EXPECT_FALSE(ready);
  EXPECT_EQ(Conditions(status)["RuntimeReady"]->message(), "gone");
}

}  // namespace
}  // namespace podsandbox::cri
