#include "image/manifest.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

std::string Manifest(absl::string_view layer_type = kOciLayerGzip) {
  return absl::StrCat(R"({"schemaVersion":2,"mediaType":")", kOciManifest,
                      R"(","config":{"mediaType":")", kOciConfig,
                      R"(","digest":")", kA,
                      R"(","size":10},"layers":[{"mediaType":")", layer_type,
                      R"(","digest":")", kB, R"(","size":20}]})");
}

TEST(ManifestTest, ParsesImageManifest) {
  ASSERT_OK_AND_ASSIGN(ImageManifest m, ParseImageManifest(Manifest()));
  EXPECT_EQ(m.config.digest.String(), kA);
  EXPECT_EQ(m.config.size, 10);
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_EQ(m.layers[0].digest.String(), kB);
  EXPECT_EQ(m.layers[0].media_type, kOciLayerGzip);
}

TEST(ManifestTest, RefusesMalformedManifestsNamingTheField) {
  struct Case {
    std::string bytes, field;
  } cases[] = {
      {"not json", "manifest: "},
      {"[]", "manifest: "},
      {absl::StrReplaceAll(Manifest(), {{"\"schemaVersion\":2", "\"x\":1"}}),
       "manifest.schemaVersion: "},
      {Manifest("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"),
       "manifest.layers[0].mediaType: "},
      {absl::StrReplaceAll(Manifest(), {{"\"size\":20", "\"size\":-1"}}),
       "manifest.layers[0].size: "},
      {absl::StrReplaceAll(Manifest(), {{kB, "sha256:12"}}),
       "manifest.layers[0].digest: "},
      {absl::StrReplaceAll(Manifest(), {{kOciConfig, "text/plain"}}),
       "manifest.config.mediaType: "},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(
        ParseImageManifest(c.bytes),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)))
        << c.bytes;
  }
}

std::string Entry(const std::string& digest, absl::string_view arch,
                  absl::string_view variant = "") {
  return absl::StrCat(R"({"mediaType":")", kOciManifest, R"(","digest":")",
                      digest, R"(","size":5,"platform":{"os":"linux",)",
                      R"("architecture":")", arch, R"(","variant":")", variant,
                      R"("}})");
}

TEST(ManifestTest, IndexAndPlatformSelection) {
  std::string bytes =
      absl::StrCat(R"({"schemaVersion":2,"mediaType":")", kOciIndex,
                   R"(","manifests":[)", Entry(kA, "arm64", "v7"), ",",
                   Entry(kB, "arm64"), ",", Entry(kC, "amd64"), "]}");
  ASSERT_OK_AND_ASSIGN(ManifestKind kind, DetectManifestKind("", bytes));
  EXPECT_EQ(kind, ManifestKind::kIndex);
  ASSERT_OK_AND_ASSIGN(ImageIndex index, ParseImageIndex(bytes));
  ASSERT_EQ(index.manifests.size(), 3u);
  ASSERT_OK_AND_ASSIGN(Descriptor d,
                       SelectPlatform(index, {"linux", "amd64", ""}));
  EXPECT_EQ(d.digest.String(), kC);
  ASSERT_OK_AND_ASSIGN(d, SelectPlatform(index, {"linux", "arm64", "v8"}));
  EXPECT_EQ(d.digest.String(), kB);  // no v8: the variant-less one
  ASSERT_OK_AND_ASSIGN(d, SelectPlatform(index, {"linux", "arm64", "v7"}));
  EXPECT_EQ(d.digest.String(), kA);
  EXPECT_THAT(SelectPlatform(index, {"linux", "s390x", ""}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("linux/s390x")));
  EXPECT_EQ(HostPlatform().os, "linux");
}

TEST(ManifestTest, DetectsKindFromContentTypeFirst) {
  EXPECT_THAT(DetectManifestKind(
                  absl::StrCat(kDockerManifestList, "; charset=utf-8"), "{}"),
              sys::testing::IsOkAndHolds(ManifestKind::kIndex));
  EXPECT_THAT(DetectManifestKind("application/json", Manifest()),
              sys::testing::IsOkAndHolds(ManifestKind::kImage));
  EXPECT_THAT(DetectManifestKind("", R"({"mediaType":"x/y"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("manifest.mediaType")));
}

TEST(ManifestTest, ParsesConfig) {
  std::string bytes = absl::StrCat(
      R"({"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z",)",
      R"("config":{"User":"1000:1000","Env":["PATH=/bin"],"Entrypoint":["/bin/sh"],)",
      R"("Cmd":["-c","true"],"WorkingDir":"/w","ExposedPorts":{"80/tcp":{},"53/udp":{}},)",
      R"("Labels":{"a":"b"},"StopSignal":"SIGTERM"},)",
      R"("rootfs":{"type":"layers","diff_ids":[")", kA, R"("]}})");
  ASSERT_OK_AND_ASSIGN(ImageConfig c, ParseImageConfig(bytes));
  EXPECT_EQ(c.platform.architecture, "amd64");
  EXPECT_EQ(c.user, "1000:1000");
  EXPECT_THAT(c.env, ElementsAre("PATH=/bin"));
  EXPECT_THAT(c.entrypoint, ElementsAre("/bin/sh"));
  EXPECT_THAT(c.cmd, ElementsAre("-c", "true"));
  EXPECT_EQ(c.working_dir, "/w");
  EXPECT_THAT(c.exposed_ports, ElementsAre("53/udp", "80/tcp"));
  EXPECT_THAT(c.labels, ElementsAre(Pair("a", "b")));
  EXPECT_EQ(c.stop_signal, "SIGTERM");
  ASSERT_EQ(c.diff_ids.size(), 1u);
  EXPECT_EQ(c.diff_ids[0].String(), kA);
  EXPECT_THAT(ParseImageConfig(R"({"rootfs":{"diff_ids":["x"]}})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.rootfs.diff_ids[0]: ")));
  EXPECT_THAT(ParseImageConfig(R"({"config":{"Env":"x"},"rootfs":{}})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.config.Env")));
}

// Docker writes nulls for what a Dockerfile left unset.
TEST(ManifestTest, NullConfigFieldsAreUnset) {
  ASSERT_OK_AND_ASSIGN(
      ImageConfig c,
      ParseImageConfig(
          R"({"os":"linux","variant":null,"config":{"User":null,"Env":null,)"
          R"("Entrypoint":null,"Cmd":["sh"],"Labels":null},"rootfs":{}})"));
  EXPECT_EQ(c.platform.variant, "");
  EXPECT_EQ(c.user, "");
  EXPECT_TRUE(c.env.empty());
  EXPECT_TRUE(c.entrypoint.empty());
  EXPECT_THAT(c.cmd, ElementsAre("sh"));
  EXPECT_TRUE(c.labels.empty());
  EXPECT_THAT(ParseImageConfig(R"({"config":{"Labels":{"a":1}},"rootfs":{}})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.config.Labels.a")));
}

}  // namespace
}  // namespace podsandbox::image
