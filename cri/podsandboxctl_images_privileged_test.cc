// podsandboxctl's image verbs against the real podsandboxd and a real
// registry (Debian's docker-registry with basic auth, on 127.0.0.1): pull
// with --creds and --auth, images (table, -q, -o json), inspecti (json,
// yaml), imagefsinfo, rmi, each checked against what the daemon's
// ImageService answers over gRPC, and the exit codes of a refused pull and
// of an absent image (1). Needs root. (Here rather than in cri/ctl/: the
// image test helpers are visible to //cri only.)
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "image/manifest.h"
#include "image/testing/image_builder.h"
#include "image/testing/pusher.h"
#include "image/testing/registry.h"
#include "nlohmann/json.hpp"
#include "sys/real_sys.h"
#include "sys/subprocess.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::podsandbox::image::testing::BuiltImage;
using ::podsandbox::image::testing::BuiltLayer;
using ::podsandbox::image::testing::Compression;
using ::podsandbox::image::testing::TarEntry;
using ::podsandbox::image::testing::TestRegistry;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr char kUser[] = "alice";
constexpr char kPassword[] = "s3cret";

PodsandboxdTestBase::Options FixtureOptions() {
  PodsandboxdTestBase::Options options;
  options.bridge = "psbctlimg0";
  options.subnet = "10.245.0.0/24";
  options.network_name = "psb-ctl-image-test";
  return options;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), '\n',
                        absl::SkipEmpty());
}

class PodsandboxctlImagesTest : public PodsandboxdTestBase {
 protected:
  PodsandboxctlImagesTest() : PodsandboxdTestBase(FixtureOptions()) {}

  // The registry is our child: gone before the leak check compares.
  void TearDown() override {
    registry_.reset();
    PodsandboxdTestBase::TearDown();
  }

  // A one-layer image pushed as ctl/small:v1 to a registry that wants
  // basic auth, which the daemon's config names as an insecure host.
  void SetUpRegistry() {
    image::testing::RegistryOptions options;
    options.username = kUser;
    options.password = kPassword;
    ASSERT_OK_AND_ASSIGN(registry_, TestRegistry::Start(sys_, options));
    TarEntry file;
    file.path = "etc/image-name";
    file.data = "podsandboxctl image verbs";
    ASSERT_OK_AND_ASSIGN(BuiltLayer layer,
                         image::testing::MakeLayer({file}, Compression::kGzip));
    const BuiltImage built =
        image::testing::MakeImage({layer}, image::HostPlatform());
    image::testing::Pusher pusher(registry_->url(), registry_->http_options(),
                                  kUser, kPassword);
    ASSERT_OK(
        image::testing::PushImage(pusher, "ctl/small", "v1", built).status());
    WriteAll(config(),
             absl::StrCat(ReadAll(config()), "\n[registries.\"",
                          registry_->host(), "\"]\ninsecure = true\n"));
    ref_ = absl::StrCat(registry_->host(), "/ctl/small:v1");
  }

  sys::SubprocessResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"podsandboxctl", "--endpoint", endpoint()});
    sys::Command command{Runfile("cri/podsandboxctl"), args};
    command.timeout = absl::Minutes(3);
    absl::StatusOr<sys::SubprocessResult> result =
        sys::RunSubprocess(sys_, command);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : sys::SubprocessResult{};
  }

  // The daemon's own answer: the images it lists over gRPC.
  std::vector<v1::Image> ListedImages() {
    std::unique_ptr<v1::ImageService::Stub> images =
        v1::ImageService::NewStub(channel());
    v1::ListImagesResponse response;
    grpc::Status s = images->ListImages(RpcContext().get(), {}, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.images().begin(), response.images().end()};
  }

  sys::RealSys sys_;
  std::unique_ptr<TestRegistry> registry_;
  std::string ref_;
};

TEST_F(PodsandboxctlImagesTest, PullListInspectRemoveThroughTheCli) {
  ASSERT_NO_FATAL_FAILURE(SetUpRegistry());
  ASSERT_NO_FATAL_FAILURE(StartDaemon());

  // Without credentials the registry refuses: an RPC error, exit 1.
  sys::SubprocessResult r = Ctl({"pull", ref_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data, StartsWith("podsandboxctl: pull: "));
  EXPECT_THAT(ListedImages(), IsEmpty());

  r = Ctl({"pull", "--creds", absl::StrCat(kUser, ":", kPassword), ref_});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, StartsWith("Image is up to date for sha256:"));
  const std::string id(absl::StripAsciiWhitespace(
      absl::StripPrefix(r.stdout_data, "Image is up to date for ")));
  std::vector<v1::Image> listed = ListedImages();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id(), id);
  // --auth, base64 of user:password, reaches the registry the same way.
  r = Ctl({"pull", "--auth",
           absl::Base64Escape(absl::StrCat(kUser, ":", kPassword)), ref_});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;

  // images: the table as crictl's, -q the id, -o json the listing.
  r = Ctl({"images"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  std::vector<std::string> rows = Lines(r.stdout_data);
  ASSERT_EQ(rows.size(), 2u) << r.stdout_data;
  EXPECT_THAT(rows[0], StartsWith("IMAGE"));
  EXPECT_THAT(rows[1],
              StartsWith(absl::StrCat(registry_->host(), "/ctl/small  v1  ")));
  EXPECT_THAT(rows[1], HasSubstr(id.substr(strlen("sha256:"), 13)));
  r = Ctl({"images", "-q"});
  EXPECT_THAT(Lines(r.stdout_data), ElementsAre(id));
  r = Ctl({"images", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  nlohmann::json images = nlohmann::json::parse(r.stdout_data, nullptr, false);
  ASSERT_FALSE(images.is_discarded()) << r.stdout_data;
  ASSERT_EQ(images["images"].size(), 1u);
  EXPECT_EQ(images["images"][0]["id"], id);
  EXPECT_EQ(images["images"][0]["repoTags"][0], ref_);

  // inspecti: the image's status, as JSON and YAML.
  r = Ctl({"inspecti", ref_});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  nlohmann::json inspect = nlohmann::json::parse(r.stdout_data, nullptr, false);
  ASSERT_FALSE(inspect.is_discarded()) << r.stdout_data;
  EXPECT_EQ(inspect["status"]["id"], id);
  r = Ctl({"inspecti", "-o", "yaml", ref_});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr(absl::StrCat("id: ", id)));

  r = Ctl({"imagefsinfo"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  nlohmann::json fs = nlohmann::json::parse(r.stdout_data, nullptr, false);
  ASSERT_FALSE(fs.is_discarded()) << r.stdout_data;
  EXPECT_TRUE(fs["status"]["imageFilesystems"].is_array()) << r.stdout_data;

  // rmi: gone from the daemon; inspecti of it is then exit 1, NOT_FOUND.
  r = Ctl({"rmi", ref_});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_EQ(r.stdout_data, absl::StrCat("Deleted: ", ref_, "\n"));
  EXPECT_THAT(ListedImages(), IsEmpty());
  r = Ctl({"inspecti", ref_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data, HasSubstr("inspecti: NOT_FOUND: no such image"));
}

}  // namespace
}  // namespace podsandbox::cri
