// podsandboxd's [metrics] endpoint, scraped over its real unix socket with
// cpp-httplib's client while the real daemon runs pods: each family the
// issue names must move with what the daemon did (RPCs, CNI plugin execs,
// runtime commands, sandboxes per state, a rollback, a restart's
// recovery, the process's fds and memory). Also --log-format json: one
// JSON object per RPC, and systemd's notify protocol (READY=1 once the
// CRI socket listens, STOPPING=1 at SIGTERM). Needs root.
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/testing/pod_config.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

PodsandboxdTestBase::Options FixtureOptions() {
  PodsandboxdTestBase::Options options;
  options.bridge = "psbmetrics0";
  options.subnet = "10.237.0.0/24";
  options.network_name = "psb-metrics-test";
  options.extra_daemon_args = {"--log-format", "json"};
  return options;
}

class MetricsTest : public PodsandboxdTestBase {
 protected:
  MetricsTest() : PodsandboxdTestBase(FixtureOptions()) {}

  void SetUp() override {
    PodsandboxdTestBase::SetUp();
    metrics_socket_ = base().Sub("metrics.sock");
    // A runc that fails `create` and passes every other verb to runc, so a
    // RunPodSandbox rolls back after namespaces, network and pod files.
    const std::string failing = base().Sub("runc-failing-create");
    WriteAll(failing,
             "#!/bin/sh\n"
             "for a in \"$@\"; do\n"
             "  [ \"$a\" = create ] && { "
             "exit 1; }\n"
             "done\n"
             "exec /usr/sbin/runc \"$@\"\n");
    ASSERT_EQ(chmod(failing.c_str(), 0755), 0);
    WriteAll(config(), absl::StrCat(ReadAll(config()), R"(
[[runtime_handlers]]
name = "failing"
type = "runc"
path = ")",
                                    failing, R"("

[metrics]
address = "unix:)",
                                    metrics_socket_, "\"\n"));
  }

  // GET /metrics over the unix socket; fails the test when it cannot.
  std::string Scrape() {
    httplib::Client client(metrics_socket_);
    client.set_address_family(AF_UNIX);
    httplib::Result result = client.Get("/metrics");
    EXPECT_TRUE(result) << httplib::to_string(result.error());
    if (!result) return "";
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->get_header_value("Content-Type"),
              "text/plain; version=0.0.4; charset=utf-8");
    return result->body;
  }

  std::string Run(const v1::PodSandboxConfig& config,
                  const std::string& handler, grpc::Status* status) {
    v1::RunPodSandboxRequest request;
    *request.mutable_config() = config;
    request.set_runtime_handler(handler);
    v1::RunPodSandboxResponse response;
    *status =
        runtime_service().RunPodSandbox(RpcContext().get(), request, &response);
    return response.pod_sandbox_id();
  }

  std::string metrics_socket_;
};

// The value of the sample `series` (its name and labels exactly as written
// in the exposition), or -1 when the scrape has no such line.
double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      double value = -1;
      EXPECT_TRUE(absl::SimpleAtod(line.substr(series.size() + 1), &value))
          << line;
      return value;
    }
  }
  return -1;
}

TEST_F(MetricsTest, EveryFamilyMovesThroughAPodLifecycleRollbackAndRestart) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  struct stat st;
  ASSERT_EQ(stat(metrics_socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660);

  const std::string idle = Scrape();
  EXPECT_EQ(Sample(idle, "podsandbox_sandboxes{state=\"ready\"}"), 0) << idle;
  EXPECT_GT(Sample(idle, "process_open_fds"), 0) << idle;
  EXPECT_GT(Sample(idle, "process_resident_memory_bytes"), 0) << idle;
  EXPECT_GE(Sample(idle, "podsandbox_recovery_duration_seconds"), 0) << idle;

  grpc::Status status;
  const std::string id =
      Run(UsernsPodConfig("metrics", 200000), "runc", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  Run(UsernsPodConfig("rolled-back", 300000), "failing", &status);
  ASSERT_FALSE(status.ok());
  ASSERT_THAT(status.error_message(), ::testing::HasSubstr("failing create"));

  const std::string running = Scrape();
  EXPECT_EQ(Sample(running, "podsandbox_sandboxes{state=\"ready\"}"), 1)
      << running;
  EXPECT_EQ(Sample(running,
                   "podsandbox_rpc_duration_seconds_count{method="
                   "\"RunPodSandbox\",code=\"OK\"}"),
            1)
      << running;
  EXPECT_EQ(Sample(running,
                   "podsandbox_rpc_duration_seconds_count{method="
                   "\"RunPodSandbox\",code=\"INTERNAL\"}"),
            1)
      << running;
  EXPECT_EQ(Sample(running,
                   "podsandbox_rpc_duration_seconds_bucket{method="
                   "\"RunPodSandbox\",code=\"OK\",le=\"+Inf\"}"),
            1);
  // Both pods' ADD, and the rolled-back one's DEL.
  EXPECT_EQ(Sample(running,
                   "podsandbox_cni_plugin_exec_duration_seconds_count{"
                   "plugin=\"bridge\",command=\"ADD\"}"),
            2)
      << running;
  EXPECT_GE(Sample(running,
                   "podsandbox_cni_plugin_exec_duration_seconds_count{"
                   "plugin=\"bridge\",command=\"DEL\"}"),
            1);
  EXPECT_EQ(Sample(running,
                   "podsandbox_runtime_command_duration_seconds_count{"
                   "runtime=\"runc\",verb=\"create\"}"),
            1)
      << running;
  EXPECT_EQ(Sample(running,
                   "podsandbox_runtime_command_duration_seconds_count{"
                   "runtime=\"failing\",verb=\"create\"}"),
            1);
  for (const char* step : {"namespaces", "network", "remove bundle"}) {
    EXPECT_EQ(Sample(running, absl::StrCat("podsandbox_rollback_steps_total{"
                                           "step=\"",
                                           step, "\",outcome=\"ok\"}")),
              1)
        << step << "\n"
        << running;
  }

  // A SIGKILL, then a restart: recovery re-attaches the running pod.
  CloseClient();
  StopDaemon(SIGKILL);
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string recovered = Scrape();
  EXPECT_EQ(
      Sample(recovered,
             "podsandbox_recovery_sandboxes_total{outcome=\"reattached\"}"),
      1)
      << recovered;
  EXPECT_GE(Sample(recovered, "podsandbox_recovery_duration_seconds"), 0);
  EXPECT_EQ(Sample(recovered, "podsandbox_sandboxes{state=\"ready\"}"), 1);

  ASSERT_TRUE(StopPod(id).ok());
  const std::string stopped = Scrape();
  EXPECT_EQ(Sample(stopped, "podsandbox_sandboxes{state=\"ready\"}"), 0);
  EXPECT_EQ(Sample(stopped, "podsandbox_sandboxes{state=\"notready\"}"), 1);
  ASSERT_TRUE(RemovePod(id).ok());
  const std::string removed = Scrape();
  EXPECT_EQ(Sample(removed, "podsandbox_sandboxes{state=\"notready\"}"), 0);
  for (const char* method : {"StopPodSandbox", "RemovePodSandbox"}) {
    EXPECT_EQ(
        Sample(removed, absl::StrCat("podsandbox_rpc_duration_seconds_count{"
                                     "method=\"",
                                     method, "\",code=\"OK\"}")),
        1)
        << method << "\n"
        << removed;
  }
  EXPECT_EQ(Sample(removed,
                   "podsandbox_cni_plugin_exec_duration_seconds_count{"
                   "plugin=\"bridge\",command=\"DEL\"}"),
            1)
      << removed;
  EXPECT_GE(Sample(removed,
                   "podsandbox_runtime_command_duration_seconds_count{"
                   "runtime=\"runc\",verb=\"delete\"}"),
            1)
      << removed;
  EXPECT_GT(Sample(removed, "process_open_fds"), 0);
  // The last scrape, for a reader of the test's outputs (bazel-testlogs/
  // .../test.outputs/): what an operator's Prometheus sees.
  if (const char* dir = getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
    WriteAll(absl::StrCat(dir, "/scrape.txt"),
             absl::StrCat(running,
                          "\n# ---- after SIGKILL, restart, stop, "
                          "remove ----\n",
                          removed));
  }

  // --log-format json: every line an object; one per RPC with its fields.
  int rpc_lines = 0;
  for (absl::string_view line : absl::StrSplit(DaemonLog(), '\n')) {
    if (!absl::StartsWith(line, "{")) continue;  // the fixture's own notes
    nlohmann::json object = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(object.is_discarded()) << line;
    EXPECT_TRUE(object.contains("time") && object.contains("level")) << line;
    if (object.contains("rpc") && object["rpc"] == "RunPodSandbox" &&
        object["code"] == "INTERNAL") {
      ++rpc_lines;
      EXPECT_EQ(object["pod"], "test/rolled-back") << line;
      EXPECT_TRUE(object["duration"].is_string()) << line;
    }
  }
  EXPECT_EQ(rpc_lines, 1) << DaemonLog();
}

// What systemd's Type=notify sees: a datagram socket named by
// NOTIFY_SOCKET gets READY=1 once the CRI socket accepts, and STOPPING=1
// when SIGTERM stops the daemon.
TEST_F(MetricsTest, NotifiesSystemdReadyOnceServingAndStoppingAtSigterm) {
  const std::string notify = base().Sub("notify.sock");
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, notify.c_str(), notify.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  // The daemon inherits it (the fixture execs it with our environment).
  ASSERT_EQ(setenv("NOTIFY_SOCKET", notify.c_str(), 1), 0);
  auto receive = [fd]() -> std::string {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 60000) != 1) return "(nothing within 60 s)";
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    return n < 0 ? "(recv failed)" : std::string(buf, n);
  };
  StartDaemon();
  unsetenv("NOTIFY_SOCKET");
  ASSERT_FALSE(HasFatalFailure());
  const std::string ready = receive();
  EXPECT_EQ(ready,
            absl::StrCat("READY=1\nSTATUS=serving on unix://", socket()));
  CloseClient();
  StopDaemon(SIGTERM);
  EXPECT_EQ(receive(), "STOPPING=1");
  close(fd);
  unlink(notify.c_str());
}

// Socket activation, as podsandbox.socket gives it: systemd-socket-activate
// binds the CRI socket and execs the daemon on the first connection with
// the socket as fd 3; the daemon serves a pod's lifecycle through it and
// leaves the socket (systemd's) in place at SIGTERM.
class SocketActivationTest : public PodsandboxdTestBase {
 protected:
  static Options ActivatedOptions() {
    Options options = FixtureOptions();
    options.bridge = "psbsockact0";
    options.subnet = "10.238.0.0/24";
    options.network_name = "psb-sockact-test";
    options.socket_activated = true;
    return options;
  }
  SocketActivationTest() : PodsandboxdTestBase(ActivatedOptions()) {}
};

TEST_F(SocketActivationTest, ServesAPodThroughTheSocketSystemdPassed) {
  ASSERT_EQ(mkdir(state().c_str(), 0711), 0);
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  // systemd's socket listens before the daemon runs, so the daemon answers
  // Version as soon as it accepts, a moment before it logs its serving line:
  // wait for the line rather than read the log once.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (DaemonLog().find("(socket from systemd)") == std::string::npos &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));  // polling, with a deadline
  }
  EXPECT_THAT(DaemonLog(), ::testing::HasSubstr("(socket from systemd)"));

  v1::RunPodSandboxRequest request;
  *request.mutable_config() = UsernsPodConfig("activated", 200000);
  v1::RunPodSandboxResponse response;
  grpc::Status status =
      runtime_service().RunPodSandbox(RpcContext().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ListPods().size(), 1u);
  EXPECT_TRUE(StopPod(response.pod_sandbox_id()).ok());
  EXPECT_TRUE(RemovePod(response.pod_sandbox_id()).ok());

  CloseClient();
  StopDaemon(SIGTERM);
  struct stat st;
  ASSERT_EQ(lstat(socket().c_str(), &st), 0) << "the activated socket went";
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_THAT(DaemonLog(), ::testing::HasSubstr("stopped"));
}

}  // namespace
}  // namespace podsandbox::cri
