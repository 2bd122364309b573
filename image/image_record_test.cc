#include "image/image_record.h"

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/digest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

// Expected values computed independently (Python's hashlib) from the OCI
// spec's definition.
TEST(ChainIdsTest, FollowTheOciDefinition) {
  std::vector<Digest> chain =
      ChainIds({Sha256Of("layer a"), Sha256Of("layer b"), Sha256Of("layer c")});
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0], Sha256Of("layer a"));
  EXPECT_EQ(chain[1].String(),
            "sha256:"
            "96097a2f877d2a7d46e93242c3e704909aa0d4486b8e4a03c8d91739d51f35c8");
  EXPECT_EQ(chain[2].String(),
            "sha256:"
            "eb60e3bb7bee074fb571fcbd9d3494f1ab5477da651e899915c6ee6bfb985b4f");
  EXPECT_TRUE(ChainIds({}).empty());
}

TEST(ImageRecordTest, JsonRoundTrip) {
  ImageRecord r;
  r.id = Sha256Of("config");
  r.repo_tags = {"docker.io/library/busybox:latest"};
  r.repo_digests = {"docker.io/library/busybox@" +
                    Sha256Of("manifest").String()};
  r.size = 1234567;
  r.manifest_digest = Sha256Of("manifest");
  r.layers = ChainIds({Sha256Of("l1"), Sha256Of("l2")});
  r.blobs = {r.id, r.manifest_digest};
  r.created = absl::FromUnixNanos(1'700'000'000'123'456'789);
  absl::StatusOr<ImageRecord> back = ImageRecordFromJson(ToJson(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->repo_tags, r.repo_tags);
  EXPECT_EQ(back->repo_digests, r.repo_digests);
  EXPECT_EQ(back->size, r.size);
  EXPECT_EQ(back->manifest_digest, r.manifest_digest);
  EXPECT_EQ(back->layers, r.layers);
  EXPECT_EQ(back->blobs, r.blobs);
  EXPECT_EQ(back->created, r.created);
}

TEST(ImageRecordTest, MalformedRecordsAreDataLossNamingTheField) {
  EXPECT_THAT(ImageRecordFromJson("{"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(ImageRecordFromJson("[]"), StatusIs(absl::StatusCode::kDataLoss));
  ImageRecord r;
  r.id = Sha256Of("config");
  r.manifest_digest = Sha256Of("manifest");
  std::string good = ToJson(r);
  std::string bad_layer = good;
  bad_layer.replace(bad_layer.find("\"layers\": []"), 12,
                    "\"layers\": [\"md5:00\"]");
  EXPECT_THAT(ImageRecordFromJson(bad_layer),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("layers")));
  std::string no_size = good;
  no_size.replace(no_size.find("\"size\""), 6, "\"sz\"");
  EXPECT_THAT(ImageRecordFromJson(no_size),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("size")));
}

}  // namespace
}  // namespace podsandbox::image
