// podsandboxd's configuration: a TOML file, then command-line flags on top.
//
// The file (every key optional; these are the defaults):
//
//   root = "/var/lib/podsandbox"      # persistent sandbox records
//   state = "/run/podsandbox"         # tmpfs: pins, bundles, runtime state
//   listen = "/run/podsandbox/podsandboxd.sock"
//   socket_group = ""                 # group name or gid; "" keeps root's
//   log_level = "info"                # debug, info, warning, error
//   log_format = "text"               # text, or json lines for shippers
//   default_runtime = ""              # handler for an empty runtime_handler
//                                     # ("": builtin if no handler is
//                                     # configured, else the first one)
//   stop_grace_period = "10s"         # TERM to KILL of a pause task
//   oom_score_adj = 0                 # the pause process's
//   pause_binary = ""                 # "" means the one beside the daemon
//   max_concurrent_run_pod_sandbox = 32  # more are refused (1 to 1024)
//   cgroup_parent_prefix = "/"        # pods' cgroup_parent under it; "/": any
//
//   [metrics]                         # opt-in Prometheus endpoint
//   address = ""                      # "127.0.0.1:9090" or "unix:/path";
//                                     # "" serves none
//
//   [limits]                          # per request, refused past them
//   sandboxes = 4096                  # held at once; more: ResourceExhausted
//   containers = 16384                # held at once, node-wide; likewise
//   request_bytes = 16777216          # gRPC's max receive message size
//   label_annotation_bytes = 1048576  # labels + annotations, keys and values
//   port_mappings = 4096
//   sysctls = 1024
//   dns_entries = 256                 # servers + searches + options
//   stop_remove_queue = 256           # calls waiting for a worker, per
//   container_queue = 1024            # pool; one more: ResourceExhausted
//   stats_queue = 64                  # (1 to 65536; the why: QueueLimits)
//   pull_queue = 256
//   image_remove_queue = 64
//
//   [cni]
//   conf_dir = "/etc/cni/net.d"
//   bin_dirs = ["/opt/cni/bin", "/usr/lib/cni"]
//   timeout = "30s"                   # one plugin call
//
//   [userns]
//   allow_host_root = false           # may a pod map host uid/gid 0?
//   allow_different_uid_gid_maps = false  # may gids map unlike uids?
//   allow_overlapping_ranges = false  # may live pods share host ids?
//
//   [images]                          # pulls into <root>/images
//   max_manifest_bytes = 4194304      # a manifest or index
//   max_config_bytes = 8388608        # an image config
//   max_image_bytes = 8589934592      # config + compressed layers, declared
//   max_layer_bytes = 68719476736     # one layer's uncompressed tar (bombs)
//   max_layer_entries = 1000000       # one layer's tar entries
//   connect_timeout = "30s"           # TCP + TLS to a registry
//   stall_timeout = "30s"             # a transfer under 1 KiB/s this long
//
//   [registries."registry.k8s.io"]    # per registry host, as in references
//   mirrors = ["http://127.0.0.1:5000"]  # tried in order, then the registry
//   ca_file = ""                      # PEM bundle for this host's TLS
//   insecure = false                  # plain http (or unverified https)
//
//   [[runtime_handlers]]              # repeat per handler
//   name = "runc"
//   type = "runc"                     # runc, crun or runsc
//   path = "/usr/sbin/runc"           # absolute; never looked up on PATH
//   root = ""                         # "" means <state>/runtime/<name>
//   extra_args = []                   # global args, as "--debug"
//   no_pivot_root = false             # runc only
//   no_new_keyring = false            # runc only
//   timeout = "30s"                   # one runtime command
//
// With no [[runtime_handlers]], runc and crun are configured for whichever
// of their usual binaries exist. Durations use Go/absl syntax ("1m30s").
//
// Strictness: an unknown key, a value of the wrong type or a bad value is
// InvalidArgument naming the key and the file's line, so a typo stops the
// daemon instead of being ignored.
//
// Thread-safety: pure functions.
#ifndef PODSANDBOX_CRI_DAEMON_CONFIG_H_
#define PODSANDBOX_CRI_DAEMON_CONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "image/puller.h"
#include "image/registry_hosts.h"
#include "oci/runtime_handler.h"
#include "sandbox/controller_options.h"
#include "sys/log.h"

namespace podsandbox::cri {

struct DaemonConfig {
  // root_dir, state_dir, CNI, runtime handlers and the default one, pause
  // binary, userns policy, stop grace period, oom_score_adj.
  sandbox::ControllerOptions controller;

  std::string listen = "/run/podsandbox/podsandboxd.sock";
  // podsandbox-keeper (keeper/server.h); empty: the one beside the daemon,
  // if any. Command line only (--keeper-binary).
  std::string keeper_binary;
  std::string socket_group;
  sys::LogLevel log_level = sys::LogLevel::kInfo;
  sys::LogFormat log_format = sys::LogFormat::kText;

  // [metrics] address: where GET /metrics is served (metrics/http_server.h
  // spells the forms); empty serves nothing.
  std::string metrics_address;

  // RunPodSandbox calls in progress at once; one more is refused with
  // ResourceExhausted and kubelet retries it. 32: far above what a healthy
  // node needs (a RunPodSandbox takes ~0.1 s, and on this 2-core VM
  // creation is CPU-bound from ~4 concurrent calls on, so more only adds
  // latency), above the 24 piled-up kubelet retries issue 12 measured, yet
  // a bound on what a hung CNI plugin can pin until its timeout: each call
  // holds a thread, a namespace helper, pins and plugin processes.
  int max_concurrent_run_pod_sandbox = 32;

  // [limits] containers: containers held at once on the node, in any state
  // (container::ManagerOptions::max_containers); one more CreateContainer
  // is ResourceExhausted naming the key until a Remove. Each running
  // container costs the daemon ~4 fds (pidfd, FIFOs, log file) and the
  // keeper 3, so without a bound requests alone could exhaust them. 16384:
  // kubelet's 110 pods times a few containers each (init, sidecars), plus
  // the exited ones it keeps until its container GC removes them, leaves
  // this far above any real node, while 16384 running containers stay
  // within LimitNOFILE=1048576 (README's unit).
  size_t max_containers = 16384;

  // gRPC's max receive message size, set explicitly rather than left to
  // gRPC's 4 MiB default: kubelet's own limit is 16 MiB, and a bigger
  // request is refused (RESOURCE_EXHAUSTED) before it is parsed.
  int max_request_bytes = 16 << 20;

  // [limits] *_queue: calls waiting for a worker of each pool, beyond the
  // busy workers; one more is refused at once with ResourceExhausted naming
  // the key, and kubelet retries it. Each queued call holds its request,
  // response and gRPC call (KiBs), and a call whose client gave up stays
  // queued (its work still runs), so without a bound a client that sends
  // faster than the workers finish grows the daemon without limit. The
  // defaults are sized to kubelet: its pod workers are serial, one CRI call
  // per pod in flight, and --max-pods defaults to 110; an RPC it times out
  // (runtime-request-timeout, 2m) it retries while the first stays queued.
  // RunPodSandbox needs no key: max_concurrent_run_pod_sandbox admits at
  // most one call per worker.
  struct QueueLimits {
    // StopPodSandbox and RemovePodSandbox: every pod of a full node with
    // its call queued and one retry of each (220), rounded up.
    int stop_remove = 256;
    // The container RPCs on workers (create, start, stop, remove, update,
    // ExecSync): a full node with a
    // lifecycle call and three exec probes (liveness, readiness, startup;
    // each prober is serial) per pod is 440; twice that, rounded up.
    int container = 1024;
    // PodSandboxStats, ListPodSandboxStats, ContainerStats,
    // ListContainerStats: kubelet has a few in flight (eviction manager,
    // /stats/summary and /metrics/resource scrapes).
    int stats = 64;
    // PullImage: serializeImagePulls (the default) keeps one in flight,
    // parallel pulls at most one per pod worker; kubelet sets no deadline
    // on a pull, so no retries pile up. A full node's pods, rounded up.
    int pull = 256;
    // RemoveImage: kubelet's image GC removes one image at a time.
    int image_remove = 64;
  };
  QueueLimits queues;

  // [registries."<host>"]: mirrors, CA file and insecure per registry host
  // (image::RegistryHosts validates them in FinalizeDaemonConfig).
  std::map<std::string, image::HostConfig> registries;
  // [images]: pull size limits and registry timeouts.
  image::PullOptions pull;
};

// What the command line sets; unset fields keep the file's value.
struct ConfigOverrides {
  std::optional<std::string> root;
  std::optional<std::string> state;
  std::optional<std::string> listen;
  std::optional<std::string> cni_conf_dir;
  std::optional<std::string> cni_bin_dirs;  // colon-separated
  std::optional<std::string> default_runtime;
  std::optional<std::string> pause_binary;
  std::optional<std::string> keeper_binary;
  std::optional<std::string> log_level;
  std::optional<std::string> log_format;
  std::optional<std::string> socket_group;
};

// Parses TOML text. `source` names it in messages (the file's path).
// InvalidArgument as described above.
absl::StatusOr<DaemonConfig> ParseDaemonConfig(absl::string_view text,
                                               absl::string_view source);

// Reads and parses `path`. NotFound (or the read's error) when unreadable.
absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path);

// Applies the flags over the file's values. InvalidArgument naming the
// flag ("--log-level: ...") for a bad value.
absl::Status ApplyOverrides(const ConfigOverrides& overrides,
                            DaemonConfig* config);

// Fills what depends on other values (handler roots under the state dir,
// the default handlers when none are configured) and checks the whole:
// absolute directories, valid handlers, a configured default_runtime,
// registry mirrors that are http(s)://host[:port] and readable CA files.
// InvalidArgument naming the key.
absl::Status FinalizeDaemonConfig(DaemonConfig* config);

// The effective configuration as JSON, for Status's verbose info.
std::string DaemonConfigJson(const DaemonConfig& config);

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_DAEMON_CONFIG_H_
