// PodSandboxStats and ListPodSandboxStats through the service on a real
// gRPC server (in-process channel), over a fake Controller and a
// PodStatsReader on a fake cgroup tree and link reader: the refusals, the
// filters, which pods are left out, the CPU samples forgotten after an
// unfiltered list, and answers while the controller's operations hang.
// No root needed.
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/pod_stats.h"
#include "cri/runtime_service.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

// Pods kept in a map; List honours the filter as the real Controller does
// (exact id, state, labels); Status resolves a unique id prefix. Stop
// blocks while held, as behind a hung runtime.
class FakeController : public sandbox::Controller {
 public:
  void Put(const std::string& id, sandbox::SandboxState state,
           std::map<std::string, std::string> labels) {
    absl::MutexLock lock(&mu_);
    sandbox::SandboxStatus& s = pods_[id];
    s.id = id;
    s.state = state;
    s.config.labels = std::move(labels);
    s.config.cgroup_parent = absl::StrCat("/pods/", id);
    s.info_json = absl::StrCat(R"({"netNamespacePath": "/pins/)", id, R"("})");
  }
  void Drop(const std::string& id) {
    absl::MutexLock lock(&mu_);
    pods_.erase(id);
  }
  void HoldStops(bool hold) {
    absl::MutexLock lock(&mu_);
    hold_ = hold;
  }
  bool AwaitBlockedStop() {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&blocked_), absl::Minutes(1));
  }

  // sandbox::Controller
  absl::StatusOr<std::string> RunPodSandbox(const sandbox::PodConfig&,
                                            absl::string_view) override {
    return absl::UnimplementedError("not in this test");
  }
  absl::Status StopPodSandbox(absl::string_view) override {
    absl::MutexLock lock(&mu_);
    blocked_ = true;
    mu_.Await(absl::Condition(
        +[](bool* hold) { return !*hold; }, &hold_));
    blocked_ = false;
    return absl::OkStatus();
  }
  absl::Status RemovePodSandbox(absl::string_view) override {
    return absl::OkStatus();
  }
  absl::StatusOr<sandbox::SandboxStatus> PodSandboxStatus(
      absl::string_view id, bool verbose) override {
    absl::MutexLock lock(&mu_);
    const sandbox::SandboxStatus* found = nullptr;
    for (const auto& [pod_id, status] : pods_) {
      if (pod_id == id) return Shown(status, verbose);
      if (absl::StartsWith(pod_id, id)) {
        if (found != nullptr) return absl::NotFoundError("ambiguous");
        found = &status;
      }
    }
    if (found == nullptr) return absl::NotFoundError("no such sandbox");
    return Shown(*found, verbose);
  }
  std::vector<sandbox::SandboxStatus> ListPodSandbox(
      const sandbox::ListFilter& filter) override {
    absl::MutexLock lock(&mu_);
    std::vector<sandbox::SandboxStatus> out;
    for (const auto& [id, status] : pods_) {
      if (filter.id.has_value() && *filter.id != id) continue;
      if (filter.state.has_value() && *filter.state != status.state) continue;
      bool labels = true;
      for (const auto& [k, v] : filter.label_selector) {
        auto it = status.config.labels.find(k);
        labels = labels && it != status.config.labels.end() && it->second == v;
      }
      if (labels) out.push_back(Shown(status, false));
    }
    return out;
  }
  absl::Status NetworkReady() override { return absl::OkStatus(); }
  absl::Status RuntimeReady() override { return absl::OkStatus(); }

 private:
  static sandbox::SandboxStatus Shown(sandbox::SandboxStatus s, bool verbose) {
    if (!verbose) s.info_json.clear();
    return s;
  }

  absl::Mutex mu_;
  std::map<std::string, sandbox::SandboxStatus> pods_ ABSL_GUARDED_BY(mu_);
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  bool blocked_ ABSL_GUARDED_BY(mu_) = false;
};

// A v2 cgroup with `usec` of CPU and one process below it.
void PutCgroup(const std::string& root, const std::string& id, uint64_t usec) {
  const std::string dir = absl::StrCat(root, "/pods/", id);
  std::error_code ignored;  // the writes below fail the test instead
  std::filesystem::create_directories(dir + "/pause", ignored);
  std::ofstream(dir + "/cpu.stat") << "usage_usec " << usec << "\n";
  std::ofstream(dir + "/memory.current") << "4096\n";
  std::ofstream(dir + "/pause/cgroup.procs") << "1\n";
  ASSERT_TRUE(std::filesystem::exists(dir + "/pause/cgroup.procs"));
}

class PodStatsRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuntimeServiceOptions options;
    options.handlers = {{"runc", true}};
    options.default_handler = "runc";
    options.stop_remove_workers = 1;
    options.pod_stats = std::make_shared<PodStatsReader>(
        CgroupRootsFor(sys::CgroupLayout::kV2, {}, tmp_.path()),
        [](absl::string_view path)
            -> absl::StatusOr<std::vector<netns::LinkStats>> {
          // The pod's name in its pin path, so each pod's eth0 differs.
          return std::vector<netns::LinkStats>{
              {"lo", 1, true, 0, 0, 0, 0},
              {"eth0", 2, false, path.size(), 0, 0, 0}};
        });
    service_ = std::make_unique<RuntimeService>(controller_, options);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::RuntimeService::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }

  void TearDown() override {
    controller_.HoldStops(false);
    server_->Shutdown();
    server_->Wait();
    service_.reset();
  }

  // A liveness bound, not a timing assertion.
  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    return context;
  }

  grpc::Status Stats(const std::string& id, v1::PodSandboxStats* out) {
    v1::PodSandboxStatsRequest request;
    request.set_pod_sandbox_id(id);
    v1::PodSandboxStatsResponse response;
    grpc::Status s =
        stub_->PodSandboxStats(Context().get(), request, &response);
    *out = response.stats();
    return s;
  }

  // The ids listed, in order.
  std::vector<std::string> List(
      const v1::PodSandboxStatsFilter& filter,
      std::vector<v1::PodSandboxStats>* stats = nullptr) {
    v1::ListPodSandboxStatsRequest request;
    *request.mutable_filter() = filter;
    v1::ListPodSandboxStatsResponse response;
    grpc::Status s =
        stub_->ListPodSandboxStats(Context().get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const v1::PodSandboxStats& p : response.stats()) {
      ids.push_back(p.attributes().id());
      if (stats != nullptr) stats->push_back(p);
    }
    return ids;
  }

  sys::TempDir tmp_;
  FakeController controller_;
  std::unique_ptr<RuntimeService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::RuntimeService::Stub> stub_;
};

TEST_F(PodStatsRpcTest, RefusalsAndOnePodsNumbers) {
  controller_.Put("abc1", sandbox::SandboxState::kReady, {{"app", "a"}});
  controller_.Put("abd2", sandbox::SandboxState::kNotReady, {{"app", "b"}});
  PutCgroup(tmp_.path(), "abc1", 5);
  v1::PodSandboxStats stats;
  EXPECT_EQ(Stats("", &stats).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Stats("zzz", &stats).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Stats("abd2", &stats).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  grpc::Status s = Stats("abc", &stats);  // a unique prefix
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(stats.attributes().id(), "abc1");
  EXPECT_EQ(stats.linux().cpu().usage_core_nano_seconds().value(), 5000u);
  EXPECT_EQ(stats.linux().memory().usage_bytes().value(), 4096u);
  EXPECT_EQ(stats.linux().process().process_count().value(), 1u);
  EXPECT_EQ(stats.linux().network().default_interface().rx_bytes().value(),
            std::string("/pins/abc1").size());
  EXPECT_EQ(stats.linux().containers_size(), 0);  // no container manager
}

TEST_F(PodStatsRpcTest, ListFiltersAndLeavesOutPodsThatAreNotReady) {
  controller_.Put("abc1", sandbox::SandboxState::kReady, {{"app", "a"}});
  controller_.Put("abc2", sandbox::SandboxState::kReady, {{"app", "b"}});
  controller_.Put("xyz3", sandbox::SandboxState::kNotReady, {{"app", "a"}});
  using Ids = std::vector<std::string>;
  v1::PodSandboxStatsFilter filter;
  EXPECT_EQ(List(filter), (Ids{"abc1", "abc2"}));
  filter.set_id("abc2");
  EXPECT_EQ(List(filter), (Ids{"abc2"}));
  filter.set_id("abc1");
  EXPECT_EQ(List(filter), (Ids{"abc1"}));
  filter.set_id("xy");  // unique, but not ready
  EXPECT_EQ(List(filter), Ids{});
  filter.set_id("abc");  // ambiguous: matches nothing
  EXPECT_EQ(List(filter), Ids{});
  filter.clear_id();
  (*filter.mutable_label_selector())["app"] = "a";
  EXPECT_EQ(List(filter), (Ids{"abc1"}));
  (*filter.mutable_label_selector())["app"] = "c";
  EXPECT_EQ(List(filter), Ids{});
}

TEST_F(PodStatsRpcTest, RatesFromTheSecondSampleAndForgottenOnceGone) {
  controller_.Put("abc1", sandbox::SandboxState::kReady, {});
  PutCgroup(tmp_.path(), "abc1", 1000);
  std::vector<v1::PodSandboxStats> first, second;
  ASSERT_EQ(List({}, &first).size(), 1u);
  EXPECT_FALSE(first[0].linux().cpu().has_usage_nano_cores());
  PutCgroup(tmp_.path(), "abc1", 2000);
  ASSERT_EQ(List({}, &second).size(), 1u);
  EXPECT_TRUE(second[0].linux().cpu().has_usage_nano_cores());

  // Gone from an unfiltered list: its sample goes, so when an id comes
  // back its first sample has no rate again.
  controller_.Drop("abc1");
  EXPECT_TRUE(List({}).empty());
  controller_.Put("abc1", sandbox::SandboxState::kReady, {});
  std::vector<v1::PodSandboxStats> again;
  ASSERT_EQ(List({}, &again).size(), 1u);
  EXPECT_FALSE(again[0].linux().cpu().has_usage_nano_cores());
}

TEST_F(PodStatsRpcTest, AnswersWhileAStopHangs) {
  controller_.Put("abc1", sandbox::SandboxState::kReady, {});
  controller_.HoldStops(true);
  v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id("abc1");
  grpc::Status stop_status;
  std::thread stopper([&] {
    v1::StopPodSandboxResponse response;
    grpc::ClientContext context;  // no deadline: released below
    stop_status = stub_->StopPodSandbox(&context, stop, &response);
  });
  ASSERT_TRUE(controller_.AwaitBlockedStop());
  v1::PodSandboxStats stats;
  EXPECT_TRUE(Stats("abc1", &stats).ok());
  EXPECT_EQ(List({}).size(), 1u);
  controller_.HoldStops(false);
  stopper.join();
  EXPECT_TRUE(stop_status.ok());
}

}  // namespace
}  // namespace podsandbox::cri
