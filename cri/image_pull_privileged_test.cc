// podsandboxd pulling images end to end: the real daemon (from
// PodsandboxdTestBase) configured with [registries] for a real registry
// (Debian's docker-registry) behind a GatedProxy that can hold a layer
// mid-transfer. Needs root.
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "image/manifest.h"
#include "image/testing/gated_proxy.h"
#include "image/testing/image_builder.h"
#include "image/testing/pusher.h"
#include "image/testing/registry.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::podsandbox::image::testing::BuiltImage;
using ::podsandbox::image::testing::BuiltLayer;
using ::podsandbox::image::testing::Compression;
using ::podsandbox::image::testing::GatedProxy;
using ::podsandbox::image::testing::TarEntry;
using ::podsandbox::image::testing::TestRegistry;

PodsandboxdTestBase::Options FixtureOptions() {
  PodsandboxdTestBase::Options options;
  options.bridge = "psbimg0";
  options.subnet = "10.242.0.0/24";
  options.network_name = "psb-image-test";
  return options;
}

absl::StatusOr<BuiltImage> BusyboxImage() {
  ASSIGN_OR_RETURN(std::vector<TarEntry> entries,
                   image::testing::BusyboxEntries());
  ASSIGN_OR_RETURN(BuiltLayer base,
                   image::testing::MakeLayer(entries, Compression::kGzip));
  TarEntry marker;
  marker.path = "etc/image-name";
  marker.data = "killed mid-pull";
  ASSIGN_OR_RETURN(BuiltLayer top,
                   image::testing::MakeLayer({marker}, Compression::kGzip));
  return image::testing::MakeImage({base, top}, image::HostPlatform());
}

class ImagePullTest : public PodsandboxdTestBase {
 protected:
  ImagePullTest() : PodsandboxdTestBase(FixtureOptions()) {}

  // The registry and the proxy are our children: gone before the leak
  // check's snapshot is compared.
  void TearDown() override {
    proxy_.reset();
    registry_.reset();
    PodsandboxdTestBase::TearDown();
  }

  // The registry, the image in it, and a proxy holding the image's base
  // layer (the large one: busybox), which the daemon's config names as an
  // insecure registry host.
  void SetUpRegistry() {
    ASSERT_OK_AND_ASSIGN(registry_, TestRegistry::Start(sys_));
    ASSERT_OK_AND_ASSIGN(image_, BusyboxImage());
    image::testing::Pusher pusher(registry_->url(), registry_->http_options());
    ASSERT_OK(image::testing::PushImage(pusher, "kill/mid-pull", "v1", image_)
                  .status());
    ASSERT_OK_AND_ASSIGN(proxy_, GatedProxy::Start(sys_, registry_->host(),
                                                   image_.layers[0].digest));
    WriteAll(config(), absl::StrCat(ReadAll(config()), "\n[registries.\"",
                                    proxy_->host(), "\"]\ninsecure = true\n"));
    ref_ = absl::StrCat(proxy_->host(), "/kill/mid-pull:v1");
  }

  std::unique_ptr<v1::ImageService::Stub> Images() {
    return v1::ImageService::NewStub(channel());
  }

  grpc::Status Pull(v1::ImageService::Stub& images, std::string* image_ref) {
    v1::PullImageRequest request;
    request.mutable_image()->set_image(ref_);
    v1::PullImageResponse response;
    grpc::Status s = images.PullImage(RpcContext().get(), request, &response);
    *image_ref = response.image_ref();
    return s;
  }

  int ListedImages(v1::ImageService::Stub& images) {
    v1::ListImagesResponse response;
    grpc::Status s = images.ListImages(RpcContext().get(), {}, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.images_size();
  }

  std::string Tmp() const { return root() + "/images/tmp"; }

  sys::RealSys sys_;
  std::unique_ptr<TestRegistry> registry_;
  BuiltImage image_;
  std::unique_ptr<GatedProxy> proxy_;
  std::string ref_;
};

// SIGKILL while a layer is half downloaded and half unpacked: after the
// restart nothing of the pull is listed and its temp files are collected;
// then the same pull succeeds.
TEST_F(ImagePullTest, SigkillMidPullLeavesNothingAndThePullThenSucceeds) {
  ASSERT_NO_FATAL_FAILURE(SetUpRegistry());
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  std::unique_ptr<v1::ImageService::Stub> images = Images();

  grpc::Status killed_pull;
  std::string unused;
  std::thread puller([&] { killed_pull = Pull(*images, &unused); });
  // Mid-pull, provably: the proxy has sent half of the base layer and
  // waits, and the daemon has the layer's temp directory open in tmp/.
  ASSERT_OK(proxy_->WaitUntilHolding(absl::Seconds(60)));
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (CountFiles(Tmp()) == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));  // polling, with a deadline
  }
  ASSERT_GT(CountFiles(Tmp()), 0) << "no temp directory while mid-pull";
  EXPECT_EQ(ListedImages(*images), 0);

  StopDaemon(SIGKILL);
  puller.join();
  EXPECT_FALSE(killed_pull.ok());
  // What the kill left: temp files and no record (the small top layer
  // may have been committed already: no record references it).
  EXPECT_GT(CountFiles(Tmp()), 0);
  EXPECT_EQ(CountFiles(root() + "/images/images"), 0);

  // Restart: before the socket serves, tmp/ is emptied and what no record
  // references is collected; nothing is listed.
  CloseClient();
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  images = Images();
  EXPECT_EQ(CountFiles(Tmp()), 0);
  EXPECT_EQ(CountFiles(root() + "/images/layers"), 0);
  EXPECT_EQ(CountFiles(root() + "/images/blobs/sha256"), 0);
  EXPECT_EQ(ListedImages(*images), 0);
  v1::ImageStatusRequest status_request;
  status_request.mutable_image()->set_image(ref_);
  v1::ImageStatusResponse status;
  ASSERT_TRUE(
      images->ImageStatus(RpcContext().get(), status_request, &status).ok());
  EXPECT_FALSE(status.has_image());

  ASSERT_OK(proxy_->Release());
  std::string image_ref;
  grpc::Status s = Pull(*images, &image_ref);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(image_ref, image_.config_digest.String());
  ASSERT_TRUE(
      images->ImageStatus(RpcContext().get(), status_request, &status).ok());
  ASSERT_TRUE(status.has_image());
  EXPECT_EQ(status.image().id(), image_ref);
  EXPECT_EQ(proxy_->HoldCount(), 2);  // the killed GET, then this one's

  // Leave the store as the fixture expects it: empty.
  v1::RemoveImageRequest remove;
  remove.mutable_image()->set_image(image_ref);
  v1::RemoveImageResponse removed;
  s = images->RemoveImage(RpcContext().get(), remove, &removed);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ListedImages(*images), 0);
}

}  // namespace
}  // namespace podsandbox::cri
