#include "image/auth_challenge.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(AuthChallengeTest, ParsesDockerHubBearer) {
  ASSERT_OK_AND_ASSIGN(
      AuthChallenge c,
      ParseAuthChallenge(
          "Bearer realm=\"https://auth.docker.io/token\",service="
          "\"registry.docker.io\",scope=\"repository:library/busybox:pull\""));
  EXPECT_EQ(c.scheme, "bearer");
  EXPECT_THAT(c.params,
              ElementsAre(Pair("realm", "https://auth.docker.io/token"),
                          Pair("scope", "repository:library/busybox:pull"),
                          Pair("service", "registry.docker.io")));
}

TEST(AuthChallengeTest, TokensSpacesEscapesAndCase) {
  ASSERT_OK_AND_ASSIGN(
      AuthChallenge c,
      ParseAuthChallenge("  BASIC Realm = \"a \\\"q\\\" b\" , x=tok ,"));
  EXPECT_EQ(c.scheme, "basic");
  EXPECT_THAT(c.params,
              ElementsAre(Pair("realm", "a \"q\" b"), Pair("x", "tok")));
  ASSERT_OK_AND_ASSIGN(c, ParseAuthChallenge("Basic"));
  EXPECT_TRUE(c.params.empty());
}

TEST(AuthChallengeTest, KeepsTheFirstOfTwoChallenges) {
  ASSERT_OK_AND_ASSIGN(
      AuthChallenge c,
      ParseAuthChallenge("Basic realm=\"r\", Bearer realm=\"t\""));
  EXPECT_EQ(c.scheme, "basic");
  EXPECT_THAT(c.params, ElementsAre(Pair("realm", "r")));
}

TEST(AuthChallengeTest, RefusesMalformed) {
  for (const char* bad : {"", "   ", "Bearer realm=\"unterminated", "Bearer =x",
                          "Bearer realm=\"a\" service=\"b\"", "Bearer realm"}) {
    EXPECT_THAT(ParseAuthChallenge(bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("WWW-Authenticate: ")))
        << bad;
  }
}

}  // namespace
}  // namespace podsandbox::image
