#include "metrics/http_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "metrics/process.h"
#include "metrics/registry.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::metrics {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

TEST(ParseMetricsAddressTest, AcceptsIpPortAndUnixPaths) {
  ASSERT_OK_AND_ASSIGN(
      MetricsAddress tcp,
      ParseMetricsAddress("127.0.0.1:9090", "metrics.address"));
  EXPECT_FALSE(tcp.unix_socket);
  EXPECT_EQ(tcp.host, "127.0.0.1");
  EXPECT_EQ(tcp.port, 9090);
  ASSERT_OK_AND_ASSIGN(MetricsAddress v6,
                       ParseMetricsAddress("[::1]:1", "metrics.address"));
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 1);
  ASSERT_OK_AND_ASSIGN(MetricsAddress unix_socket,
                       ParseMetricsAddress("unix:/run/x/m.sock", "m"));
  EXPECT_TRUE(unix_socket.unix_socket);
  EXPECT_EQ(unix_socket.host, "/run/x/m.sock");
}

TEST(ParseMetricsAddressTest, RefusesNamingTheField) {
  for (const char* bad :
       {"localhost:9090", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:x", "[::1:9090", "unix:relative", "", ":9090"}) {
    EXPECT_THAT(ParseMetricsAddress(bad, "metrics.address"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("metrics.address")))
        << bad;
  }
}

TEST(MetricsServerTest, ServesTheRegistryOnAUnixSocket) {
  // Under /tmp: $TEST_TMPDIR is too deep for a unix socket path.
  sys::TempDir dir("/tmp");
  Registry registry;
  registry.Counter("test_scrapes_total", "t", {"k"}).Add({"v"}, 5);
  AddProcessCollector(registry);
  const std::string path = dir.Sub("metrics.sock");
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsServer> server,
                         MetricsServer::Start({true, path, 0}, registry));
    EXPECT_EQ(server->description(), "unix:" + path);
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660);

    httplib::Client client(path);
    client.set_address_family(AF_UNIX);
    httplib::Result result = client.Get("/metrics");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->get_header_value("Content-Type"),
              "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_THAT(result->body, HasSubstr("test_scrapes_total{k=\"v\"} 5\n"));
    EXPECT_THAT(result->body,
                ContainsRegex("\nprocess_open_fds [1-9][0-9]*\n"));
    EXPECT_THAT(
        result->body,
        ContainsRegex("\nprocess_resident_memory_bytes [1-9][0-9e+.]*\n"));
    EXPECT_THAT(result->body, ContainsRegex("\nprocess_start_time_seconds "));
    EXPECT_EQ(client.Get("/other")->status, 404);
  }
  // Stopped: the socket is gone.
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

TEST(MetricsServerTest, ReplacesAStaleSocketButNotALiveOne) {
  // Under /tmp: $TEST_TMPDIR is too deep for a unix socket path.
  sys::TempDir dir("/tmp");
  Registry registry;
  const std::string path = dir.Sub("metrics.sock");
  {
    // A socket bound but never listened on refuses connections: stale.
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(fd);
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsServer> first,
                       MetricsServer::Start({true, path, 0}, registry));
  EXPECT_THAT(MetricsServer::Start({true, path, 0}, registry),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("another server")));
}

TEST(MetricsServerTest, ServesOverTcpOnLoopback) {
  Registry registry;
  registry.Gauge("test_up", "t", {}).Set({}, 1);
  // A port of our own from the kernel, then released for the server:
  // the parser takes no port 0.
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  close(probe);
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<MetricsServer> server,
      MetricsServer::Start({false, "127.0.0.1", port}, registry));
  httplib::Client client("127.0.0.1", port);
  httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_THAT(result->body, HasSubstr("test_up 1\n"));
}

}  // namespace
}  // namespace podsandbox::metrics
