// Images: the names kubelet and crictl use resolve to the stored image,
// removal honours the in-use check and is idempotent.
#include "image/images.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/digest.h"
#include "image/image_record.h"
#include "image/store.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ImagesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(store_.Init(), IsOk()); }

  // Stores an image (config and manifest blobs, no layers) named `tags`.
  ImageRecord Add(const std::string& seed, std::vector<std::string> tags,
                  std::vector<std::string> digests = {}) {
    std::string config = absl::StrCat("{\"config\":\"", seed, "\"}");
    std::string manifest = absl::StrCat("{\"manifest\":\"", seed, "\"}");
    ImageRecord r;
    r.id = Sha256Of(config);
    r.manifest_digest = Sha256Of(manifest);
    r.repo_tags = std::move(tags);
    r.repo_digests = std::move(digests);
    r.blobs = {r.id, r.manifest_digest};
    r.size = 1;
    EXPECT_THAT(store_.PutBlob(r.id, config), IsOk());
    EXPECT_THAT(store_.PutBlob(r.manifest_digest, manifest), IsOk());
    EXPECT_THAT(store_.PutImage(r), IsOk());
    return r;
  }

  sys::RealSys sys_;
  sys::TempDir tmp_;
  Store store_{sys_, tmp_.Sub("images")};
  Images images_{store_};
};

TEST_F(ImagesTest, FindsAnImageByEveryNameKubeletAndCrictlUse) {
  ImageRecord busybox = Add("busybox", {"docker.io/library/busybox:latest"});
  std::string repo_digest = absl::StrCat("docker.io/library/busybox@",
                                         busybox.manifest_digest.String());
  ASSERT_TRUE(store_
                  .PutImage([&] {
                    ImageRecord r = busybox;
                    r.repo_digests = {repo_digest};
                    return r;
                  }())
                  .ok());
  for (const std::string& name :
       {std::string("busybox"), std::string("busybox:latest"),
        std::string("docker.io/library/busybox:latest"),
        std::string("docker.io/library/busybox"), busybox.id.String(),
        busybox.id.hex, busybox.id.hex.substr(0, 12),
        absl::StrCat("sha256:", busybox.id.hex.substr(0, 12)), repo_digest,
        absl::StrCat("busybox@", busybox.manifest_digest.String())}) {
    SCOPED_TRACE(name);
    absl::StatusOr<ImageRecord> found = images_.Find(name);
    ASSERT_THAT(found.status(), IsOk());
    EXPECT_EQ(found->id, busybox.id);
  }
}

TEST_F(ImagesTest, RefusesWhatNamesNoImage) {
  Add("busybox", {"docker.io/library/busybox:latest"});
  EXPECT_THAT(images_.Find("busybox:other").status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(images_.Find("registry.k8s.io/busybox").status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(images_.Find("").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("image")));
}

TEST_F(ImagesTest, ANameComesBeforeAnIdPrefix) {
  ImageRecord named = Add("named", {"docker.io/library/cafe:latest"});
  ImageRecord other = Add("other", {});
  // Whatever "cafe" is as an id prefix, it names the image cafe:latest.
  absl::StatusOr<ImageRecord> found = images_.Find("cafe");
  ASSERT_THAT(found.status(), IsOk());
  EXPECT_EQ(found->id, named.id);
  EXPECT_NE(found->id, other.id);
}

TEST_F(ImagesTest, RemoveRefusesAnImageInUseAndIsIdempotent) {
  ImageRecord busybox = Add("busybox", {"docker.io/library/busybox:latest"});
  std::vector<Digest> asked;
  images_.SetInUse([&asked, &busybox](const Digest& id) {
    asked.push_back(id);
    return id == busybox.id;
  });
  EXPECT_THAT(
      images_.Remove("busybox"),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("in use")));
  EXPECT_THAT(asked, ElementsAre(busybox.id));
  EXPECT_THAT(images_.Find("busybox").status(), IsOk());

  images_.SetInUse([](const Digest&) { return false; });
  EXPECT_THAT(images_.Remove("busybox"), IsOk());
  EXPECT_THAT(images_.Find(busybox.id.String()).status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(store_.HasBlob(busybox.id));
  EXPECT_THAT(images_.Remove("busybox"), IsOk());  // gone already: fine
}

TEST_F(ImagesTest, ListsOldestFirst) {
  ImageRecord first = Add("first", {"docker.io/library/first:latest"});
  ImageRecord second = Add("second", {"docker.io/library/second:latest"});
  std::vector<ImageRecord> all = images_.List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_LE(all[0].created, all[1].created);
  EXPECT_EQ(all[0].id, first.id);
  EXPECT_EQ(all[1].id, second.id);
}

}  // namespace
}  // namespace podsandbox::image
