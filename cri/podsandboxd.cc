// podsandboxd: serves CRI v1's RuntimeService for pod sandboxes, over the
// library's sandbox::Controller, and its ImageService, over the image
// layer (a store under <root>/images, pulls from the configured
// registries), on one unix socket.
//
// Run takes named steps, and their order matters: Configure first (a typo
// stops us before we touch anything), then StartController (which takes
// the root's lock, so a second daemon on the same root stops here, before
// it can touch the first one's images or socket; it also makes us a child
// subreaper and recovers), then OpenImageStore (collects what a pull killed
// with the last daemon left), then Serve (the socket). SIGTERM or SIGINT
// stops serving: in-flight RPCs finish (a RunPodSandbox still reaches READY
// or rolls back), sandboxes keep running, and the next start re-attaches
// them.
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "container/manager.h"
#include "container/spec.h"
#include "container/spec_builder.h"
#include "cri/daemon_config.h"
#include "cri/daemon_flags.h"
#include "cri/image_service.h"
#include "cri/runtime_service.h"
#include "cri/socket_activation.h"
#include "cri/version/version.h"
#include "grpc/support/log.h"
#include "grpcpp/grpcpp.h"
#include "image/images.h"
#include "image/puller.h"
#include "image/registry_hosts.h"
#include "image/store.h"
#include "keeper/client.h"
#include "metrics/http_server.h"
#include "metrics/process.h"
#include "metrics/registry.h"
#include "oci/runtime_type.h"
#include "sandbox/controller.h"
#include "sys/file.h"
#include "sys/log.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "systemd/sd-daemon.h"

namespace podsandbox::cri {
namespace {

using version::kVersion;
// Workers for StopPodSandbox and RemovePodSandbox. Most of a worker's time
// is spent waiting for the OCI runtime (up to stop_grace_period) or a CNI
// DEL, so this bounds parallel teardowns (a node drain), not CPU use.
// RunPodSandbox has its own bound, max_concurrent_run_pod_sandbox.
constexpr int kStopRemoveWorkers = 16;
// How long SIGTERM waits for in-flight RPCs before cancelling them.
constexpr absl::Duration kShutdownGrace = absl::Seconds(60);

void GrpcLog(gpr_log_func_args* args) {
  switch (args->severity) {
    case GPR_LOG_SEVERITY_DEBUG:
      PSB_LOG(kDebug, "grpc %s:%d: %s", args->file, args->line, args->message);
      break;
    case GPR_LOG_SEVERITY_INFO:
      PSB_LOG(kInfo, "grpc %s:%d: %s", args->file, args->line, args->message);
      break;
    default:
      PSB_LOG(kError, "grpc %s:%d: %s", args->file, args->line, args->message);
      break;
  }
}

absl::StatusOr<DaemonConfig> LoadConfig(const DaemonFlags& flags) {
  DaemonConfig config;
  if (!flags.config_path.empty()) {
    absl::StatusOr<DaemonConfig> loaded = LoadDaemonConfig(flags.config_path);
    if (!loaded.ok()) return loaded.status();
    config = *std::move(loaded);
  }
  RETURN_IF_ERROR(ApplyOverrides(flags.overrides, &config));
  RETURN_IF_ERROR(FinalizeDaemonConfig(&config));
  return config;
}

// The pause binary Bazel built with us: in our runfiles when run from the
// build tree, else installed beside us.
absl::StatusOr<std::string> FindPauseBinary() {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n < 0) return sys::ErrnoError(errno, "readlink /proc/self/exe");
  const std::string exe(self, n);
  const std::string dir = exe.substr(0, exe.rfind('/'));
  for (const std::string& candidate :
       {absl::StrCat(exe, ".runfiles/podsandbox/sandbox/pause/pause"),
        absl::StrCat(dir, "/podsandbox-pause")}) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(
      "pause_binary: no pause binary beside podsandboxd; set --pause-binary");
}

// podsandbox-keeper, found as the pause is; empty when there is none (not
// an error: containers then run as they did before the keeper).
std::string FindKeeperBinary() {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n < 0) return "";
  const std::string exe(self, n);
  const std::string dir = exe.substr(0, exe.rfind('/'));
  for (const std::string& candidate :
       {absl::StrCat(exe, ".runfiles/podsandbox/keeper/podsandbox-keeper"),
        absl::StrCat(dir, "/podsandbox-keeper")}) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

absl::StatusOr<gid_t> ResolveGroup(const std::string& group) {
  gid_t gid = 0;
  if (absl::SimpleAtoi(group, &gid)) return gid;
  struct group entry;
  struct group* found = nullptr;
  std::vector<char> buf(16384);
  const int err =
      getgrnam_r(group.c_str(), &entry, buf.data(), buf.size(), &found);
  if (err != 0) return sys::ErrnoError(err, "look up group %s", group);
  if (found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket_group: no group named \"", group, "\""));
  }
  return found->gr_gid;
}

// Leaves `path` free for our socket: a stale socket (nobody accepts on it:
// a daemon that was killed) is removed; a live one, or anything that is
// not a socket, is left alone and is an error.
absl::Status ClearStaleSocket(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return sys::ErrnoError(errno, "stat %s", path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "listen ", path, ": exists and is not a socket; not removing it"));
  }
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen: ", path, " is too long for a unix socket"));
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys::ErrnoError(errno, "socket for %s", path);
  const int rc =
      connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  close(fd);
  if (rc == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("listen ", path, ": another server is accepting on it"));
  }
  if (err != ECONNREFUSED) return sys::ErrnoError(err, "probe %s", path);
  // Nobody listens: a leftover of a daemon that died.
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return sys::ErrnoError(errno, "remove stale socket %s", path);
  }
  PSB_LOG(kInfo, "removed stale socket %s", path);
  return absl::OkStatus();
}

absl::Status MakeParentDir(const std::string& path) {
  const std::string dir = path.substr(0, path.rfind('/'));
  if (dir.empty()) return absl::OkStatus();
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string prefix = dir.substr(0, i);
    if (mkdir(prefix.c_str(), 0711) != 0 && errno != EEXIST) {
      return sys::ErrnoError(errno, "mkdir %s", prefix);
    }
  }
  return absl::OkStatus();
}

RuntimeServiceOptions ServiceOptions(const DaemonConfig& config) {
  RuntimeServiceOptions options;
  options.runtime_version = kVersion;
  for (const oci::RuntimeHandler& handler :
       config.controller.runtime_handlers) {
    options.handlers.push_back(
        {handler.name, oci::CapabilitiesOf(handler.type).joins_userns_by_path});
  }
  options.default_handler = config.controller.default_runtime;
  options.config_json = DaemonConfigJson(config);
  options.max_concurrent_run_pod_sandbox =
      config.max_concurrent_run_pod_sandbox;
  options.stop_remove_workers = kStopRemoveWorkers;
  options.stop_remove_queue = config.queues.stop_remove;
  options.container_queue = config.queues.container;
  options.stats_queue = config.queues.stats;
  options.state_dir = config.controller.state_dir;
  return options;
}

// ---- Start-up steps, in the order Run takes them.

// Flags over the file, then what the configuration names but does not
// give: the pause binary beside us, the socket group's gid. Touches
// nothing; an error here is the operator's (exit status 2).
struct Startup {
  DaemonConfig config;
  std::optional<gid_t> socket_gid;
};

absl::StatusOr<Startup> Configure(const DaemonFlags& flags) {
  Startup startup;
  absl::StatusOr<DaemonConfig> config = LoadConfig(flags);
  if (!config.ok()) return sys::Annotate(config.status(), "configuration");
  startup.config = *std::move(config);
  if (startup.config.controller.pause_binary.empty()) {
    ASSIGN_OR_RETURN(startup.config.controller.pause_binary, FindPauseBinary());
  }
  if (startup.config.keeper_binary.empty()) {
    startup.config.keeper_binary = FindKeeperBinary();
  }
  if (!startup.config.socket_group.empty()) {
    ASSIGN_OR_RETURN(startup.socket_gid,
                     ResolveGroup(startup.config.socket_group));
  }
  return startup;
}

// Signals go to sigwait in WaitForStopSignal; blocked before any thread
// exists so that every thread inherits the mask. A client hanging up must
// not kill us.
sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop_signals;
}

// What the daemon runs. Members are declared in start order, so they are
// destroyed in reverse: the server before the services, the services
// before the controller and the image store they use.
struct Daemon {
  explicit Daemon(Startup startup)
      : config(std::move(startup.config)), socket_gid(startup.socket_gid) {}

  const DaemonConfig config;
  const std::optional<gid_t> socket_gid;
  sys::RealSys sys;
  std::unique_ptr<sandbox::Controller> controller;
  std::unique_ptr<image::Store> store;
  std::unique_ptr<image::Images> images;
  std::unique_ptr<image::Puller> puller;
  std::unique_ptr<oci::HandlerRegistry> handlers;
  // The node's fd keeper, or null: before the manager that uses it.
  std::unique_ptr<keeper::Client> keeper;
  std::unique_ptr<container::Manager> containers;
  std::unique_ptr<RuntimeService> runtime_service;
  std::unique_ptr<ImageService> image_service;
  // The CRI socket systemd passed (podsandboxd.socket), or null when we
  // bind it ourselves. Its accept loop feeds the server: stopped first.
  std::unique_ptr<ActivatedSocket> activated;
  std::unique_ptr<grpc::Server> server;
  // Last, so destroyed first: nothing scrapes the controller once it goes.
  std::unique_ptr<metrics::ScopedCollector> process_metrics;
  std::unique_ptr<metrics::ScopedCollector> sandbox_states;
  std::unique_ptr<metrics::MetricsServer> metrics_server;
};

// Takes <root>'s lock (a second daemon on the same root stops here, before
// it touches the first one's image store or socket), makes us a child
// subreaper and recovers the sandboxes.
absl::Status StartController(Daemon& d) {
  ASSIGN_OR_RETURN(d.controller,
                   sandbox::Controller::Create(d.sys, d.config.controller));
  return absl::OkStatus();
}

// <root>/images, after the controller holds <root>'s lock: Init empties
// tmp/ and collects what a pull killed with us left, which is only safe
// while no other daemon pulls into the same store.
absl::Status OpenImageStore(Daemon& d) {
  d.store = std::make_unique<image::Store>(
      d.sys, absl::StrCat(d.config.controller.root_dir, "/images"));
  RETURN_IF_ERROR(d.store->Init());
  d.images = std::make_unique<image::Images>(*d.store);
  ASSIGN_OR_RETURN(image::RegistryHosts hosts,
                   image::RegistryHosts::Create(d.config.registries));
  d.puller = std::make_unique<image::Puller>(d.sys, *d.store, std::move(hosts),
                                             d.config.pull);
  return absl::OkStatus();
}

// The node's fd keeper under <state>/keeper (0700: its socket hands out
// every container's pidfd and pipes), started if none answers. Never
// fatal: without one, a container that exits while we are down is
// reported with exit code 255, reason Unknown, as before the keeper.
keeper::Client* ConnectKeeper(Daemon& d) {
  if (d.config.keeper_binary.empty()) {
    PSB_LOG(kWarning,
            "no podsandbox-keeper beside podsandboxd (--keeper-binary): a "
            "container exiting while podsandboxd is down will be reported "
            "unknown");
    return nullptr;
  }
  const std::string dir =
      absl::StrCat(d.config.controller.state_dir, "/keeper");
  absl::Status s = sys::MakeDirs(d.sys, dir, 0700);
  if (s.ok() && chmod(dir.c_str(), 0700) != 0) {
    s = sys::ErrnoError(errno, "chmod %s", dir);
  }
  absl::StatusOr<std::unique_ptr<keeper::Client>> client =
      s.ok() ? keeper::Client::ConnectOrSpawn(
                   d.sys, absl::StrCat(dir, "/keeper.sock"),
                   d.config.keeper_binary, absl::StrCat(dir, "/keeper.log"))
             : s;
  if (!client.ok()) {
    PSB_LOG(kWarning,
            "keeper unavailable (a container exiting while podsandboxd is "
            "down will be reported unknown): %s",
            client.status().ToString());
    return nullptr;
  }
  d.keeper = *std::move(client);
  return d.keeper.get();
}

// The pod's containers: records and writable layers under
// <root>/containers, bundles, rootfs mounts and FIFOs under
// <state>/containers. Init re-attaches running containers and relays what
// they wrote while we were down. RemoveImage refuses an image a container
// uses.
absl::Status StartContainers(Daemon& d) {
  sandbox::ControllerOptions options = d.config.controller;
  ASSIGN_OR_RETURN(oci::HandlerRegistry handlers,
                   sandbox::CompleteControllerOptions(options));
  d.handlers = std::make_unique<oci::HandlerRegistry>(std::move(handlers));
  container::ManagerOptions manager;
  manager.root_dir = absl::StrCat(options.root_dir, "/containers");
  manager.state_dir = absl::StrCat(options.state_dir, "/containers");
  manager.keeper = ConnectKeeper(d);
  manager.max_containers = d.config.max_containers;
  d.containers = std::make_unique<container::Manager>(
      d.sys, manager, *d.handlers, *d.store, *d.images,
      container::MakeSpecBuilder(d.sys, container::ProbeHostFeatures()),
      d.controller->reaper());
  RETURN_IF_ERROR(d.containers->Init());
  container::Manager* containers = d.containers.get();
  d.images->SetInUse([containers](const image::Digest& id) {
    return containers->ImageInUse(id.String());
  });
  return absl::OkStatus();
}

// [metrics] address, when set: GET /metrics in the Prometheus text format
// with what the layers record (metrics/registry.h), the sandboxes per CRI
// state and the process's fds and memory. Before the CRI socket, so a bad
// address stops us before kubelet can reach us.
absl::Status ServeMetrics(Daemon& d) {
  if (d.config.metrics_address.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(metrics::MetricsAddress address,
                   metrics::ParseMetricsAddress(d.config.metrics_address,
                                                "metrics.address"));
  if (address.unix_socket) RETURN_IF_ERROR(MakeParentDir(address.host));
  metrics::Registry& registry = metrics::DefaultRegistry();
  d.process_metrics = std::make_unique<metrics::ScopedCollector>(
      registry, metrics::WriteProcessMetrics);
  sandbox::Controller* controller = d.controller.get();
  // Read from the controller's memory at scrape time (List never waits
  // for an operation), so no code path has to keep a gauge in step.
  d.sandbox_states = std::make_unique<metrics::ScopedCollector>(
      registry, [controller](std::string* out) {
        double ready = 0, not_ready = 0;
        for (const sandbox::SandboxStatus& status :
             controller->ListPodSandbox({})) {
          ++(status.state == sandbox::SandboxState::kReady ? ready : not_ready);
        }
        metrics::WriteGaugeFamily(
            "podsandbox_sandboxes",
            "Pod sandboxes held, by CRI state (those still being created "
            "are not counted).",
            {"state"}, {{{"ready"}, ready}, {{"notready"}, not_ready}}, out);
      });
  ASSIGN_OR_RETURN(d.metrics_server,
                   metrics::MetricsServer::Start(address, registry));
  PSB_LOG(kInfo, "metrics on %s/metrics", d.metrics_server->description());
  return absl::OkStatus();
}

// The CRI socket, owner root and mode 0660 (group socket_group). The
// RuntimeService checks the runtime and the network once before we serve
// (see Readiness), so the first Status already tells the truth.
absl::Status Serve(Daemon& d) {
  const std::string& socket_path = d.config.listen;
  RETURN_IF_ERROR(ServeMetrics(d));
  if (d.activated == nullptr) {
    RETURN_IF_ERROR(MakeParentDir(socket_path));
    RETURN_IF_ERROR(ClearStaleSocket(socket_path));
  }
  d.runtime_service = std::make_unique<RuntimeService>(
      *d.controller, ServiceOptions(d.config), d.containers.get());
  ImageServiceOptions image_options;
  image_options.pull_queue = d.config.queues.pull;
  image_options.remove_queue = d.config.queues.image_remove;
  d.image_service =
      std::make_unique<ImageService>(*d.images, *d.puller, image_options);
  grpc::ServerBuilder builder;
  if (d.activated == nullptr) {
    builder.AddListeningPort(absl::StrCat("unix://", socket_path),
                             grpc::InsecureServerCredentials());
  }
  builder.RegisterService(d.runtime_service.get());
  builder.RegisterService(d.image_service.get());
  // Explicit, not gRPC's 4 MiB default: a larger request is refused with
  // RESOURCE_EXHAUSTED before it is parsed (limits.request_bytes).
  builder.SetMaxReceiveMessageSize(d.config.max_request_bytes);
  // gRPC binds with the process umask: 0117 creates the socket 0660, so it
  // is never reachable by others, not even between bind and chmod.
  const mode_t old_umask = umask(0117);
  d.server = builder.BuildAndStart();
  umask(old_umask);
  if (d.server == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on unix://", socket_path));
  }
  if (d.activated != nullptr) {
    // The unit's SocketMode/SocketGroup own the socket's access.
    d.activated->Serve(d.server.get());
  } else if (chmod(socket_path.c_str(), 0660) != 0 ||
             (d.socket_gid.has_value() &&
              chown(socket_path.c_str(), 0, *d.socket_gid) != 0)) {
    const int err = errno;
    d.server->Shutdown();
    return sys::ErrnoError(err, "set owner and mode of %s", socket_path);
  }
  PSB_LOG(kInfo, "podsandboxd %s serving on unix://%s%s (root=%s state=%s)",
          kVersion, socket_path,
          d.activated != nullptr ? " (socket from systemd)" : "",
          d.config.controller.root_dir, d.config.controller.state_dir);
  // systemd's Type=notify: ready once the socket accepts, so units ordered
  // after us (kubelet) start against a live endpoint. A no-op (0) when
  // NOTIFY_SOCKET is unset, outside systemd; a failure only loses the
  // notification, and systemd's start timeout reports that.
  if (const int r = sd_notifyf(0, "READY=1\nSTATUS=serving on unix://%s",
                               socket_path.c_str());
      r < 0) {
    PSB_LOG(kWarning, "sd_notify READY=1: %s", strerror(-r));
  }
  return absl::OkStatus();
}

void WaitForStopSignal(const sigset_t& stop_signals) {
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  PSB_LOG(kInfo, "%s: stopping; sandboxes keep running",
          strsignal(signal_number));
}

// Stops serving: in-flight RPCs get kShutdownGrace, then are cancelled,
// but their work (already on the services' workers) still finishes: a
// RunPodSandbox reaches READY or rolls back, a pull completes or fails.
void Stop(Daemon& d) {
  // Tells systemd the stop is ours (not a crash) while in-flight RPCs end.
  sd_notify(0, "STOPPING=1");
  // No new connections first; systemd keeps queueing them on its socket.
  if (d.activated != nullptr) d.activated->Stop();
  d.server->Shutdown(absl::ToChronoTime(absl::Now() + kShutdownGrace));
  d.server->Wait();
  d.runtime_service->Shutdown();
  d.image_service->Shutdown();
  // An activated socket is systemd's: it stays for the next start.
  if (d.activated == nullptr) unlink(d.config.listen.c_str());
  PSB_LOG(kInfo, "stopped");
}

int Run(int argc, char** argv) {
  const DaemonCommandLine command_line =
      ParseDaemonFlags(argc, argv, std::cout, std::cerr);
  if (!command_line.flags.has_value()) return command_line.exit_code;
  absl::StatusOr<Startup> startup = Configure(*command_line.flags);
  if (!startup.ok()) {
    fprintf(stderr, "podsandboxd: %s\n", startup.status().ToString().c_str());
    return 2;
  }
  sys::SetMinLogLevel(startup->config.log_level);
  sys::SetLogFormat(startup->config.log_format);
  gpr_set_log_function(GrpcLog);
  const sigset_t stop_signals = BlockStopSignals();

  Daemon daemon(*std::move(startup));
  // Before anything runs: takes LISTEN_FDS out of the environment and
  // marks the socket close-on-exec, so no runtime or plugin inherits them.
  absl::StatusOr<std::unique_ptr<ActivatedSocket>> activated =
      TakeActivatedSocket(daemon.config.listen);
  if (!activated.ok()) {
    fprintf(stderr, "podsandboxd: %s\n", activated.status().ToString().c_str());
    return 1;
  }
  daemon.activated = *std::move(activated);
  struct Step {
    const char* name;
    absl::Status (*run)(Daemon&);
  };
  for (const Step& step :
       {Step{"start controller", StartController},
        Step{"open image store", OpenImageStore},
        Step{"start containers", StartContainers}, Step{"serve", Serve}}) {
    if (absl::Status s = step.run(daemon); !s.ok()) {
      fprintf(stderr, "podsandboxd: %s: %s\n", step.name, s.ToString().c_str());
      return 1;
    }
  }
  WaitForStopSignal(stop_signals);
  Stop(daemon);
  return 0;
}

}  // namespace
}  // namespace podsandbox::cri

int main(int argc, char** argv) { return podsandbox::cri::Run(argc, argv); }
