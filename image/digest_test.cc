#include "image/digest.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kEmptySha[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(DigestTest, ParsesSha256) {
  ASSERT_OK_AND_ASSIGN(Digest d,
                       Digest::Parse(std::string("sha256:") + kEmptySha));
  EXPECT_EQ(d.algorithm, "sha256");
  EXPECT_EQ(d.hex, kEmptySha);
  EXPECT_EQ(d.String(), std::string("sha256:") + kEmptySha);
}

TEST(DigestTest, RefusesMalformedNamingTheField) {
  const std::string upper = "sha256:" + std::string(64, 'A');
  for (const std::string& bad :
       {std::string(""), std::string(kEmptySha),
        "sha512:" + std::string(128, 'a'), "sha256:" + std::string(63, 'a'),
        "sha256:" + std::string(65, 'a'), upper,
        "sha256:" + std::string(63, 'a') + "g"}) {
    EXPECT_THAT(Digest::Parse(bad, "manifest.config.digest"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("manifest.config.digest: ")))
        << bad;
  }
}

TEST(Sha256Test, StreamingEqualsOneShot) {
  EXPECT_EQ(Sha256Of("").hex, kEmptySha);
  Sha256 h;
  h.Update("hello ");
  h.Update("");
  h.Update("world");
  EXPECT_EQ(h.Finish(), Sha256Of("hello world"));
  EXPECT_EQ(Sha256Of("hello world").hex,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
}

}  // namespace
}  // namespace podsandbox::image
