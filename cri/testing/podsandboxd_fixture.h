// A gtest fixture that runs the real podsandboxd binary on temporary
// directories, with its own bridge CNI network (bridge + host-local, the
// leases under the temporary directory) and one runc runtime handler,
// served on a unix socket under the temporary directory. For the end to
// end tests of podsandboxd itself and of the harness. Needs root.
//
// Every test leaves the host as it found it (sys::LeakCheckedTest): the
// daemon is stopped and its pods removed in TearDown; then, before anything
// is cleaned, FindLeftovers fails the test naming whatever a pod left in
// the temporary tree (records, CNI results, bundles, pins (net, user; uts
// and ipc of a pod without a pause) and other mounts, pod files, runtime
// state, IPAM leases, temp files); only then does
// CleanUpTestFixtures unmount what an idle daemon keeps mounted (its pin
// directories), delete the test bridge, remove the tree and restore
// net.ipv4.ip_forward. Cgroups and iptables rules live outside the tree:
// the leak check's host snapshot compares them. Tests that run in parallel
// must use different bridges and subnets.
//
// Not thread-safe: use it from the test's main thread only.
#ifndef PODSANDBOX_CRI_TESTING_PODSANDBOXD_FIXTURE_H_
#define PODSANDBOX_CRI_TESTING_PODSANDBOXD_FIXTURE_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "grpcpp/grpcpp.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cri {

// The absolute path of `path` (from the workspace root) in the test's
// runfiles.
std::string Runfile(absl::string_view path);

// The whole file; empty if it cannot be read.
std::string ReadAll(const std::string& path);

// Replaces the file's contents with `text`. Best effort: a test that needs
// the file notices its absence.
void WriteAll(const std::string& path, const std::string& text);

// How many entries (but dot files) `dir` has; 0 if it cannot be read.
int CountFiles(const std::string& dir);

// The fake CNI plugins of testdata/cni/plugins (the test's data must
// include //testdata:cni_fake_plugins), as a --cni-bin-dir entry.
std::string FakePluginDir();

// A client context whose deadline (two minutes) no RPC of a healthy daemon
// comes near, so a hung daemon fails the test instead of hanging it.
std::unique_ptr<grpc::ClientContext> RpcContext();

class PodsandboxdTestBase : public sys::LeakCheckedTest {
 public:
  struct Options {
    // The bridge the CNI bridge plugin creates; deleted after each test.
    std::string bridge;
    // host-local's range, e.g. "10.235.0.0/24".
    std::string subnet;
    // The network's "name" in the conflist.
    std::string network_name;
    // Appended to DaemonArgs(), e.g. {"--log-level", "debug"}.
    std::vector<std::string> extra_daemon_args;
    // Runs the daemon in a private mount namespace whose /sys/fs/cgroup is
    // cgroup2 alone: a pure cgroup v2 host's layout (Debian 12's), on any
    // host. The runtimes it spawns see the same. Its mounts (pin
    // directories) are then out of the test's sight; they go with it.
    bool cgroup_v2_only = false;
    // Starts the daemon under systemd-socket-activate listening on
    // socket(), as podsandboxd.socket would: the daemon gets the socket as
    // fd 3 (LISTEN_FDS) on the first connection. The state dir must exist.
    bool socket_activated = false;
    // Also configures a handler "builtin" of type builtin (select it with
    // extra_daemon_args {"--default-runtime", "builtin"}).
    bool builtin_handler = false;
    // Also configures a handler "nopause" of type runc with infra = "none":
    // pods that need no pause get none (their namespaces are pins).
    bool no_pause_handler = false;
  };

 protected:
  explicit PodsandboxdTestBase(Options options);

  // Writes the CNI conflist and the daemon's config file. Starts nothing.
  void SetUp() override;
  // If the daemon still runs: removes every pod through it, then stops it
  // with SIGTERM. Then the leak check.
  void TearDown() override;
  // Every mount under the temporary directory but the daemon's two pin
  // directories, and every file or directory in it but those an idle
  // daemon (or the fixture) keeps, one per line.
  std::string FindLeftovers() override;
  // Unmounts every mount under the temporary directory (the pin
  // directories stay bind-mounted after the daemon exits), deletes the
  // bridge (it outlives its last veth), removes the temporary directory and
  // restores net.ipv4.ip_forward (the bridge plugin turns it on for a
  // gateway bridge).
  void CleanUpTestFixtures() override;

  // podsandboxd's arguments, without the binary: config, root, state,
  // listen socket, pause binary, then Options::extra_daemon_args.
  std::vector<std::string> DaemonArgs() const;

  // Starts podsandboxd with DaemonArgs(), its stdout and stderr appended to
  // the daemon log, and polls Version (60s deadline) until it answers; then
  // runtime_service() and channel() reach it. Fails the test (fatally, check
  // with ASSERT_NO_FATAL_FAILURE), with the daemon log, if the daemon exits or
  // does not answer in time.
  void StartDaemon();

  // Sends `signal` to the daemon and reaps it. No-op if it is not running.
  // Leaves the client channel open: callers that want a fast SIGTERM (the
  // daemon waits for open client connections) call CloseClient() first.
  void StopDaemon(int signal);

  // Drops runtime_service() and channel(); StartDaemon() makes new ones.
  void CloseClient();

  bool daemon_running() const { return daemon_ > 0; }

  // The RuntimeService of the running daemon. Only between StartDaemon()
  // and CloseClient().
  ::runtime::v1::RuntimeService::Stub& runtime_service() {
    return *runtime_service_;
  }
  // The channel behind runtime_service(), for the daemon's other services.
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // ListPodSandbox through runtime_service(); a failed RPC fails the test and
  // yields no pods.
  std::vector<::runtime::v1::PodSandbox> ListPods(
      const ::runtime::v1::PodSandboxFilter& filter = {});
  grpc::Status StopPod(const std::string& id);
  grpc::Status RemovePod(const std::string& id);
  // Stops and removes every pod the daemon lists; a failure fails the test.
  void RemoveAllPods();

  // Everything the daemon (all its runs in this test) wrote so far.
  std::string DaemonLog() const;

  // The temporary directory and the daemon's paths in it, valid until
  // CleanUpTestFixtures(). Mode 0711 and under /tmp: a user namespace's
  // root must reach the bundle and rootfs under the state directory.
  const sys::TempDir& base() const { return *base_; }
  const std::string& root() const { return root_; }
  const std::string& state() const { return state_; }
  const std::string& socket() const { return socket_; }
  const std::string& config() const { return config_; }
  // "unix://" + socket()
  std::string endpoint() const;

 private:
  const Options options_;
  std::string ip_forward_;
  std::unique_ptr<sys::TempDir> base_;
  std::string root_, state_, socket_, config_;
  pid_t daemon_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::runtime::v1::RuntimeService::Stub> runtime_service_;
};

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_TESTING_PODSANDBOXD_FIXTURE_H_
