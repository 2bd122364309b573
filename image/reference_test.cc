#include "image/reference.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kHex(64, 'a');

struct Valid {
  std::string in;
  std::string registry, repository, tag;
  bool pinned;
};

TEST(ReferenceTest, NormalisesValidReferences) {
  const Valid cases[] = {
      {"busybox", "docker.io", "library/busybox", "latest", false},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", false},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", false},
      {"index.docker.io/library/busybox", "docker.io", "library/busybox",
       "latest", false},
      {"a/b", "docker.io", "a/b", "latest", false},
      {"host:5000/a/b:t", "host:5000", "a/b", "t", false},
      {"localhost/x", "localhost", "x", "latest", false},
      {"127.0.0.1:5000/x", "127.0.0.1:5000", "x", "latest", false},
      {"registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", false},
      {"a/b@sha256:" + kHex, "docker.io", "a/b", "", true},
      {"a/b:t@sha256:" + kHex, "docker.io", "a/b", "t", true},
      {"h.io/a.b/c__d/e-f---g/h_i:V_1.-x", "h.io", "a.b/c__d/e-f---g/h_i",
       "V_1.-x", false},
      {"Host.IO/a", "Host.IO", "a", "latest", false},
  };
  for (const Valid& c : cases) {
    SCOPED_TRACE(c.in);
    ASSERT_OK_AND_ASSIGN(Reference r, ParseReference(c.in));
    EXPECT_EQ(r.registry, c.registry);
    EXPECT_EQ(r.repository, c.repository);
    EXPECT_EQ(r.tag, c.tag);
    EXPECT_EQ(r.digest.has_value(), c.pinned);
  }
}

TEST(ReferenceTest, StringIsTheFullFamiliarForm) {
  ASSERT_OK_AND_ASSIGN(Reference r, ParseReference("busybox"));
  EXPECT_EQ(r.String(), "docker.io/library/busybox:latest");
  EXPECT_EQ(r.Name(), "docker.io/library/busybox");
  EXPECT_EQ(r.ManifestReference(), "latest");
  ASSERT_OK_AND_ASSIGN(r, ParseReference("h:1/a:t@sha256:" + kHex));
  EXPECT_EQ(r.String(), "h:1/a:t@sha256:" + kHex);
  EXPECT_EQ(r.ManifestReference(), "sha256:" + kHex);
}

struct Invalid {
  std::string in;
  std::string reason;
};

TEST(ReferenceTest, RefusesMalformedNamingImageAndReason) {
  const Invalid cases[] = {
      {"", "must not be empty"},
      {"Busybox", "must be lowercase"},
      {"a/B", "must be lowercase"},
      {"a//b", "invalid repository path component"},
      {"a/b/", "invalid repository path component"},
      {"-a", "invalid repository path component"},
      {"a..b", "invalid repository path component"},
      {"a___b", "invalid repository path component"},
      {"a b", "invalid repository path component"},
      {"a:", "invalid tag"},
      {"a:-t", "invalid tag"},
      {"a:" + std::string(129, 't'), "invalid tag"},
      {"a:t/x", "invalid registry host"},
      {"a@sha256:abc", "64 hex digits"},
      {"a@md5:abc", "sha256"},
      {"a@sha256:" + std::string(64, 'A'), "lowercase hex"},
      {":t", "must not be empty"},
      {"h.io/", "must not be empty"},
      {"-h.io/a", "invalid registry host"},
      {"h.io:abc/a", "invalid registry host"},
      {"h_x.io/a", "invalid registry host"},
      {kHex, "image id"},
      {"h.io/" + std::string(251, 'a'), "longer than 255"},
      {std::string(1000, 'a'), "too long"},
  };
  for (const Invalid& c : cases) {
    EXPECT_THAT(ParseReference(c.in),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(StartsWith("image: "), HasSubstr(c.reason))))
        << c.in;
  }
}

TEST(ReferenceTest, FieldNameIsTheCallers) {
  EXPECT_THAT(
      ParseReference("A", "spec.image"),
      StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("spec.image: ")));
}

TEST(ReferenceTest, Tags) {
  EXPECT_TRUE(IsValidTag("latest"));
  EXPECT_TRUE(IsValidTag("_x"));
  EXPECT_FALSE(IsValidTag(""));
  EXPECT_FALSE(IsValidTag(".x"));
  EXPECT_FALSE(IsValidTag("a/b"));
}

}  // namespace
}  // namespace podsandbox::image
