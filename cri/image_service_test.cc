// The ImageService over an empty store, no registry: what it refuses
// before doing anything, what it answers for absent images, and the
// store's usage. Pulls from a real registry are in
// image_service_privileged_test (unpacking needs root).
#include "cri/image_service.h"

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "image/images.h"
#include "image/puller.h"
#include "image/registry_hosts.h"
#include "image/store.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::testing::AllOf;
using ::testing::HasSubstr;

MATCHER_P2(GrpcIs, code, message, "") {
  return arg.error_code() == code &&
         ::testing::ExplainMatchResult(HasSubstr(message), arg.error_message(),
                                       result_listener);
}

// The service on a real gRPC server, reached through an in-process channel:
// the same callback path as over the daemon's socket, without one.
class ImageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(store_.Init());
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::ImageService::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    service_.Shutdown();
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return context;
  }

  static image::RegistryHosts UnreachableHosts() {
    // Port 1 on loopback: nothing listens there, refused at once.
    image::HostConfig c;
    c.insecure = true;
    absl::StatusOr<image::RegistryHosts> hosts =
        image::RegistryHosts::Create({{"127.0.0.1:1", c}});
    return *hosts;
  }

  sys::RealSys sys_;
  sys::TempDir tmp_;
  image::Store store_{sys_, tmp_.Sub("images")};
  image::Images images_{store_};
  image::Puller puller_{sys_, store_, UnreachableHosts()};
  ImageService service_{images_, puller_};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::ImageService::Stub> stub_;
};

TEST_F(ImageServiceTest, ImageFsInfoNamesTheStoreDirectory) {
  v1::ImageFsInfoResponse response;
  grpc::Status s = stub_->ImageFsInfo(Context().get(), {}, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.image_filesystems_size(), 1);
  const v1::FilesystemUsage& fs = response.image_filesystems(0);
  EXPECT_EQ(fs.fs_id().mountpoint(), tmp_.Sub("images"));
  EXPECT_GT(fs.timestamp(), 0);
  EXPECT_TRUE(fs.has_used_bytes());
  EXPECT_TRUE(fs.has_inodes_used());
}

TEST_F(ImageServiceTest, EmptyImageNameIsRefusedNamingTheField) {
  {
    v1::PullImageResponse response;
    EXPECT_THAT(stub_->PullImage(Context().get(), {}, &response),
                GrpcIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "image.image: must not be empty"));
  }
  {
    v1::ImageStatusResponse response;
    EXPECT_THAT(stub_->ImageStatus(Context().get(), {}, &response),
                GrpcIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "image.image: must not be empty"));
  }
  {
    v1::RemoveImageResponse response;
    EXPECT_THAT(stub_->RemoveImage(Context().get(), {}, &response),
                GrpcIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "image.image: must not be empty"));
  }
}

TEST_F(ImageServiceTest, MalformedReferenceIsRefusedBeforePulling) {
  v1::PullImageRequest request;
  request.mutable_image()->set_image("Bad//Name:!");
  v1::PullImageResponse response;
  EXPECT_THAT(stub_->PullImage(Context().get(), request, &response),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "image.image"));
  EXPECT_EQ(puller_.layer_downloads(), 0);
}

TEST_F(ImageServiceTest, UnreachableRegistryIsUnavailable) {
  v1::PullImageRequest request;
  request.mutable_image()->set_image("127.0.0.1:1/a/b:c");
  v1::PullImageResponse response;
  grpc::Status s = stub_->PullImage(Context().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(response.image_ref(), "");
}

TEST_F(ImageServiceTest, AbsentImageIsAnEmptyStatusAndRemovesOk) {
  v1::ImageStatusRequest status;
  status.mutable_image()->set_image("busybox");
  v1::ImageStatusResponse status_response;
  grpc::Status s =
      stub_->ImageStatus(Context().get(), status, &status_response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(status_response.has_image());

  v1::RemoveImageRequest remove;
  remove.mutable_image()->set_image("busybox");
  v1::RemoveImageResponse remove_response;
  s = stub_->RemoveImage(Context().get(), remove, &remove_response);
  EXPECT_TRUE(s.ok()) << s.error_message();

  v1::ListImagesResponse list;
  s = stub_->ListImages(Context().get(), {}, &list);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(list.images_size(), 0);
}

}  // namespace
}  // namespace podsandbox::cri
