// The client against fake services: what it sends, what it returns, how a
// server's error and a passed deadline come back.
#include "cri/client/cri_client.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cri::client {
namespace {

namespace v1 = ::runtime::v1;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Answers from fixed data and records what it was asked.
class FakeRuntime final : public v1::RuntimeService::Service {
 public:
  grpc::Status Version(grpc::ServerContext*, const v1::VersionRequest* request,
                       v1::VersionResponse* response) override {
    response->set_version(request->version());
    response->set_runtime_name("fake");
    return grpc::Status::OK;
  }

  grpc::Status RunPodSandbox(grpc::ServerContext*,
                             const v1::RunPodSandboxRequest* request,
                             v1::RunPodSandboxResponse* response) override {
    absl::MutexLock lock(&mu_);
    last_run_ = *request;
    response->set_pod_sandbox_id("0123abcd");
    return grpc::Status::OK;
  }

  grpc::Status PodSandboxStatus(grpc::ServerContext*,
                                const v1::PodSandboxStatusRequest* request,
                                v1::PodSandboxStatusResponse*) override {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "pod sandbox " + request->pod_sandbox_id());
  }

  grpc::Status ListPodSandbox(grpc::ServerContext*,
                              const v1::ListPodSandboxRequest* request,
                              v1::ListPodSandboxResponse* response) override {
    // One pod per label the filter selects, named after its value.
    for (const auto& [key, value] : request->filter().label_selector()) {
      response->add_items()->set_id(value);
    }
    return grpc::Status::OK;
  }

  // Holds the call until the test releases it.
  grpc::Status StopPodSandbox(grpc::ServerContext*,
                              const v1::StopPodSandboxRequest*,
                              v1::StopPodSandboxResponse*) override {
    release_stop_.WaitForNotification();
    return grpc::Status::OK;
  }

  v1::RunPodSandboxRequest last_run() {
    absl::MutexLock lock(&mu_);
    return last_run_;
  }
  void ReleaseStop() { release_stop_.Notify(); }

 private:
  absl::Mutex mu_;
  v1::RunPodSandboxRequest last_run_ ABSL_GUARDED_BY(mu_);
  absl::Notification release_stop_;
};

class FakeImages final : public v1::ImageService::Service {
 public:
  grpc::Status PullImage(grpc::ServerContext*,
                         const v1::PullImageRequest* request,
                         v1::PullImageResponse* response) override {
    if (request->auth().username() != "alice" ||
        request->auth().password() != "secret") {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "who are you");
    }
    response->set_image_ref("sha256:" + request->image().image());
    return grpc::Status::OK;
  }

  grpc::Status ImageStatus(grpc::ServerContext*, const v1::ImageStatusRequest*,
                           v1::ImageStatusResponse*) override {
    // Absent: no image, no error.
    return grpc::Status::OK;
  }
};

class CriClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(&runtime_);
    builder.RegisterService(&images_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    runtime_.ReleaseStop();
    server_->Shutdown();
  }

  sys::TempDir dir_{"/tmp"};  // a unix socket path must fit in 108 bytes
  const std::string socket_ = "unix://" + dir_.Sub("cri.sock");
  FakeRuntime runtime_;
  FakeImages images_;
  std::unique_ptr<grpc::Server> server_;
};

TEST(NormalizeEndpointTest, BarePathBecomesUnixUri) {
  EXPECT_EQ(NormalizeEndpoint("/run/x.sock"), "unix:///run/x.sock");
  EXPECT_EQ(NormalizeEndpoint("unix:///run/x.sock"), "unix:///run/x.sock");
}

TEST_F(CriClientTest, CallsOverTheSocketByBarePath) {
  CriClient client(socket_.substr(strlen("unix://")), absl::Seconds(30));
  absl::StatusOr<v1::VersionResponse> version = client.Version();
  ASSERT_OK(version.status());
  EXPECT_EQ(version->version(), "v1");
  EXPECT_EQ(version->runtime_name(), "fake");
}

TEST_F(CriClientTest, RunSendsConfigAndHandler) {
  CriClient client(socket_, absl::Seconds(30));
  v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name("web");
  EXPECT_THAT(client.RunPodSandbox(config, "crun"), IsOkAndHolds("0123abcd"));
  EXPECT_EQ(runtime_.last_run().config().metadata().name(), "web");
  EXPECT_EQ(runtime_.last_run().runtime_handler(), "crun");
}

TEST_F(CriClientTest, ListSendsTheFilter) {
  CriClient client(socket_, absl::Seconds(30));
  v1::PodSandboxFilter filter;
  (*filter.mutable_label_selector())["app"] = "web";
  absl::StatusOr<std::vector<v1::PodSandbox>> pods =
      client.ListPodSandbox(filter);
  ASSERT_OK(pods.status());
  ASSERT_EQ(pods->size(), 1u);
  EXPECT_EQ((*pods)[0].id(), "web");
}

TEST_F(CriClientTest, ServerErrorKeepsCodeAndMessage) {
  CriClient client(socket_, absl::Seconds(30));
  EXPECT_THAT(client.PodSandboxStatus("feed", /*verbose=*/true).status(),
              StatusIs(absl::StatusCode::kNotFound, "pod sandbox feed"));
}

TEST_F(CriClientTest, UnimplementedRpcIsUnimplemented) {
  CriClient client(socket_, absl::Seconds(30));
  EXPECT_THAT(client.ImageFsInfo().status(),
              StatusIs(absl::StatusCode::kUnimplemented));
}

TEST_F(CriClientTest, DeadlinePassedIsDeadlineExceeded) {
  // The fake holds StopPodSandbox until released, so only the client's
  // deadline can end the call.
  CriClient client(socket_, absl::Milliseconds(200));
  EXPECT_THAT(client.StopPodSandbox("slow"),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(CriClientTest, NobodyServingIsUnavailable) {
  CriClient client(dir_.Sub("nobody.sock"), absl::Seconds(30));
  EXPECT_THAT(client.Version().status(),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(CriClientTest, ImageCallsOverAnInProcessChannel) {
  CriClient client(server_->InProcessChannel(grpc::ChannelArguments()),
                   absl::Seconds(30));
  v1::ImageSpec image;
  image.set_image("busybox");
  v1::AuthConfig auth;
  auth.set_username("alice");
  auth.set_password("secret");
  EXPECT_THAT(client.PullImage(image, auth), IsOkAndHolds("sha256:busybox"));
  EXPECT_THAT(client.PullImage(image, {}).status(),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("who")));
  absl::StatusOr<v1::ImageStatusResponse> status =
      client.ImageStatus(image, /*verbose=*/false);
  ASSERT_OK(status.status());
  EXPECT_FALSE(status->has_image());
}

}  // namespace
}  // namespace podsandbox::cri::client
