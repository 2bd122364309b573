#include "cri/image_service.h"

#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The service on a real gRPC server, reached through an in-process channel:
// the same callback path as over the daemon's socket, without one.
class ImageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::ImageService::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return context;
  }

  ImageService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::ImageService::Stub> stub_;
};

TEST_F(ImageServiceTest, ImageFsInfoIsOkAndEmpty) {
  v1::ImageFsInfoResponse response;
  grpc::Status s = stub_->ImageFsInfo(Context().get(), {}, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.image_filesystems_size(), 0);
  EXPECT_EQ(response.container_filesystems_size(), 0);
}

MATCHER_P(IsUnimplementedNaming, method, "") {
  return arg.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
         ::testing::ExplainMatchResult(
             AllOf(HasSubstr(method), HasSubstr("keeps no images")),
             arg.error_message(), result_listener);
}

TEST_F(ImageServiceTest, EveryOtherRpcIsUnimplementedNamingItself) {
  {
    v1::ListImagesResponse response;
    EXPECT_THAT(stub_->ListImages(Context().get(), {}, &response),
                IsUnimplementedNaming("ListImages"));
  }
  {
    v1::ImageStatusResponse response;
    EXPECT_THAT(stub_->ImageStatus(Context().get(), {}, &response),
                IsUnimplementedNaming("ImageStatus"));
  }
  {
    v1::PullImageResponse response;
    EXPECT_THAT(stub_->PullImage(Context().get(), {}, &response),
                IsUnimplementedNaming("PullImage"));
  }
  {
    v1::RemoveImageResponse response;
    EXPECT_THAT(stub_->RemoveImage(Context().get(), {}, &response),
                IsUnimplementedNaming("RemoveImage"));
  }
}

}  // namespace
}  // namespace podsandbox::cri
