// container::Manager: the lifecycle of a pod's containers (CRI's container
// RPCs) over an OCI runtime, the image store and the pod's namespaces.
//
// CreateContainer: validate and resolve (image, handler, name), then the
// journalled steps of record.h: kDirs (state dir, stdout/stderr FIFOs),
// kRootfs (writable layer + overlay, idmapped for user-namespaced pods),
// kTask (config.json from the SpecBuilder, runtime create with the FIFOs as
// the process's stdout and stderr, pidfd watch). Any failure undoes the
// steps done, newest first; a crash is undone at the next Init.
//
// No monitor process: the daemon is a child subreaper, so a container's
// init becomes its child once `runtime create` returns; one ExitWatcher
// thread reaps every container's init through its pidfd and reports the
// exit status, and one LogRelay thread copies every container's output
// into its CRI log file (log_relay.h). With a keeper (keeper/client.h), each
// container's init pidfd and FIFOs are also held there, under its id, from
// create until its exit is recorded: an exit while the daemon is down then
// keeps its status (the pidfd's PIDFD_INFO_EXIT) and its last output (the
// FIFOs stay open), both read after the restart. Without one, such an exit
// is reported with kUnknownExitCode and reason "Unknown".
//
// Thread-safety: every method may be called from any thread. Operations on
// one container are serialised by its op lock (held across runtime execs);
// ContainerStatus and ListContainers read memory under short locks and never
// wait for an operation in progress.
#ifndef PODSANDBOX_CONTAINER_MANAGER_H_
#define PODSANDBOX_CONTAINER_MANAGER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "container/container_config.h"
#include "container/log_relay.h"
#include "container/pod_context.h"
#include "container/record.h"
#include "container/record_store.h"
#include "container/rootfs.h"
#include "image/images.h"
#include "image/manifest.h"
#include "image/store.h"
#include "keeper/client.h"
#include "oci/exit_watcher.h"
#include "oci/runtime.h"
#include "oci/runtime_factory.h"
#include "oci/runtime_handler.h"
#include "sys/orphan_reaper.h"
#include "sys/sys.h"

namespace podsandbox::container {

// What the SpecBuilder gets to write a container's config.json.
struct SpecRequest {
  std::string container_id;
  const ContainerConfig* config = nullptr;
  const image::ImageConfig* image = nullptr;
  const PodContext* pod = nullptr;
  // The mounted rootfs (the image's files are readable there: the user is
  // resolved in its /etc/passwd).
  std::string rootfs;
};

// Builds config.json (container/spec.h's BuildContainerSpec in the daemon).
// Errors are returned as they are (InvalidArgument for a bad user, say),
// after the manager rolled back.
using SpecBuilder =
    std::function<absl::StatusOr<std::string>(const SpecRequest& request)>;

struct ManagerOptions {
  // <root>/containers: records and writable layers (persistent disk).
  std::string root_dir;
  // <state>/containers: bundles, rootfs mount points, FIFOs (tmpfs).
  std::string state_dir;
  // The cgroupfs root the containers' cgroup paths are under
  // (/sys/fs/cgroup), for stats and OOM detection.
  std::string cgroupfs = "/sys/fs/cgroup";
  // The node's fd keeper, or null (exits while the daemon is down are then
  // reported unknown). Must outlive the manager. Its failures are logged,
  // never returned: it only adds to what the manager can do alone.
  keeper::Client* keeper = nullptr;
  // Makes the OCI runtime driver for a handler; empty: oci::MakeOciRuntime.
  oci::OciRuntimeMaker make_runtime;
  // Mount and unmount a container's rootfs; empty: container/rootfs.h's
  // MountRootfs and UnmountRootfs. Tests without root (which may not mount
  // overlayfs) stand in for them; the contracts are rootfs.h's.
  std::function<absl::Status(const RootfsPaths&, const RootfsSpec&)>
      mount_rootfs;
  std::function<absl::Status(const RootfsPaths&)> unmount_rootfs;
  // Containers held at once, in any state (creating to exited); one more
  // create is refused with ResourceExhausted naming limits.containers
  // (cri/daemon_config.h says why 16384).
  size_t max_containers = 16384;
};

// How an ExecSync'd command ended (its exit code and captured output).
using ExecOutcome = oci::ExecResult;

struct ListFilter {
  std::optional<std::string> id;  // a prefix of the id
  std::optional<State> state;
  std::optional<std::string> sandbox_id;  // a prefix of the sandbox's id
  std::map<std::string, std::string> label_selector;  // all must match
};

struct ContainerStats {
  std::string id;
  std::string sandbox_id;
  ContainerMetadata metadata;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  absl::Time timestamp;
  uint64_t cpu_usage_core_nanos = 0;
  uint64_t memory_working_set_bytes = 0;
  uint64_t memory_usage_bytes = 0;
  // container/cgroup_stats.h's CgroupUsage.
  uint64_t memory_rss_bytes = 0;
  uint64_t page_faults = 0;
  uint64_t major_page_faults = 0;
  std::optional<uint64_t> memory_limit_bytes;
  uint64_t process_count = 0;
  // The writable layer.
  std::string writable_mountpoint;
  uint64_t writable_used_bytes = 0;
  uint64_t writable_inodes_used = 0;
};

// The output ExecSync keeps of each stream.
inline constexpr size_t kMaxExecOutput = 16 << 20;

class Manager {
 public:
  // Everything must outlive the manager. `reaper` may be null (exits are
  // then still seen, statuses are not).
  Manager(sys::Sys& sys, ManagerOptions options,
          const oci::HandlerRegistry& handlers, image::Store& store,
          image::Images& images, SpecBuilder spec_builder,
          sys::OrphanReaper* reaper);
  ~Manager();

  // Makes the directories, starts the relay and watcher threads, and
  // recovers: records still creating are rolled back, live containers are
  // re-attached (watched and relayed again, through the keeper's pidfd when
  // it holds one), containers that exited while the daemon was down are
  // marked exited (with their real status when the keeper held their pidfd,
  // else kUnknownExitCode), keys the keeper holds for no live container are
  // dropped, and writable layers and state dirs with no record are removed.
  absl::Status Init();

  // Returns the new container's id (64 hex). Errors: InvalidArgument for an
  // unknown image (config.image) or handler; AlreadyExists when the pod
  // already has a container of that name and attempt; ResourceExhausted
  // when the node holds options.max_containers already (nothing done); the
  // failing step's error after a full rollback.
  absl::StatusOr<std::string> CreateContainer(const PodContext& pod,
                                              const ContainerConfig& config)
      ABSL_LOCKS_EXCLUDED(mu_);

  // NotFound for an unknown id; FailedPrecondition unless created.
  absl::Status StartContainer(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // The image's STOPSIGNAL (else SIGTERM), then SIGKILL after `timeout`
  // (at once when zero). Stopping a container that is not running
  // succeeds. NotFound for an unknown id.
  absl::Status StopContainer(absl::string_view id, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Kills it if needed, then deletes runtime state, rootfs, writable layer,
  // FIFOs and record. Unknown ids succeed (CRI: idempotent).
  absl::Status RemoveContainer(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // Memory only (see above). NotFound for unknown ids and for a container
  // still being created.
  absl::StatusOr<ContainerRecord> ContainerStatus(absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The container's config.json, for verbose status; empty if unreadable.
  std::string SpecJson(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);
  // Matching containers, oldest first.
  std::vector<ContainerRecord> ListContainers(const ListFilter& filter)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Applies new cgroup limits to a created or running container (runtime
  // update) and keeps them in the record. NotFound; FailedPrecondition when
  // it has exited.
  absl::Status UpdateContainerResources(absl::string_view id,
                                        const Resources& resources)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Reopens the CRI log file. NotFound; FailedPrecondition unless running.
  absl::Status ReopenContainerLog(absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `cmd` in the running container; each stream keeps at most
  // kMaxExecOutput bytes. A command exiting non-zero is a result.
  // DeadlineExceeded after `timeout` (zero: the runtime's own deadline);
  // NotFound; FailedPrecondition unless running; InvalidArgument for an
  // empty cmd.
  absl::StatusOr<ExecOutcome> ExecSync(absl::string_view id,
                                       const std::vector<std::string>& cmd,
                                       absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Reads the container's cgroup and writable layer. NotFound.
  absl::StatusOr<ContainerStats> Stats(absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<ContainerStats> ListStats(const ListFilter& filter)
      ABSL_LOCKS_EXCLUDED(mu_);

  // For the sandbox's Stop and Remove: stops (kill, no grace beyond
  // `timeout`) or removes every container of the pod. Returns the first
  // error after trying all.
  absl::Status StopPodContainers(absl::string_view sandbox_id,
                                 absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RemovePodContainers(absl::string_view sandbox_id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Whether any container (in any state) uses the image `image_id`
  // ("sha256:<hex>"): image removal refuses then.
  bool ImageInUse(absl::string_view image_id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Container {
    absl::Mutex op_mu;  // serialises operations; held across runtime execs
    absl::Mutex mu ABSL_ACQUIRED_AFTER(op_mu);
    ContainerRecord record ABSL_GUARDED_BY(mu);
    // Serialises record writes, so the newest copy is the last written.
    absl::Mutex save_mu;
    bool removed ABSL_GUARDED_BY(mu) = false;
  };
  struct Paths;

  Paths PathsFor(absl::string_view id) const;
  std::shared_ptr<Container> Find(absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Find, with NotFound ("container <id> not found") for no container.
  absl::StatusOr<std::shared_ptr<Container>> FindOrNotFound(
      absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);
  // The handler the containers of a pod on `pod_handler` run with.
  absl::StatusOr<const oci::RuntimeHandler*> ContainerHandler(
      absl::string_view pod_handler);
  absl::StatusOr<oci::OciRuntime*> RuntimeFor(
      const oci::RuntimeHandler& handler) ABSL_LOCKS_EXCLUDED(mu_);
  // Writes the record's current copy (durable false: see record_store.h).
  absl::Status Save(Container& c) ABSL_LOCKS_EXCLUDED(c.mu);
  absl::Status Journal(Container& c, Step step) ABSL_LOCKS_EXCLUDED(c.mu);
  // Marks `c` removed (no Save writes it again) and deletes its record.
  absl::Status DeleteRecord(Container& c) ABSL_LOCKS_EXCLUDED(c.mu);
  // The idempotent undo of each step, shared by rollback, Remove and
  // recovery.
  absl::Status UndoStep(const ContainerRecord& record, Step step);
  absl::Status UndoAll(const ContainerRecord& record);
  absl::Status CreateSteps(Container& c, const PodContext& pod,
                           const ContainerConfig& config,
                           const image::ImageConfig& image_config,
                           const std::vector<std::string>& layers,
                           oci::OciRuntime& runtime);
  // Watches the init `pid` (started at `start_time`) of container `id`,
  // through `kept_pidfd` when valid (the keeper's: it names the process
  // itself, so no start-time check, and it tells the status even when the
  // process is long gone), else a new pidfd. With `fifo_fds`, hands the
  // pidfd and those FIFO fds to the keeper under `id`. NotFound when that
  // process is gone (and no kept pidfd names it).
  absl::Status Watch(const std::string& id, pid_t pid, uint64_t start_time,
                     bool our_child, sys::UniqueFd kept_pidfd,
                     const std::vector<int>& fifo_fds);
  // Lets the keeper close what it holds for `id` (logged on failure).
  void DropKept(absl::string_view id);
  // OnExit's drop: queued for dropper_, so a hung or restarting keeper
  // (a reply timeout, a keeper start) never holds up the exit watcher's
  // thread and every other container's exit behind it.
  void QueueDrop(absl::string_view id) ABSL_LOCKS_EXCLUDED(drops_mu_);
  // dropper_'s loop: DropKept of each queued id until stop_dropping_.
  void DropQueued() ABSL_LOCKS_EXCLUDED(drops_mu_);
  bool DropsReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(drops_mu_) {
    return stop_dropping_ || !drops_.empty();
  }
  void OnExit(const oci::ProcessExit& exit) ABSL_LOCKS_EXCLUDED(mu_);
  // Signals the container's init through a pidfd (no runtime exec): gone
  // already is success.
  absl::Status Signal(Container& c, int signal) ABSL_LOCKS_EXCLUDED(c.mu);
  // Waits until the exit handler marked `c` exited.
  bool AwaitExited(Container& c, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(c.mu);
  absl::Status RemoveLocked(const std::shared_ptr<Container>& c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->op_mu);
  absl::Status StopLocked(Container& c, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(c.op_mu);
  absl::Status Recover();
  bool OomKilled(const std::string& cgroup_path);

  sys::Sys& sys_;
  const ManagerOptions options_;
  const oci::HandlerRegistry& handlers_;
  image::Store& store_;
  image::Images& images_;
  SpecBuilder spec_builder_;
  // Declared before the threads' owners below, so they outlive them: the
  // watcher's callback reads them until its thread stops.
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Container>> containers_
      ABSL_GUARDED_BY(mu_);
  // "<sandbox id>/<name>/<attempt>" -> id: names reserved, creating included.
  absl::flat_hash_map<std::string, std::string> names_ ABSL_GUARDED_BY(mu_);
  // One driver per handler name, made on first use.
  absl::flat_hash_map<std::string, std::unique_ptr<oci::OciRuntime>> runtimes_
      ABSL_GUARDED_BY(mu_);
  // OnExit's drops (QueueDrop), before watcher_ for the same reason. Ids
  // left here at our destruction stay held until the next start's Recover
  // drops keys of no live container.
  absl::Mutex drops_mu_;
  std::deque<std::string> drops_ ABSL_GUARDED_BY(drops_mu_);
  bool stop_dropping_ ABSL_GUARDED_BY(drops_mu_) = false;
  RecordStore records_;
  LogRelay relay_;
  oci::ExitWatcher watcher_;
  sys::OrphanReaper* const reaper_;
  keeper::Client* const keeper_;
  std::thread dropper_;  // with a keeper only; joined by ~Manager
};

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_MANAGER_H_
