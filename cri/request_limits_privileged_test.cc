// podsandboxd's limits on what one request may be, end to end: gRPC's max
// receive message size comes from limits.request_bytes (set explicitly, so
// a request past gRPC's 4 MiB default reaches validation), and a refused
// request leaves nothing behind and cannot forge a log line.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

PodsandboxdTestBase::Options FixtureOptions() {
  PodsandboxdTestBase::Options options;
  options.bridge = "psblim0";
  options.subnet = "10.235.11.0/24";
  options.network_name = "psb-limits-test";
  return options;
}

v1::PodSandboxConfig PodConfig(absl::string_view name) {
  v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name(std::string(name));
  config.mutable_metadata()->set_namespace_("test");
  config.mutable_metadata()->set_uid("uid-1");
  return config;
}

class RequestLimitsTest : public PodsandboxdTestBase {
 protected:
  RequestLimitsTest() : PodsandboxdTestBase(FixtureOptions()) {}

  grpc::Status Run(const v1::PodSandboxConfig& config) {
    v1::RunPodSandboxRequest request;
    *request.mutable_config() = config;
    v1::RunPodSandboxResponse response;
    return runtime_service().RunPodSandbox(RpcContext().get(), request,
                                           &response);
  }
};

// 6 MiB: past gRPC's 4 MiB default, within our 16 MiB. The request reaches
// the controller, which refuses its annotations by their own limit.
TEST_F(RequestLimitsTest, RequestsPastGrpcsDefaultReachValidation) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  v1::PodSandboxConfig config = PodConfig("big");
  (*config.mutable_annotations())["big"] = std::string(6 << 20, 'a');
  grpc::Status s = Run(config);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << s.error_message();
  EXPECT_THAT(s.error_message(),
              HasSubstr("config.labels, config.annotations: are 6291459 bytes "
                        "together; at most 1048576"));
  EXPECT_THAT(ListPods(), IsEmpty());
}

TEST_F(RequestLimitsTest, RequestsPastRequestBytesAreRefusedByGrpc) {
  WriteAll(config(), ReadAll(config()) + "\n[limits]\nrequest_bytes = 65536\n");
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  v1::PodSandboxConfig config = PodConfig("big");
  (*config.mutable_annotations())["big"] = std::string(100 << 10, 'a');
  grpc::Status s = Run(config);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << s.error_message();
  EXPECT_THAT(ListPods(), IsEmpty());
  // A request within the bound still gets an answer.
  v1::VersionRequest request;
  v1::VersionResponse response;
  EXPECT_TRUE(
      runtime_service().Version(RpcContext().get(), request, &response).ok());
}

// A name with a newline is refused before any side effect (CNI_ARGS would
// have carried it), and its log line stays one line with the newline
// escaped.
TEST_F(RequestLimitsTest, ANameWithANewlineIsRefusedAndCannotForgeALogLine) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string forged = "rpc=RemovePodSandbox pod=test/db code=OK";
  grpc::Status s = Run(PodConfig(absl::StrCat("web\n", forged)));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("config.metadata.name: byte 0x0a at 3"));
  EXPECT_THAT(ListPods(), IsEmpty());
  const std::string log = DaemonLog();
  EXPECT_THAT(log, HasSubstr(absl::StrCat("web\\n", forged)));
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    EXPECT_THAT(std::string(line), Not(HasSubstr(absl::StrCat("] ", forged))));
    EXPECT_FALSE(absl::StartsWith(line, forged)) << line;
  }
}

}  // namespace
}  // namespace podsandbox::cri
