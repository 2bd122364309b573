// RegistryClient against a real registry (Debian's docker-registry on
// loopback), with images the test builds and pushes itself.
#include "image/registry_client.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/manifest.h"
#include "image/testing/image_builder.h"
#include "image/testing/pusher.h"
#include "image/testing/registry.h"
#include "sys/file.h"
#include "sys/log.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::image::testing::BuiltImage;
using ::podsandbox::image::testing::BuiltLayer;
using ::podsandbox::image::testing::Compression;
using ::podsandbox::image::testing::Pusher;
using ::podsandbox::image::testing::RegistryOptions;
using ::podsandbox::image::testing::TestRegistry;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kLimit = 64 << 20;

Endpoint EndpointOf(const TestRegistry& r, bool with_ca = true) {
  Endpoint e;
  e.url = r.url();
  if (with_ca) e.ca_file = r.ca_file();
  return e;
}

std::unique_ptr<RegistryClient> Client(const Endpoint& e,
                                       const std::string& repo,
                                       Credentials creds = {}) {
  absl::StatusOr<std::unique_ptr<RegistryClient>> c =
      RegistryClient::Create(e, repo, std::move(creds));
  PSB_CHECK(c.ok());
  return *std::move(c);
}

absl::StatusOr<std::string> Blob(RegistryClient& c, const Digest& d,
                                 int64_t limit = kLimit) {
  std::string out;
  absl::Status s = c.FetchBlob(d, limit, [&](absl::string_view piece) {
    out.append(piece.data(), piece.size());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

class RegistryClientTest : public ::testing::Test {
 protected:
  // One plain-http registry and one busybox image for the tests that need
  // nothing special.
  static void SetUpTestSuite() {
    setup_ = new absl::Status(StartRegistryAndPush());
  }
  static absl::Status StartRegistryAndPush() {
    ASSIGN_OR_RETURN(std::unique_ptr<TestRegistry> r,
                     TestRegistry::Start(*sys_));
    registry_ = r.release();
    ASSIGN_OR_RETURN(std::vector<testing::TarEntry> entries,
                     testing::BusyboxEntries());
    ASSIGN_OR_RETURN(BuiltLayer layer,
                     testing::MakeLayer(entries, Compression::kGzip));
    image_ = new BuiltImage(testing::MakeImage({layer}));
    Pusher pusher(registry_->url(), registry_->http_options());
    return testing::PushImage(pusher, "test/busybox", "v1", *image_).status();
  }
  void SetUp() override { ASSERT_OK(*setup_); }
  static void TearDownTestSuite() {
    delete registry_;
    delete image_;
    delete setup_;
  }

  static inline sys::RealSys* sys_ = new sys::RealSys;
  static inline TestRegistry* registry_ = nullptr;
  static inline BuiltImage* image_ = nullptr;
  static inline absl::Status* setup_ = nullptr;
};

TEST_F(RegistryClientTest, PullsManifestByTagAndByDigestAndBlobs) {
  auto c = Client(EndpointOf(*registry_), "test/busybox");
  ASSERT_OK_AND_ASSIGN(FetchedManifest by_tag, c->GetManifest("v1", kLimit));
  EXPECT_EQ(by_tag.bytes, image_->manifest);
  EXPECT_EQ(by_tag.digest, image_->manifest_digest);
  EXPECT_EQ(by_tag.media_type, kOciManifest);
  ASSERT_OK_AND_ASSIGN(
      FetchedManifest by_digest,
      c->GetManifest(image_->manifest_digest.String(), kLimit));
  EXPECT_EQ(by_digest.bytes, image_->manifest);

  ASSERT_OK_AND_ASSIGN(ImageManifest m, ParseImageManifest(by_tag.bytes));
  EXPECT_THAT(Blob(*c, m.config.digest),
              sys::testing::IsOkAndHolds(image_->config));
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_THAT(Blob(*c, m.layers[0].digest),
              sys::testing::IsOkAndHolds(image_->layers[0].blob));
}

TEST_F(RegistryClientTest, PullsThePlatformsManifestFromAnIndex) {
  Pusher pusher(registry_->url(), registry_->http_options());
  ASSERT_OK_AND_ASSIGN(
      BuiltLayer small,
      testing::MakeLayer({{"hello", testing::TarEntry::Type::kFile, "arm"}},
                         Compression::kZstd));
  BuiltImage arm = testing::MakeImage({small}, {"linux", "arm64", "v8"});
  ASSERT_OK(testing::PushImage(pusher, "test/multi", "", arm));
  ASSERT_OK(testing::PushImage(pusher, "test/multi", "", *image_));
  std::string index = testing::MakeIndex(
      {{&arm, {"linux", "arm64", "v8"}}, {image_, {"linux", "amd64", ""}}});
  ASSERT_OK(pusher.PushManifest("test/multi", "latest", kOciIndex, index));

  auto c = Client(EndpointOf(*registry_), "test/multi");
  ASSERT_OK_AND_ASSIGN(FetchedManifest top, c->GetManifest("latest", kLimit));
  EXPECT_THAT(DetectManifestKind(top.media_type, top.bytes),
              sys::testing::IsOkAndHolds(ManifestKind::kIndex));
  ASSERT_OK_AND_ASSIGN(ImageIndex parsed, ParseImageIndex(top.bytes));
  ASSERT_OK_AND_ASSIGN(Descriptor d,
                       SelectPlatform(parsed, {"linux", "arm64", "v8"}));
  ASSERT_OK_AND_ASSIGN(FetchedManifest chosen,
                       c->GetManifest(d.digest.String(), kLimit));
  EXPECT_EQ(chosen.bytes, arm.manifest);
}

TEST_F(RegistryClientTest, PullsDockerSchema2ManifestLists) {
  Pusher pusher(registry_->url(), registry_->http_options());
  BuiltImage docker =
      testing::MakeImage(image_->layers, {"linux", "amd64", ""}, {"/bin/sh"},
                         testing::ManifestFormat::kDocker);
  ASSERT_OK(testing::PushImage(pusher, "test/docker", "", docker));
  std::string list = testing::MakeIndex({{&docker, {"linux", "amd64", ""}}},
                                        testing::ManifestFormat::kDocker);
  ASSERT_OK(
      pusher.PushManifest("test/docker", "v1", kDockerManifestList, list));

  auto c = Client(EndpointOf(*registry_), "test/docker");
  ASSERT_OK_AND_ASSIGN(FetchedManifest top, c->GetManifest("v1", kLimit));
  EXPECT_EQ(top.media_type, kDockerManifestList);
  ASSERT_OK_AND_ASSIGN(ImageIndex index, ParseImageIndex(top.bytes));
  ASSERT_OK_AND_ASSIGN(Descriptor d, SelectPlatform(index, HostPlatform()));
  ASSERT_OK_AND_ASSIGN(FetchedManifest m,
                       c->GetManifest(d.digest.String(), kLimit));
  EXPECT_EQ(m.media_type, kDockerManifest);
  ASSERT_OK_AND_ASSIGN(ImageManifest parsed, ParseImageManifest(m.bytes));
  EXPECT_EQ(parsed.config.media_type, kDockerConfig);
  ASSERT_EQ(parsed.layers.size(), 1u);
  EXPECT_EQ(parsed.layers[0].media_type, kDockerLayerGzip);
}

TEST_F(RegistryClientTest, MissingThingsAreNotFound) {
  auto c = Client(EndpointOf(*registry_), "test/busybox");
  EXPECT_THAT(c->GetManifest("nope", kLimit),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("404")));
  EXPECT_THAT(c->GetManifest("sha256:" + std::string(64, 'e'), kLimit),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Blob(*c, Sha256Of("never pushed")),
              StatusIs(absl::StatusCode::kNotFound));
  auto other = Client(EndpointOf(*registry_), "no/such/repo");
  EXPECT_THAT(other->GetManifest("v1", kLimit),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RegistryClientTest, BadReferencesAreRefusedBeforeAnyRequest) {
  Endpoint nowhere;
  nowhere.url = "http://127.0.0.1:1";  // would be Unavailable if asked
  auto c = Client(nowhere, "a/b");
  EXPECT_THAT(
      c->GetManifest("bad tag", kLimit),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reference: ")));
  EXPECT_THAT(
      c->GetManifest("sha256:abc", kLimit),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reference: ")));
  EXPECT_THAT(
      RegistryClient::Create(nowhere, "a/b", {.auth = "!!"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("auth.auth: ")));
}

TEST_F(RegistryClientTest, UnreachableRegistryIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(int port, testing::FreeLoopbackPort());
  Endpoint e;
  e.url = absl::StrCat("http://127.0.0.1:", port);
  auto c = Client(e, "test/busybox");
  EXPECT_THAT(c->GetManifest("v1", kLimit),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(RegistryClientTest, OverTheSizeLimitIsResourceExhausted) {
  auto c = Client(EndpointOf(*registry_), "test/busybox");
  EXPECT_THAT(c->GetManifest("v1", 16),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(Blob(*c, image_->layers[0].digest, 1000),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(RegistryClientTest, TamperedBlobIsDataLoss) {
  Pusher pusher(registry_->url(), registry_->http_options());
  const std::string content = "original content of the blob";
  ASSERT_OK_AND_ASSIGN(Digest d, pusher.PushBlob("test/tamper", content));
  std::string tampered = content;
  tampered[0] = 'X';  // same size: the registry serves it without noticing
  ASSERT_OK(sys::WriteFileAtomically(*sys_, registry_->BlobDataPath(d),
                                     tampered, 0644, false));
  auto c = Client(EndpointOf(*registry_), "test/tamper");
  EXPECT_THAT(Blob(*c, d), StatusIs(absl::StatusCode::kDataLoss,
                                    HasSubstr(Sha256Of(tampered).String())));
}

TEST_F(RegistryClientTest, TamperedManifestIsDataLoss) {
  // An image of its own: blobs are shared across the registry's
  // repositories, and the suite's image must stay intact.
  BuiltImage own = testing::MakeImage(image_->layers, {"linux", "amd64", ""},
                                      {"/bin/tampered"});
  Pusher pusher(registry_->url(), registry_->http_options());
  ASSERT_OK(testing::PushImage(pusher, "test/tampered", "v1", own));
  // Same length, still a well-formed manifest: one hex digit of the
  // config digest changed in the registry's storage.
  std::string tampered = own.manifest;
  size_t at = tampered.find(own.config_digest.hex);
  ASSERT_NE(at, std::string::npos);
  tampered[at] = tampered[at] == '0' ? '1' : '0';
  ASSERT_OK(sys::WriteFileAtomically(
      *sys_, registry_->BlobDataPath(own.manifest_digest), tampered, 0644,
      false));
  auto c = Client(EndpointOf(*registry_), "test/tampered");
  const std::string got = Sha256Of(tampered).String();
  EXPECT_THAT(c->GetManifest("v1", kLimit),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(got)));
  EXPECT_THAT(c->GetManifest(own.manifest_digest.String(), kLimit),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(got)));
}

TEST_F(RegistryClientTest, HttpsVerifiesWithTheConfiguredCaOnly) {
  RegistryOptions options;
  options.tls = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestRegistry> tls,
                       TestRegistry::Start(*sys_, options));
  Pusher pusher(tls->url(), tls->http_options());
  ASSERT_OK(testing::PushImage(pusher, "test/busybox", "v1", *image_));

  auto with_ca = Client(EndpointOf(*tls), "test/busybox");
  ASSERT_OK_AND_ASSIGN(FetchedManifest m, with_ca->GetManifest("v1", kLimit));
  EXPECT_EQ(m.digest, image_->manifest_digest);

  auto without = Client(EndpointOf(*tls, /*with_ca=*/false), "test/busybox");
  EXPECT_THAT(
      without->GetManifest("v1", kLimit),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("certificate")));
}

TEST_F(RegistryClientTest, BasicAuth) {
  RegistryOptions options;
  options.username = "alice";
  options.password = "s3cret";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestRegistry> authed,
                       TestRegistry::Start(*sys_, options));
  Pusher pusher(authed->url(), authed->http_options(), "alice", "s3cret");
  ASSERT_OK(testing::PushImage(pusher, "test/busybox", "v1", *image_));

  auto anonymous = Client(EndpointOf(*authed), "test/busybox");
  EXPECT_THAT(anonymous->GetManifest("v1", kLimit),
              StatusIs(absl::StatusCode::kUnauthenticated));
  auto wrong = Client(EndpointOf(*authed), "test/busybox",
                      {.username = "alice", .password = "nope"});
  EXPECT_THAT(wrong->GetManifest("v1", kLimit),
              StatusIs(absl::StatusCode::kUnauthenticated));

  auto right = Client(EndpointOf(*authed), "test/busybox",
                      {.username = "alice", .password = "s3cret"});
  ASSERT_OK(right->GetManifest("v1", kLimit));
  EXPECT_THAT(Blob(*right, image_->config_digest),
              sys::testing::IsOkAndHolds(image_->config));
  // CRI's `auth` field: base64 of "user:password".
  auto cri = Client(EndpointOf(*authed), "test/busybox",
                    {.auth = absl::Base64Escape("alice:s3cret")});
  ASSERT_OK(cri->GetManifest("v1", kLimit));
}

TEST_F(RegistryClientTest, BearerTokenFromTheChallengesRealm) {
  RegistryOptions options;
  options.token_repository = "test/busybox";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestRegistry> tokened,
                       TestRegistry::Start(*sys_, options));
  Pusher pusher(tokened->url(), tokened->http_options());
  pusher.SetAuthorization("Bearer " + tokened->token());
  ASSERT_OK(testing::PushImage(pusher, "test/busybox", "v1", *image_));

  // Anonymous: the 401's challenge names the realm, the token comes from
  // there, and is reused for the blob.
  auto c = Client(EndpointOf(*tokened), "test/busybox");
  ASSERT_OK(c->GetManifest("v1", kLimit));
  EXPECT_THAT(Blob(*c, image_->config_digest),
              sys::testing::IsOkAndHolds(image_->config));
  ASSERT_OK_AND_ASSIGN(std::string log, tokened->TokenServerLog());
  EXPECT_THAT(log, HasSubstr("GET /token?service=podsandbox-test-registry&"
                             "scope=repository%3Atest%2Fbusybox%3Apull"));

  // A registry_token is the bearer token itself: never fetched, so a bad
  // one is refused although the realm would hand out a good one.
  auto bad = Client(EndpointOf(*tokened), "test/busybox",
                    {.registry_token = "not-a-token"});
  EXPECT_THAT(bad->GetManifest("v1", kLimit),
              StatusIs(absl::StatusCode::kUnauthenticated));
  auto good = Client(EndpointOf(*tokened), "test/busybox",
                     {.registry_token = tokened->token()});
  ASSERT_OK(good->GetManifest("v1", kLimit));

  // One client shared by threads (the layers of one pull): each gets the
  // blob, whichever of them fetched the token.
  auto shared = Client(EndpointOf(*tokened), "test/busybox");
  std::vector<absl::StatusOr<std::string>> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back(
        [&] { result = Blob(*shared, image_->layers[0].digest); });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& result : results) {
    EXPECT_THAT(result, sys::testing::IsOkAndHolds(image_->layers[0].blob));
  }

  // An identity_token is an OAuth2 refresh token, POSTed to the realm.
  auto identity = Client(EndpointOf(*tokened), "test/busybox",
                         {.identity_token = "refresh-me"});
  ASSERT_OK(identity->GetManifest("v1", kLimit));
  ASSERT_OK_AND_ASSIGN(log, tokened->TokenServerLog());
  EXPECT_THAT(log, HasSubstr("POST /token grant_type=refresh_token&client_id="
                             "podsandbox&refresh_token=refresh-me&service="
                             "podsandbox-test-registry&scope=repository%3A"
                             "test%2Fbusybox%3Apull"));
}

}  // namespace
}  // namespace podsandbox::image
