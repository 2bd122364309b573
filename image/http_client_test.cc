// http_client against a real HTTP server: the test registry.
#include "image/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/testing/pusher.h"
#include "image/testing/registry.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/unique_fd.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(registry_, testing::TestRegistry::Start(sys_));
    testing::Pusher pusher(registry_->url(), registry_->http_options());
    ASSERT_OK_AND_ASSIGN(blob_digest_, pusher.PushBlob("t/x", kBlob));
    blob_url_ =
        absl::StrCat(registry_->url(), "/v2/t/x/blobs/", blob_digest_.String());
  }

  static constexpr char kBlob[] = "0123456789abcdefghij";
  sys::RealSys sys_;
  std::unique_ptr<testing::TestRegistry> registry_;
  Digest blob_digest_;
  std::string blob_url_;
};

TEST_F(HttpClientTest, StreamsA2xxBodyIntoTheSink) {
  HttpRequest req;
  req.url = blob_url_;
  std::string got;
  ASSERT_OK_AND_ASSIGN(HttpResponse r,
                       Fetch({}, req, [&](absl::string_view piece) {
                         got.append(piece.data(), piece.size());
                         return absl::OkStatus();
                       }));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(got, kBlob);
  EXPECT_TRUE(r.body.empty());
  // Header names are lowercased.
  EXPECT_THAT(r.Header("docker-content-digest"),
              Optional(blob_digest_.String()));
}

TEST_F(HttpClientTest, ErrorStatusIsAResultWithItsBodyNotSunk) {
  HttpRequest req;
  req.url = registry_->url() + "/v2/t/x/manifests/missing";
  bool sunk = false;
  ASSERT_OK_AND_ASSIGN(HttpResponse r, Fetch({}, req, [&](absl::string_view) {
                         sunk = true;
                         return absl::OkStatus();
                       }));
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("MANIFEST_UNKNOWN"));
  EXPECT_FALSE(sunk);
}

TEST_F(HttpClientTest, SinkErrorStopsTheTransferAndIsReturned) {
  HttpRequest req;
  req.url = blob_url_;
  int calls = 0;
  EXPECT_THAT(Fetch({}, req,
                    [&](absl::string_view) {
                      ++calls;
                      return absl::DataLossError("sink says no");
                    }),
              StatusIs(absl::StatusCode::kDataLoss, "sink says no"));
  EXPECT_EQ(calls, 1);
}

TEST_F(HttpClientTest, BodyOverTheLimitIsResourceExhausted) {
  HttpRequest req;
  req.url = blob_url_;
  req.max_body_bytes = 5;
  EXPECT_THAT(Fetch({}, req), StatusIs(absl::StatusCode::kResourceExhausted));
  req.max_body_bytes = sizeof(kBlob) - 1;  // exactly the size: fine
  ASSERT_OK_AND_ASSIGN(HttpResponse r, Fetch({}, req));
  EXPECT_EQ(r.body, kBlob);
}

TEST_F(HttpClientTest, RefusesOtherSchemesAndMethods) {
  HttpRequest req;
  req.url = "file:///etc/passwd";
  EXPECT_THAT(Fetch({}, req), StatusIs(absl::StatusCode::kInvalidArgument));
  req.url = blob_url_;
  req.method = "PATCH";
  EXPECT_THAT(Fetch({}, req), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("method")));
}

TEST_F(HttpClientTest, HeadHasNoBody) {
  HttpRequest req;
  req.url = blob_url_;
  req.method = "HEAD";
  ASSERT_OK_AND_ASSIGN(HttpResponse r, Fetch({}, req));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_THAT(r.Header("content-length"), Optional(std::string("20")));
}

TEST(HttpClientStallTest, StalledServerIsDeadlineExceeded) {
  // A socket that listens but never accepts: the kernel completes the TCP
  // handshake, takes the request and nothing ever answers.
  sys::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener.valid());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  ASSERT_EQ(
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len),
      0);
  HttpOptions options;
  options.low_speed_time = absl::Seconds(1);
  HttpRequest req;
  req.url = absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/");
  EXPECT_THAT(Fetch(options, req),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST(UrlEscapeTest, EscapesReservedCharacters) {
  EXPECT_EQ(UrlEscape("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
}

}  // namespace
}  // namespace podsandbox::image
