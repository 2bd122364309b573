// The ImageService over an in-process channel against a real registry
// (Debian's docker-registry behind htpasswd basic auth) and a real store:
// pulls with the request's credentials, status with the config's user and
// verbose info, list with a filter, remove by every kind of name and the
// in-use refusal, and the store's usage.
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/image_service.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "image/digest.h"
#include "image/images.h"
#include "image/manifest.h"
#include "image/puller.h"
#include "image/registry_hosts.h"
#include "image/store.h"
#include "image/testing/image_builder.h"
#include "image/testing/pusher.h"
#include "image/testing/registry.h"
#include "nlohmann/json.hpp"
#include "sys/log.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::podsandbox::image::Digest;
using ::podsandbox::image::testing::BuiltImage;
using ::podsandbox::image::testing::BuiltLayer;
using ::podsandbox::image::testing::Compression;
using ::podsandbox::image::testing::Pusher;
using ::podsandbox::image::testing::TarEntry;
using ::podsandbox::image::testing::TestRegistry;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kUser[] = "puller";
constexpr char kPassword[] = "s3cret";

// Busybox plus a file naming `tag`, with the config's User set to `user`:
// the manifest is rewritten around the changed config.
absl::StatusOr<BuiltImage> BusyboxImage(absl::string_view tag,
                                        absl::string_view user) {
  ASSIGN_OR_RETURN(std::vector<TarEntry> entries,
                   image::testing::BusyboxEntries());
  ASSIGN_OR_RETURN(BuiltLayer base,
                   image::testing::MakeLayer(entries, Compression::kGzip));
  TarEntry marker;
  marker.path = "etc/image-name";
  marker.data = std::string(tag);
  ASSIGN_OR_RETURN(BuiltLayer top,
                   image::testing::MakeLayer({marker}, Compression::kGzip));
  BuiltImage built =
      image::testing::MakeImage({base, top}, image::HostPlatform());
  nlohmann::json config = nlohmann::json::parse(built.config);
  config["config"]["User"] = std::string(user);
  built.config = config.dump();
  built.config_digest = image::Sha256Of(built.config);
  nlohmann::json manifest = nlohmann::json::parse(built.manifest);
  manifest["config"]["digest"] = built.config_digest.String();
  manifest["config"]["size"] = built.config.size();
  built.manifest = manifest.dump();
  built.manifest_digest = image::Sha256Of(built.manifest);
  return built;
}

MATCHER_P2(GrpcIs, code, message, "") {
  return arg.error_code() == code &&
         ::testing::ExplainMatchResult(HasSubstr(message), arg.error_message(),
                                       result_listener);
}

class ImageServicePrivilegedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    image::testing::RegistryOptions options;
    options.username = kUser;
    options.password = kPassword;
    absl::StatusOr<std::unique_ptr<TestRegistry>> r =
        TestRegistry::Start(*sys_, options);
    PSB_CHECK(r.ok());
    registry_ = r->release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "unpacking needs root";
    ASSERT_OK(store_.Init());
    images_.SetInUse([this](const Digest& id) { return id == in_use_; });
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
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    return context;
  }

  // Pushes `image` as <host>/<repo>:<tag>; returns the reference.
  std::string Push(const std::string& repo, const std::string& tag,
                   const BuiltImage& image) {
    Pusher pusher(registry_->url(), registry_->http_options(), kUser,
                  kPassword);
    absl::StatusOr<Digest> d =
        image::testing::PushImage(pusher, repo, tag, image);
    EXPECT_OK(d.status());
    return absl::StrCat(registry_->host(), "/", repo, ":", tag);
  }

  static image::RegistryHosts InsecureHosts() {
    image::HostConfig c;
    c.insecure = true;
    absl::StatusOr<image::RegistryHosts> h =
        image::RegistryHosts::Create({{registry_->host(), c}});
    PSB_CHECK(h.ok());
    return *std::move(h);
  }

  grpc::Status Pull(const std::string& ref, const v1::AuthConfig& auth,
                    std::string* image_ref) {
    v1::PullImageRequest request;
    request.mutable_image()->set_image(ref);
    *request.mutable_auth() = auth;
    v1::PullImageResponse response;
    grpc::Status s = stub_->PullImage(Context().get(), request, &response);
    *image_ref = response.image_ref();
    return s;
  }

  static v1::AuthConfig Basic() {
    v1::AuthConfig auth;
    auth.set_username(kUser);
    auth.set_password(kPassword);
    return auth;
  }

  v1::ImageStatusResponse Status(const std::string& name,
                                 bool verbose = false) {
    v1::ImageStatusRequest request;
    request.mutable_image()->set_image(name);
    request.set_verbose(verbose);
    v1::ImageStatusResponse response;
    grpc::Status s = stub_->ImageStatus(Context().get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  grpc::Status Remove(const std::string& name) {
    v1::RemoveImageRequest request;
    request.mutable_image()->set_image(name);
    v1::RemoveImageResponse response;
    return stub_->RemoveImage(Context().get(), request, &response);
  }

  v1::FilesystemUsage FsInfo() {
    v1::ImageFsInfoResponse response;
    grpc::Status s = stub_->ImageFsInfo(Context().get(), {}, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.image_filesystems_size(), 1);
    return response.image_filesystems_size() == 1
               ? response.image_filesystems(0)
               : v1::FilesystemUsage();
  }

  static sys::RealSys* sys_;
  static TestRegistry* registry_;
  sys::TempDir tmp_;
  image::Store store_{*sys_, tmp_.Sub("images")};
  image::Images images_{store_};
  image::Puller puller_{*sys_, store_, InsecureHosts()};
  ImageService service_{images_, puller_};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::ImageService::Stub> stub_;
  Digest in_use_;
};

sys::RealSys* ImageServicePrivilegedTest::sys_ = new sys::RealSys;
TestRegistry* ImageServicePrivilegedTest::registry_ = nullptr;

TEST_F(ImageServicePrivilegedTest, PullWithBasicAuthThenStatusShowsTheImage) {
  ASSERT_OK_AND_ASSIGN(BuiltImage built, BusyboxImage("basic", "1000:1000"));
  const std::string ref = Push("svc/basic", "v1", built);

  std::string image_ref;
  EXPECT_THAT(Pull(ref, {}, &image_ref),
              GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  EXPECT_FALSE(Status(ref).has_image());

  grpc::Status s = Pull(ref, Basic(), &image_ref);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(image_ref, built.config_digest.String());

  v1::ImageStatusResponse status = Status(ref);
  ASSERT_TRUE(status.has_image());
  const v1::Image& image = status.image();
  EXPECT_EQ(image.id(), image_ref);
  EXPECT_THAT(image.repo_tags(), ElementsAre(ref));
  EXPECT_THAT(image.repo_digests(),
              ElementsAre(absl::StrCat(registry_->host(), "/svc/basic@",
                                       built.manifest_digest.String())));
  uint64_t size = built.config.size();
  for (const BuiltLayer& l : built.layers) size += l.blob.size();
  EXPECT_EQ(image.size(), size);
  ASSERT_TRUE(image.has_uid());
  EXPECT_EQ(image.uid().value(), 1000);
  EXPECT_EQ(image.username(), "");
  EXPECT_TRUE(status.info().empty());
}

TEST_F(ImageServicePrivilegedTest, PullWithBase64AuthAndNamedUser) {
  ASSERT_OK_AND_ASSIGN(BuiltImage built, BusyboxImage("auth", "www-data:www"));
  const std::string ref = Push("svc/auth", "v1", built);
  v1::AuthConfig auth;
  auth.set_auth(absl::Base64Escape(absl::StrCat(kUser, ":", kPassword)));
  std::string image_ref;
  grpc::Status s = Pull(ref, auth, &image_ref);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // By id, as kubelet asks once it has the image_ref.
  v1::ImageStatusResponse status = Status(image_ref);
  ASSERT_TRUE(status.has_image());
  EXPECT_FALSE(status.image().has_uid());
  EXPECT_EQ(status.image().username(), "www-data");
}

TEST_F(ImageServicePrivilegedTest, VerboseStatusCarriesManifestAndConfig) {
  ASSERT_OK_AND_ASSIGN(BuiltImage built, BusyboxImage("verbose", "7"));
  const std::string ref = Push("svc/verbose", "v1", built);
  std::string image_ref;
  ASSERT_TRUE(Pull(ref, Basic(), &image_ref).ok());

  v1::ImageStatusResponse status = Status(ref, /*verbose=*/true);
  ASSERT_EQ(status.info().count("info"), 1u);
  nlohmann::json info =
      nlohmann::json::parse(status.info().at("info"), nullptr, false);
  ASSERT_FALSE(info.is_discarded());
  EXPECT_EQ(info["id"], image_ref);
  EXPECT_EQ(info["manifestDigest"], built.manifest_digest.String());
  EXPECT_EQ(info["manifest"]["config"]["digest"], image_ref);
  EXPECT_EQ(info["imageSpec"]["config"]["User"], "7");
  EXPECT_EQ(info["chainIDs"].size(), 2u);
}

TEST_F(ImageServicePrivilegedTest, ListAllAndWithFilter) {
  ASSERT_OK_AND_ASSIGN(BuiltImage a, BusyboxImage("list-a", ""));
  ASSERT_OK_AND_ASSIGN(BuiltImage b, BusyboxImage("list-b", ""));
  const std::string ref_a = Push("svc/list-a", "v1", a);
  const std::string ref_b = Push("svc/list-b", "v1", b);
  std::string id_a, id_b;
  ASSERT_TRUE(Pull(ref_a, Basic(), &id_a).ok());
  ASSERT_TRUE(Pull(ref_b, Basic(), &id_b).ok());

  v1::ListImagesResponse all;
  ASSERT_TRUE(stub_->ListImages(Context().get(), {}, &all).ok());
  ASSERT_EQ(all.images_size(), 2);
  EXPECT_EQ(all.images(0).id(), id_a);  // oldest first
  EXPECT_EQ(all.images(1).id(), id_b);

  v1::ListImagesRequest filtered;
  filtered.mutable_filter()->mutable_image()->set_image(ref_b);
  v1::ListImagesResponse one;
  ASSERT_TRUE(stub_->ListImages(Context().get(), filtered, &one).ok());
  ASSERT_EQ(one.images_size(), 1);
  EXPECT_EQ(one.images(0).id(), id_b);

  filtered.mutable_filter()->mutable_image()->set_image("no/such:image");
  v1::ListImagesResponse none;
  ASSERT_TRUE(stub_->ListImages(Context().get(), filtered, &none).ok());
  EXPECT_EQ(none.images_size(), 0);
}

TEST_F(ImageServicePrivilegedTest, RemoveByTagIdAndDigestRefusedWhileInUse) {
  ASSERT_OK_AND_ASSIGN(BuiltImage built, BusyboxImage("remove", ""));
  const std::string ref = Push("svc/remove", "v1", built);
  const std::string repo_digest = absl::StrCat(
      registry_->host(), "/svc/remove@", built.manifest_digest.String());
  for (const std::string& name :
       {ref, built.config_digest.String(), repo_digest}) {
    SCOPED_TRACE(name);
    std::string image_ref;
    ASSERT_TRUE(Pull(ref, Basic(), &image_ref).ok());
    in_use_ = built.config_digest;
    EXPECT_THAT(Remove(name),
                GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "in use"));
    EXPECT_TRUE(Status(image_ref).has_image());
    in_use_ = Digest();
    grpc::Status s = Remove(name);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_FALSE(Status(image_ref).has_image());
    EXPECT_TRUE(Remove(name).ok());  // idempotent
  }
}

TEST_F(ImageServicePrivilegedTest, ImageFsInfoCountsPulledLayers) {
  const v1::FilesystemUsage before = FsInfo();
  ASSERT_OK_AND_ASSIGN(BuiltImage built, BusyboxImage("fsinfo", ""));
  const std::string ref = Push("svc/fsinfo", "v1", built);
  std::string image_ref;
  ASSERT_TRUE(Pull(ref, Basic(), &image_ref).ok());
  const v1::FilesystemUsage after = FsInfo();
  EXPECT_EQ(after.fs_id().mountpoint(), tmp_.Sub("images"));
  // Busybox alone is over a megabyte, in a handful of inodes.
  EXPECT_GT(after.used_bytes().value(),
            before.used_bytes().value() + (1 << 20));
  EXPECT_GT(after.inodes_used().value(), before.inodes_used().value() + 5);

  ASSERT_TRUE(Remove(ref).ok());
  const v1::FilesystemUsage removed = FsInfo();
  EXPECT_EQ(removed.used_bytes().value(), before.used_bytes().value());
  EXPECT_EQ(removed.inodes_used().value(), before.inodes_used().value());
}

}  // namespace
}  // namespace podsandbox::cri
