// Puller against a real registry (Debian's docker-registry on loopback)
// with busybox images the test builds and pushes, into a real Store (root:
// unpacking chowns and mknods).
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/puller.h"
#include "image/registry_hosts.h"
#include "image/store.h"
#include "image/testing/gated_proxy.h"
#include "image/testing/image_builder.h"
#include "image/testing/pusher.h"
#include "image/testing/registry.h"
#include "sys/log.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/testing/dir_names.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::image::testing::BuiltImage;
using ::podsandbox::image::testing::BuiltLayer;
using ::podsandbox::image::testing::Compression;
using ::podsandbox::image::testing::Pusher;
using ::podsandbox::image::testing::TarEntry;
using ::podsandbox::image::testing::TestRegistry;
using ::podsandbox::sys::testing::DirNames;
using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Busybox plus a file naming `tag`, so each image's top layer is its own
// blob in the registry (whose storage is shared by all repositories: a
// tampered blob must not be one another test pulls).
absl::StatusOr<BuiltImage> BusyboxImage(absl::string_view tag,
                                        Compression compression) {
  ASSIGN_OR_RETURN(std::vector<TarEntry> entries, testing::BusyboxEntries());
  ASSIGN_OR_RETURN(BuiltLayer base, testing::MakeLayer(entries, compression));
  TarEntry marker;
  marker.path = "etc/image-name";
  marker.data = std::string(tag);
  ASSIGN_OR_RETURN(BuiltLayer top, testing::MakeLayer({marker}, compression));
  return testing::MakeImage({base, top}, HostPlatform());
}

// The suite's docker-registry is in both snapshots of each test's leak
// check (processes are compared without their R/S state); what a pull may
// leave in the store (tmp/) is checked here, in FindLeftovers.
class PullerTest : public sys::LeakCheckedTest {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<TestRegistry>> r =
        TestRegistry::Start(*sys_);
    PSB_CHECK(r.ok());
    registry_ = r->release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(sys::LeakCheckedTest::SetUp());
    ASSERT_THAT(store_.Init(), IsOk());
  }

  std::string FindLeftovers() override {
    std::string out;
    for (const std::string& name : DirNames(root_ + "/tmp")) {
      absl::StrAppend(&out, "temp file ", root_, "/tmp/", name, "\n");
    }
    return out;
  }

  // Pushes `image` as <host>/<repo>:<tag>; returns the reference.
  std::string Push(const std::string& repo, const std::string& tag,
                   const BuiltImage& image) {
    Pusher pusher(registry_->url(), registry_->http_options());
    absl::StatusOr<Digest> d = testing::PushImage(pusher, repo, tag, image);
    EXPECT_THAT(d.status(), IsOk());
    return absl::StrCat(registry_->host(), "/", repo, ":", tag);
  }

  RegistryHosts InsecureHosts() {
    HostConfig c;
    c.insecure = true;
    absl::StatusOr<RegistryHosts> h =
        RegistryHosts::Create({{registry_->host(), c}});
    PSB_CHECK(h.ok());
    return *std::move(h);
  }

  // The image's files really are there, in the layer directories.
  void ExpectUnpacked(const ImageRecord& record, absl::string_view tag) {
    ASSERT_EQ(record.layers.size(), 2u);
    EXPECT_TRUE(store_.HasLayer(record.layers[0]));
    EXPECT_THAT(DirNames(store_.LayerPath(record.layers[0]) + "/bin"),
                ::testing::Contains("busybox"));
    std::ifstream f(store_.LayerPath(record.layers[1]) + "/etc/image-name");
    std::string text((std::istreambuf_iterator<char>(f)),
                     std::istreambuf_iterator<char>());
    EXPECT_EQ(text, tag);
  }

  void ExpectNothingStored() {
    EXPECT_THAT(store_.List(), IsEmpty());
    EXPECT_THAT(DirNames(root_ + "/layers"), IsEmpty());
    EXPECT_THAT(DirNames(root_ + "/tmp"), IsEmpty());
  }

  static sys::RealSys* sys_;
  static TestRegistry* registry_;
  sys::TempDir tmp_;
  std::string root_ = tmp_.Sub("images");
  Store store_{*sys_, root_};
};

sys::RealSys* PullerTest::sys_ = new sys::RealSys;
TestRegistry* PullerTest::registry_ = nullptr;

TEST_F(PullerTest, PullsByTagAndAgainWithoutDownloading) {
  ASSERT_OK_AND_ASSIGN(BuiltImage image,
                       BusyboxImage("t1", Compression::kGzip));
  std::string ref = Push("pull/tag", "v1", image);
  Puller puller(*sys_, store_, InsecureHosts());
  ASSERT_OK_AND_ASSIGN(ImageRecord record, puller.Pull(ref, {}));
  EXPECT_EQ(record.id, image.config_digest);
  EXPECT_EQ(record.manifest_digest, image.manifest_digest);
  EXPECT_THAT(record.repo_tags, ElementsAre(ref));
  EXPECT_THAT(record.repo_digests,
              ElementsAre(absl::StrCat(registry_->host(), "/pull/tag@",
                                       image.manifest_digest.String())));
  uint64_t size = image.config.size();
  for (const BuiltLayer& l : image.layers) size += l.blob.size();
  EXPECT_EQ(record.size, size);
  EXPECT_EQ(record.layers.size(), 2u);
  EXPECT_EQ(record.layers[0], image.layers[0].diff_id);
  EXPECT_TRUE(store_.HasBlob(image.config_digest));
  EXPECT_TRUE(store_.HasBlob(image.manifest_digest));
  ExpectUnpacked(record, "t1");
  EXPECT_EQ(puller.layer_downloads(), 2);

  ASSERT_OK_AND_ASSIGN(ImageRecord again, puller.Pull(ref, {}));
  EXPECT_EQ(again.id, record.id);
  EXPECT_EQ(puller.layer_downloads(), 2);  // both layers were present
}

TEST_F(PullerTest, PullsByDigest) {
  ASSERT_OK_AND_ASSIGN(BuiltImage image,
                       BusyboxImage("digest", Compression::kZstd));
  Push("pull/digest", "v1", image);
  std::string ref = absl::StrCat(registry_->host(), "/pull/digest@",
                                 image.manifest_digest.String());
  Puller puller(*sys_, store_, InsecureHosts());
  ASSERT_OK_AND_ASSIGN(ImageRecord record, puller.Pull(ref, {}));
  EXPECT_EQ(record.id, image.config_digest);
  EXPECT_THAT(record.repo_tags, IsEmpty());
  EXPECT_THAT(record.repo_digests,
              ElementsAre(absl::StrCat(registry_->host(), "/pull/digest@",
                                       image.manifest_digest.String())));
  ExpectUnpacked(record, "digest");
}

TEST_F(PullerTest, PullsThisPlatformFromAnIndex) {
  ASSERT_OK_AND_ASSIGN(BuiltImage mine,
                       BusyboxImage("index-mine", Compression::kGzip));
  ASSERT_OK_AND_ASSIGN(BuiltImage other_layers,
                       BusyboxImage("index-other", Compression::kGzip));
  Platform other_platform{
      "linux", HostPlatform().architecture == "arm64" ? "amd64" : "arm64", ""};
  BuiltImage other = testing::MakeImage(other_layers.layers, other_platform);
  Pusher pusher(registry_->url(), registry_->http_options());
  ASSERT_THAT(testing::PushImage(pusher, "pull/index", "", other).status(),
              IsOk());
  ASSERT_THAT(testing::PushImage(pusher, "pull/index", "", mine).status(),
              IsOk());
  std::string index =
      testing::MakeIndex({{&other, other_platform}, {&mine, HostPlatform()}});
  ASSERT_OK_AND_ASSIGN(
      Digest index_digest,
      pusher.PushManifest("pull/index", "multi", kOciIndex, index));
  Puller puller(*sys_, store_, InsecureHosts());
  ASSERT_OK_AND_ASSIGN(
      ImageRecord record,
      puller.Pull(absl::StrCat(registry_->host(), "/pull/index:multi"), {}));
  EXPECT_EQ(record.id, mine.config_digest);
  EXPECT_EQ(record.manifest_digest, mine.manifest_digest);
  EXPECT_TRUE(store_.HasBlob(index_digest));
  EXPECT_THAT(record.blobs, ::testing::Contains(index_digest));
  ExpectUnpacked(record, "index-mine");
}

TEST_F(PullerTest, PullsThroughAMirrorWhenTheRegistryIsUnreachable) {
  ASSERT_OK_AND_ASSIGN(BuiltImage image,
                       BusyboxImage("mirror", Compression::kGzip));
  Push("pull/mirror", "v1", image);
  HostConfig c;
  c.mirrors = {registry_->url()};
  ASSERT_OK_AND_ASSIGN(RegistryHosts hosts,
                       RegistryHosts::Create({{"registry.invalid", c}}));
  Puller puller(*sys_, store_, std::move(hosts));
  ASSERT_OK_AND_ASSIGN(ImageRecord record,
                       puller.Pull("registry.invalid/pull/mirror:v1", {}));
  EXPECT_THAT(record.repo_tags, ElementsAre("registry.invalid/pull/mirror:v1"));
  ExpectUnpacked(record, "mirror");

  // A tag the mirror lacks: the registry itself is tried, and its error
  // names the mirror's too.
  absl::StatusOr<ImageRecord> missing =
      puller.Pull("registry.invalid/pull/mirror:absent", {});
  EXPECT_THAT(missing.status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(missing.status().message(), HasSubstr(registry_->url()));
}

TEST_F(PullerTest, ConcurrentPullsOfOneImageDownloadOnce) {
  ASSERT_OK_AND_ASSIGN(BuiltImage image,
                       BusyboxImage("concurrent", Compression::kGzip));
  std::string ref = Push("pull/concurrent", "v1", image);
  Puller puller(*sys_, store_, InsecureHosts());
  std::vector<absl::StatusOr<ImageRecord>> results(4,
                                                   absl::UnknownError("unrun"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = puller.Pull(ref, {}); });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_THAT(r.status(), IsOk());
    EXPECT_EQ(r->id, image.config_digest);
  }
  EXPECT_EQ(puller.layer_downloads(), 2);
  EXPECT_EQ(store_.List().size(), 1u);
}

TEST_F(PullerTest, ConcurrentPullsOfImagesSharingALayerDownloadItOnce) {
  // Same busybox base layer, different top layers.
  ASSERT_OK_AND_ASSIGN(BuiltImage a,
                       BusyboxImage("shared-a", Compression::kGzip));
  ASSERT_OK_AND_ASSIGN(BuiltImage b,
                       BusyboxImage("shared-b", Compression::kGzip));
  ASSERT_EQ(a.layers[0].digest, b.layers[0].digest);
  // Not by luck of the clock: the gzip header's MTIME (bytes 4-7, RFC 1952)
  // is zero, so builds a second apart give the same blob too.
  ASSERT_GE(a.layers[0].blob.size(), 8u);
  EXPECT_EQ(a.layers[0].blob.substr(4, 4), std::string(4, '\0'));
  std::string ref_a = Push("pull/shared-a", "v1", a);
  std::string ref_b = Push("pull/shared-b", "v1", b);
  Puller puller(*sys_, store_, InsecureHosts());
  absl::StatusOr<ImageRecord> ra = absl::UnknownError("unrun");
  absl::StatusOr<ImageRecord> rb = absl::UnknownError("unrun");
  std::thread ta([&] { ra = puller.Pull(ref_a, {}); });
  std::thread tb([&] { rb = puller.Pull(ref_b, {}); });
  ta.join();
  tb.join();
  ASSERT_THAT(ra.status(), IsOk());
  ASSERT_THAT(rb.status(), IsOk());
  EXPECT_EQ(ra->layers[0], rb->layers[0]);
  EXPECT_EQ(puller.layer_downloads(), 3);  // one base, two tops
  ExpectUnpacked(*ra, "shared-a");
  ExpectUnpacked(*rb, "shared-b");
}

TEST_F(PullerTest, TamperedBlobIsRefusedAndNothingStored) {
  // One layer, of its own: a layer of the same image that verified would
  // stay (unreferenced) until the store's next GC.
  TarEntry entry;
  entry.path = "etc/tampered";
  entry.data = "tampered layer";
  ASSERT_OK_AND_ASSIGN(BuiltLayer layer,
                       testing::MakeLayer({entry}, Compression::kNone));
  BuiltImage image = testing::MakeImage({layer}, HostPlatform());
  std::string ref = Push("pull/tampered", "v1", image);
  // Flip one byte of the file's data in the registry's storage (same
  // length: the registry serves it without complaint).
  std::string data = layer.blob;
  size_t at = data.find("tampered layer");
  ASSERT_NE(at, std::string::npos);
  data[at] = 'T';
  {
    std::ofstream f(registry_->BlobDataPath(layer.digest),
                    std::ios::binary | std::ios::trunc);
    f << data;
  }
  Puller puller(*sys_, store_, InsecureHosts());
  EXPECT_THAT(puller.Pull(ref, {}).status(),
              StatusIs(absl::StatusCode::kDataLoss));
  ExpectNothingStored();
}

TEST_F(PullerTest, FailedPullCollectsTheLayersItVerified) {
  // A good base and a tampered top: the base verifies and is committed
  // before the top fails.
  ASSERT_OK_AND_ASSIGN(std::vector<TarEntry> entries,
                       testing::BusyboxEntries());
  ASSERT_OK_AND_ASSIGN(BuiltLayer base,
                       testing::MakeLayer(entries, Compression::kGzip));
  TarEntry marker;
  marker.path = "etc/image-name";
  marker.data = "collected after failure";
  ASSERT_OK_AND_ASSIGN(BuiltLayer top,
                       testing::MakeLayer({marker}, Compression::kNone));
  BuiltImage image = testing::MakeImage({base, top}, HostPlatform());
  std::string ref = Push("pull/gc-after-failure", "v1", image);
  std::string data = top.blob;
  size_t at = data.find("collected after failure");
  ASSERT_NE(at, std::string::npos);
  data[at] = 'C';
  {
    std::ofstream f(registry_->BlobDataPath(top.digest),
                    std::ios::binary | std::ios::trunc);
    f << data;
  }
  Puller puller(*sys_, store_, InsecureHosts());
  // The error names the top layer: the base (checked first) succeeded, so
  // it was committed, and is gone below only because it was collected.
  EXPECT_THAT(puller.Pull(ref, {}).status(),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr(absl::StrCat("layer ", top.digest.String()))));
  EXPECT_EQ(puller.layer_downloads(), 2);
  ExpectNothingStored();
  EXPECT_THAT(DirNames(root_ + "/blobs/sha256"), IsEmpty());
}

// Pulls of one reference with different credentials never share a result:
// the first (allowed) pull is held mid-layer by a proxy while the second,
// with a wrong password, and a third, anonymous, must each get their own
// refusal instead of waiting for, and then sharing, the first's success.
TEST_F(PullerTest, ConcurrentPullsWithOtherCredentialsDoNotShareAResult) {
  testing::RegistryOptions options;
  options.username = "alice";
  options.password = "right";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestRegistry> registry,
                       TestRegistry::Start(*sys_, options));
  ASSERT_OK_AND_ASSIGN(BuiltImage image,
                       BusyboxImage("credentials", Compression::kGzip));
  Pusher pusher(registry->url(), registry->http_options(), "alice", "right");
  ASSERT_OK(testing::PushImage(pusher, "pull/creds", "v1", image).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testing::GatedProxy> proxy,
                       testing::GatedProxy::Start(*sys_, registry->host(),
                                                  image.layers[1].digest));
  HostConfig c;
  c.insecure = true;
  ASSERT_OK_AND_ASSIGN(RegistryHosts hosts,
                       RegistryHosts::Create({{proxy->host(), c}}));
  Puller puller(*sys_, store_, std::move(hosts));
  const std::string ref = absl::StrCat(proxy->host(), "/pull/creds:v1");

  Credentials alice;
  alice.username = "alice";
  alice.password = "right";
  absl::StatusOr<ImageRecord> allowed = absl::UnknownError("unrun");
  absl::Notification allowed_done;
  std::thread first([&] {
    allowed = puller.Pull(ref, alice);
    allowed_done.Notify();
  });
  absl::Cleanup release = [&] {
    proxy->Release().IgnoreError();  // teardown: the assertions report
    first.join();
  };
  ASSERT_OK(proxy->WaitUntilHolding(absl::Seconds(60)));

  Credentials wrong = alice;
  wrong.password = "wrong";
  for (const Credentials& other : {wrong, Credentials()}) {
    absl::StatusOr<ImageRecord> refused = absl::UnknownError("unrun");
    absl::Notification done;
    std::thread second([&] {
      refused = puller.Pull(ref, other);
      done.Notify();
    });
    // Bounded: with a shared result this pull would wait for the held one.
    const bool answered =
        done.WaitForNotificationWithTimeout(absl::Seconds(60));
    if (!answered) ASSERT_OK(proxy->Release());
    second.join();
    EXPECT_TRUE(answered) << "the pull waited for another caller's pull";
    EXPECT_THAT(refused.status(), StatusIs(absl::StatusCode::kUnauthenticated));
  }
  // Proof of overlap: both refusals came while the first was still held.
  EXPECT_FALSE(allowed_done.HasBeenNotified());
  EXPECT_EQ(proxy->HoldCount(), 1);

  std::move(release).Invoke();
  ASSERT_OK(allowed.status());
  EXPECT_EQ(allowed->id, image.config_digest);
  // The refused pulls' garbage collection left the held pull's layers.
  ExpectUnpacked(*allowed, "credentials");
}

TEST_F(PullerTest, UnreachableRegistryIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(int port, testing::FreeLoopbackPort());
  std::string host = absl::StrCat("127.0.0.1:", port);
  HostConfig c;
  c.insecure = true;
  ASSERT_OK_AND_ASSIGN(RegistryHosts hosts, RegistryHosts::Create({{host, c}}));
  Puller puller(*sys_, store_, std::move(hosts));
  EXPECT_THAT(puller.Pull(host + "/pull/none:v1", {}).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  ExpectNothingStored();
}

TEST_F(PullerTest, UnknownTagIsNotFoundAndBadReferenceInvalid) {
  Puller puller(*sys_, store_, InsecureHosts());
  EXPECT_THAT(puller.Pull(absl::StrCat(registry_->host(), "/pull/tag:nope"), {})
                  .status(),
              StatusIs(absl::StatusCode::kNotFound));
  absl::StatusOr<ImageRecord> bad = puller.Pull("UPPER/Case:x", {});
  EXPECT_THAT(bad.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad.status().message(), HasSubstr("image"));
  ExpectNothingStored();
}

TEST_F(PullerTest, DecompressionBombPastTheLimitLeavesNothing) {
  TarEntry bomb;
  bomb.path = "zeros";
  bomb.data = std::string(32 << 20, '\0');
  ASSERT_OK_AND_ASSIGN(BuiltLayer layer,
                       testing::MakeLayer({bomb}, Compression::kGzip));
  ASSERT_LT(layer.blob.size(), 1u << 20);
  BuiltImage image = testing::MakeImage({layer}, HostPlatform());
  std::string ref = Push("pull/bomb", "v1", image);
  PullOptions options;
  options.unpack.max_bytes = 4 << 20;
  Puller puller(*sys_, store_, InsecureHosts(), options);
  EXPECT_THAT(puller.Pull(ref, {}).status(),
              StatusIs(absl::StatusCode::kResourceExhausted));
  ExpectNothingStored();

  // The compressed total limit, checked from the manifest before any
  // layer is fetched.
  PullOptions small;
  small.max_image_bytes = 1000;
  Puller limited(*sys_, store_, InsecureHosts(), small);
  EXPECT_THAT(limited.Pull(ref, {}).status(),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(limited.layer_downloads(), 0);
  ExpectNothingStored();
}

}  // namespace
}  // namespace podsandbox::image
