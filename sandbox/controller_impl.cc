#include "sandbox/controller_impl.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "netns/loopback.h"
#include "oci/runtime_cli.h"
#include "sandbox/cleanup_stack.h"
#include "sandbox/derived_specs.h"
#include "sandbox/pause/rootfs.h"
#include "sandbox/pod_files.h"
#include "sandbox/status_info.h"
#include "sandbox/validation.h"
#include "sys/file.h"
#include "sys/log.h"
#include "sys/status.h"
#include "sys/subprocess.h"

namespace podsandbox::sandbox {
namespace {

std::string NewSandboxId() {
  // 256 random bits, as containerd's and CRI-O's ids.
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock lock(&mu);
  std::string id;
  for (int i = 0; i < 4; ++i) {
    absl::StrAppendFormat(&id, "%016x", absl::Uniform<uint64_t>(*gen));
  }
  return id;
}

// The entries of a directory of ours, for orphan collection: an unreadable
// one has nothing to collect now (the next start tries again).
std::vector<std::string> NamesIn(const std::string& dir) {
  return sys::ListDir(dir).value_or(std::vector<std::string>());
}

std::vector<oci::RuntimeHandler> HandlersOrDefault(const ControllerOptions& o) {
  if (!o.runtime_handlers.empty()) return o.runtime_handlers;
  oci::RuntimeHandler runc;
  runc.name = "runc";
  runc.type = oci::RuntimeType::kRunc;
  runc.path = "/usr/sbin/runc";
  runc.root = absl::StrCat(o.state_dir, "/runtime/runc");
  return {runc};
}

// Whether CNI ADD may run while the runtime creates the pause (see
// RunPipeline). runc and crun apply the pod's sysctls inside the netns at
// create, and an interface sysctl (net.ipv4.conf.eth0.*) needs eth0 there,
// so a pod with net.* sysctls on those runtimes gets its network first.
bool OverlapsNetworkWithCreate(const oci::RuntimeHandler& handler,
                               const PodConfig& config) {
  if (oci::CapabilitiesOf(handler.type).netns_ready_by ==
      oci::NetnsReadyBy::kStart) {
    return true;
  }
  for (const auto& [name, value] : config.sysctls) {
    if (absl::StartsWith(CanonicalSysctlName(name), "net.")) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Controller>> Controller::Create(
    sys::Sys& sys, ControllerOptions options) {
  if (options.root_dir.empty() || options.root_dir[0] != '/') {
    return absl::InvalidArgumentError("root_dir: must be an absolute path");
  }
  if (options.state_dir.empty() || options.state_dir[0] != '/') {
    return absl::InvalidArgumentError("state_dir: must be an absolute path");
  }
  if (options.pause_binary.empty()) {
    return absl::InvalidArgumentError("pause_binary: must be set");
  }
  if (std::string why =
          UncleanPathReason(options.pod_limits.cgroup_parent_prefix);
      !why.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pod_limits.cgroup_parent_prefix: ", why));
  }
  if (options.max_sandboxes == 0) {
    return absl::InvalidArgumentError("max_sandboxes: must be at least 1");
  }
  if (options.stop_grace_period < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "stop_grace_period: must not be negative");
  }
  ASSIGN_OR_RETURN(oci::HandlerRegistry handlers,
                   oci::HandlerRegistry::Create(HandlersOrDefault(options),
                                                options.default_runtime));
  auto controller = std::make_unique<ControllerImpl>(sys, std::move(options),
                                                     std::move(handlers));
  RETURN_IF_ERROR(controller->Init());
  return controller;
}

ControllerImpl::ControllerImpl(sys::Sys& sys, ControllerOptions options,
                               oci::HandlerRegistry handlers)
    : sys_(sys),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      store_(sys, absl::StrCat(options_.root_dir, "/sandboxes")),
      namespaces_(sys, absl::StrCat(options_.state_dir, "/ns")),
      cni_(sys, options_.cni_conf_dir, options_.cni_bin_dirs,
           absl::StrCat(options_.root_dir, "/cni"), options_.cni_timeout),
      names_(options_.max_sandboxes),
      reaper_(sys),
      tasks_(sys, &reaper_,
             PauseTask::Options{absl::StrCat(options_.state_dir, "/rootfs")},
             [this](const oci::ProcessExit& exit) { OnPauseExit(exit); }) {}

ControllerImpl::~ControllerImpl() = default;

absl::Status ControllerImpl::Init() {
  // We run as root and trust what is in these trees (records, pins,
  // bundles): refuse existing ones that another user owns or may write,
  // before creating anything. Those we create are root's, 0700 and 0711.
  for (const std::string& dir : {options_.root_dir, options_.state_dir}) {
    if (absl::Status s = sys::CheckTrustedDir(dir, /*owner=*/0);
        !s.ok() && !absl::IsNotFound(s)) {
      return s;
    }
  }
  // A pod's root reaches its rootfs and bundle under state_dir as a host
  // uid with no other right: say which directory blocks it now, not at
  // each user-namespaced pod's create.
  RETURN_IF_ERROR(CheckSearchableByOthers(options_.state_dir));
  RETURN_IF_ERROR(sys::MakeDirs(sys_, options_.root_dir, 0700));
  RETURN_IF_ERROR(sys::MakeDirs(sys_, options_.state_dir, 0711));
  std::string lock_path = absl::StrCat(options_.root_dir, "/lock");
  ASSIGN_OR_RETURN(lock_,
                   sys::OpenFile(sys_, lock_path, O_RDWR | O_CREAT, 0600));
  if (sys::SysResult r = sys_.Flock(lock_.get(), LOCK_EX | LOCK_NB); !r.ok()) {
    if (r.err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("another podsandbox controller is using ",
                       options_.root_dir, " (", lock_path, " is locked)"));
    }
    return sys::ErrnoError(r.err, "lock %s", lock_path);
  }
  // Under the lock: the temp files of writes a kill cut short are ours.
  RETURN_IF_ERROR(store_.Init());
  RETURN_IF_ERROR(cni_.Init());
  RETURN_IF_ERROR(namespaces_.Init());
  for (const char* dir : {"/bundles", "/pods"}) {
    RETURN_IF_ERROR(
        sys::MakeDirs(sys_, absl::StrCat(options_.state_dir, dir), 0711));
  }
  RETURN_IF_ERROR(pause::EnsurePauseRootfs(
      sys_, absl::StrCat(options_.state_dir, "/rootfs"),
      options_.pause_binary));
  // Each pause becomes our child when its runtime exits, so we can watch
  // and reap it without a monitor process per pod.
  RETURN_IF_ERROR(reaper_.Start());
  RETURN_IF_ERROR(tasks_.Init());
  return Recover();
}

std::string ControllerImpl::BundleDir(absl::string_view id) const {
  return absl::StrCat(options_.state_dir, "/bundles/", id);
}

std::string ControllerImpl::PodFilesDir(absl::string_view id) const {
  return absl::StrCat(options_.state_dir, "/pods/", id);
}

absl::StatusOr<const oci::RuntimeHandler*> ControllerImpl::HandlerOf(
    const SandboxRecord& record) {
  return sys::Annotate(handlers_.Resolve(record.runtime_handler),
                       absl::StrCat("runtime handler of sandbox ", record.id));
}

std::shared_ptr<ControllerImpl::Sandbox> ControllerImpl::Find(
    absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto it = sandboxes_.find(id);
  return it == sandboxes_.end() ? nullptr : it->second;
}

absl::StatusOr<std::shared_ptr<ControllerImpl::Sandbox>>
ControllerImpl::Resolve(absl::string_view id) {
  if (id.empty()) {
    return absl::InvalidArgumentError("pod_sandbox_id: must not be empty");
  }
  absl::MutexLock lock(&mu_);
  if (auto it = sandboxes_.find(id); it != sandboxes_.end()) return it->second;
  // People type the 13-character ids crictl prints; containerd resolves a
  // unique prefix on the server, so we do too.
  std::shared_ptr<Sandbox> match;
  for (const auto& [full, sandbox] : sandboxes_) {
    if (!absl::StartsWith(full, id)) continue;
    if (match != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pod_sandbox_id: \"", id, "\" is a prefix of several sandboxes"));
    }
    match = sandbox;
  }
  if (match == nullptr) {
    return absl::NotFoundError(absl::StrCat("pod sandbox ", id, " not found"));
  }
  return match;
}

SandboxRecord ControllerImpl::Snapshot(Sandbox& sandbox) {
  absl::MutexLock lock(&sandbox.mu);
  return sandbox.record;
}

void ControllerImpl::Change(Sandbox& sandbox,
                            absl::FunctionRef<void(SandboxRecord&)> change) {
  absl::MutexLock lock(&sandbox.mu);
  change(sandbox.record);
}

absl::Status ControllerImpl::Update(
    Sandbox& sandbox, absl::FunctionRef<void(SandboxRecord&)> change,
    bool durable) {
  Change(sandbox, change);
  // Two writers (an operation and the exit watcher) may race; each writes
  // the latest record under save_mu, so the file never goes back in time.
  absl::MutexLock save(&sandbox.save_mu);
  return store_.Save(Snapshot(sandbox), durable);
}

absl::Status ControllerImpl::Journal(Sandbox& sandbox, Step step,
                                     bool durable) {
  RETURN_IF_ERROR(Update(
      sandbox, [step](SandboxRecord& r) { r.steps.push_back(step); }, durable));
  if (crash_point_hook_) {
    crash_point_hook_(absl::StrCat("journalled ", StepName(step)));
  }
  return absl::OkStatus();
}

void ControllerImpl::StepDone(Step step) {
  if (step_hook_) step_hook_(step);
}

void ControllerImpl::CrashPoint(absl::string_view point) {
  if (crash_point_hook_) crash_point_hook_(point);
}

absl::Status ControllerImpl::NetworkReady() { return cni_.Ready(); }

absl::Status ControllerImpl::RuntimeReady() {
  const oci::RuntimeHandler& handler = handlers_.default_handler();
  // `--version` is the one command runc, crun and runsc all take without a
  // container: it proves the binary is there, executable and runs, which
  // is what a request for the default handler needs first.
  sys::Command command{handler.path, {handler.path, "--version"}};
  command.timeout = handler.timeout;
  command.output_limit = 4096;
  absl::StatusOr<sys::SubprocessResult> result =
      sys::RunSubprocess(sys_, command);
  const std::string context = absl::StrCat("runtime handler ", handler.name,
                                           ": ", handler.path, " --version");
  if (!result.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(context, ": ", result.status().message()));
  }
  if (!result->success()) {
    std::string why = oci::ExtractRuntimeMessage(result->stderr_data);
    if (why.empty()) why = oci::ExtractRuntimeMessage(result->stdout_data);
    return absl::FailedPreconditionError(
        absl::StrCat(context, ": ", sys::DescribeExit(*result),
                     why.empty() ? "" : ": ", why));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ControllerImpl::RunPodSandbox(
    const PodConfig& config, absl::string_view runtime_handler) {
  // Everything that can refuse the request does so before any side effect.
  RETURN_IF_ERROR(
      ValidatePodConfig(config, options_.userns_policy, options_.pod_limits));
  ASSIGN_OR_RETURN(const oci::RuntimeHandler* handler,
                   handlers_.Resolve(runtime_handler));
  SandboxRecord probe;
  probe.config = config;
  probe.netns_pin = config.host_network() ? "" : "/probe";
  probe.userns_pin =
      config.user_namespaced() && !config.host_network() ? "/probe" : "";
  RETURN_IF_ERROR(oci::CheckHandlerSupports(
      *handler, TaskSpecFor(probe, options_.oom_score_adj)));
  if (!config.host_network()) {
    RETURN_IF_ERROR(sys::Annotate(cni_.Ready(), "pod network is not ready"));
  }

  std::string key = ReservationKey(config.metadata);
  ASSIGN_OR_RETURN(NameRegistry::Claim claim,
                   names_.Reserve(key, config, handler->name, NewSandboxId()));
  if (claim.existing) {
    // The same request again (kubelet retrying after its deadline): answer
    // with the sandbox it made, if that is still running.
    std::shared_ptr<Sandbox> holder = Find(claim.id);
    if (holder != nullptr && Snapshot(*holder).phase == Phase::kReady) {
      return claim.id;
    }
    return absl::AlreadyExistsError(
        absl::StrCat("pod name ", key, " is held by sandbox ", claim.id,
                     ", which is not ready; remove it first"));
  }
  if (absl::Status s = ReserveRanges(config, claim.id); !s.ok()) {
    names_.Release(key, claim.id);
    return s;
  }
  absl::StatusOr<std::string> id = CreateSandbox(config, *handler, claim.id);
  if (id.ok()) {
    names_.MarkCreated(key, claim.id);
  } else {
    ranges_.Release(claim.id);
    names_.Release(key, claim.id);
  }
  return id;
}

absl::Status ControllerImpl::ReserveRanges(const PodConfig& config,
                                           const std::string& id) {
  if (!config.user_namespaced() ||
      options_.userns_policy.allow_overlapping_ranges) {
    return absl::OkStatus();
  }
  return ranges_.Reserve(
      id, absl::StrCat(config.metadata.namespace_, "/", config.metadata.name),
      config.namespaces.userns.mappings,
      "config.linux.security_context.namespace_options.userns_options");
}

absl::StatusOr<std::string> ControllerImpl::CreateSandbox(
    const PodConfig& config, const oci::RuntimeHandler& handler,
    const std::string& id) {
  auto sandbox = std::make_shared<Sandbox>(id);
  absl::MutexLock op(&sandbox->op_mu);
  {
    absl::MutexLock lock(&sandbox->mu);
    sandbox->record.id = id;
    sandbox->record.config = config;
    sandbox->record.runtime_handler = handler.name;
    sandbox->record.phase = Phase::kCreating;
    sandbox->record.created_at = absl::Now();
  }
  {
    absl::MutexLock lock(&mu_);
    sandboxes_[id] = sandbox;
  }
  absl::Status status;
  bool undo_failed = false;
  {
    CleanupStack undo(absl::StrCat("pod ", id));
    status = RunPipeline(*sandbox, handler, undo);
    if (status.ok()) {
      std::move(undo).Commit();
    } else {
      status = undo.Unwind(std::move(status));
      undo_failed = undo.undo_failures() > 0;
    }
  }
  if (status.ok()) return id;

  // Rolled back. The record goes unless an undo failed: then it stays,
  // still "creating", so the next start rolls it back again.
  {
    absl::MutexLock lock(&mu_);
    sandboxes_.erase(id);
  }
  if (!undo_failed) {
    if (absl::Status s = store_.Remove(id); !s.ok()) {
      PSB_LOG(kWarning, "remove record of rolled-back pod=%s: %s", id,
              s.ToString());
    }
  }
  return status;
}

absl::Status ControllerImpl::RunPipeline(Sandbox& sandbox,
                                         const oci::RuntimeHandler& handler,
                                         CleanupStack& undo) {
  const std::string id = sandbox.id;
  // The record reaches disk with the first journal entry, before the first
  // side effect: a crash from there on is rolled back at the next start.
  // What a step learns (pins, IPs) is kept in memory and saved with the
  // next entry: undo derives every path from the id, so it needs none of
  // it, and one write per step keeps RunPodSandbox's own share small.
  SandboxRecord record = Snapshot(sandbox);
  const PodConfig& config = record.config;

  if (!config.host_network()) {
    // Pins live on tmpfs and die with the host: no fsync needed.
    RETURN_IF_ERROR(Journal(sandbox, Step::kNamespaces, /*durable=*/false));
    ASSIGN_OR_RETURN(
        netns::PinnedNamespaces pins,
        namespaces_.Create(id, config.user_namespaced()
                                   ? &config.namespaces.userns.mappings
                                   : nullptr));
    undo.Push("remove namespaces",
              [this, id] { return namespaces_.Remove(id); });
    Change(sandbox, [&pins](SandboxRecord& r) {
      r.netns_pin = pins.netns;
      r.userns_pin = pins.userns;
    });
    StepDone(Step::kNamespaces);

    RETURN_IF_ERROR(sys::Annotate(
        netns::BringUpLoopback(sys_, netlink_, pins.netns), "bring up lo"));
  }

  // Network, pod files and the pause task. The task's create needs only
  // the netns to exist; what runs inside it at create (net.* sysctls) or
  // at start (runsc copies the interfaces) needs the network configured.
  // So where the runtime and the pod allow it, CNI ADD runs on a thread of
  // its own while the runtime creates the pause, and start waits for it.
  const bool with_network = !config.host_network();
  const bool overlap = with_network && options_.overlap_network_with_create &&
                       OverlapsNetworkWithCreate(handler, config);
  cni::Attachment attachment;
  std::optional<absl::StatusOr<cni::Result>> added;
  std::thread adder;
  bool network_pending = false;  // ADD launched, outcome not yet taken
  // Takes ADD's outcome (joining its thread) and, if it attached the pod,
  // pushes its undo. Does nothing the second time.
  auto finish_network = [&]() -> absl::Status {
    if (!network_pending) return absl::OkStatus();
    network_pending = false;
    if (adder.joinable()) adder.join();
    // A failed ADD has already run its own rollback DEL.
    if (!added->ok()) return sys::Annotate(added->status(), "CNI ADD");
    undo.Push("CNI DEL", [this, attachment] { return cni_.Del(attachment); });
    const cni::Result& result = **added;
    Change(sandbox, [&result](SandboxRecord& r) {
      r.ips = result.PodIps();
      r.cni_result = result.raw_json;
    });
    StepDone(Step::kNetwork);
    return absl::OkStatus();
  };
  // Whatever way this function returns, a launched ADD is waited for and,
  // if it attached the pod, its undo is on the stack before the caller
  // unwinds it.
  absl::Cleanup settle_network = [&finish_network] {
    finish_network().IgnoreError();  // an ADD error is moot once we fail
  };
  if (with_network) {
    // Not fsynced either, though IPAM leases outlive a reboot: the CNI
    // cache entry, written durably before ADD returns, is what finds an
    // attachment after one (recovery DELs cached attachments that have no
    // record), and a daemon crash, the case the journal is for, keeps the
    // page cache.
    RETURN_IF_ERROR(Journal(sandbox, Step::kNetwork, /*durable=*/false));
    attachment = AttachmentFor(Snapshot(sandbox));
    network_pending = true;
    if (overlap) {
      adder = std::thread(
          [this, &added, &attachment] { added = cni_.Add(attachment); });
    } else {
      added = cni_.Add(attachment);
      RETURN_IF_ERROR(finish_network());
    }
  }

  std::string files = PodFilesDir(id);
  // The hosts file names the pod's IPs: after ADD.
  auto write_pod_files = [&]() -> absl::Status {
    RETURN_IF_ERROR(finish_network());
    RETURN_IF_ERROR(Journal(sandbox, Step::kPodFiles, /*durable=*/false));
    RETURN_IF_ERROR(WritePodFiles(sys_, files, config, config.hostname,
                                  Snapshot(sandbox).ips, PodRootOwner(config)));
    undo.Push("remove pod files",
              [this, files] { return RemovePodFiles(sys_, files); });
    StepDone(Step::kPodFiles);
    return absl::OkStatus();
  };
  if (!overlap) RETURN_IF_ERROR(write_pod_files());

  RETURN_IF_ERROR(Journal(sandbox, Step::kTask, /*durable=*/false));
  std::string bundle = BundleDir(id);
  oci::TaskSpec spec = TaskSpecFor(Snapshot(sandbox), options_.oom_score_adj);
  absl::StatusOr<PauseProcess> pause =
      overlap ? tasks_.Start(spec, handler, bundle, write_pod_files)
              : tasks_.Start(spec, handler, bundle);
  // If create failed while ADD ran, settle_network takes ADD's outcome.
  if (!pause.ok()) return pause.status();
  oci::RuntimeHandler handler_copy = handler;
  undo.Push("delete pause task", [this, handler_copy, id, bundle] {
    return tasks_.Delete(handler_copy, id, bundle);
  });
  StepDone(Step::kTask);

  // Not fsynced: after a reboot the pause is gone whatever the record says,
  // and a record that still reads "creating" is rolled back, which frees
  // the same resources Stop and Remove would.
  return Update(
      sandbox,
      [&pause](SandboxRecord& r) {
        r.pid = pause->pid;
        r.pid_start_time = pause->start_time;
        r.phase = Phase::kReady;
        r.ready_at = absl::Now();
      },
      /*durable=*/false);
}

absl::Status ControllerImpl::UndoStep(const SandboxRecord& record, Step step) {
  switch (step) {
    case Step::kNamespaces:
      return namespaces_.Remove(record.id);
    case Step::kNetwork:
      return cni_.Del(AttachmentFor(record));
    case Step::kPodFiles:
      return RemovePodFiles(sys_, PodFilesDir(record.id));
    case Step::kTask: {
      ASSIGN_OR_RETURN(const oci::RuntimeHandler* handler, HandlerOf(record));
      return tasks_.Delete(*handler, record.id, BundleDir(record.id));
    }
  }
  return absl::InternalError("unknown step");
}

absl::Status ControllerImpl::RollBack(const SandboxRecord& record) {
  CleanupStack undo(absl::StrCat("pod ", record.id));
  for (Step step : record.steps) {
    undo.Push(std::string(StepName(step)), [this, record, step] {
      absl::Status s = UndoStep(record, step);
      CrashPoint(absl::StrCat("recover: undid ", StepName(step)));
      return s;
    });
  }
  absl::Status failed = undo.Unwind(
      absl::InternalError(absl::StrCat("roll back pod sandbox ", record.id)));
  return undo.undo_failures() == 0 ? absl::OkStatus() : failed;
}

absl::Status ControllerImpl::StopLocked(Sandbox& sandbox, bool force_network) {
  SandboxRecord record = Snapshot(sandbox);
  // Stopped already: the pause is gone and so are the network and pins
  // (Stop only gets here once each of those steps is undone), so a second
  // Stop, or the one inside Remove, has nothing to do: no runtime exec.
  if (record.phase == Phase::kStopped) return absl::OkStatus();
  if (record.HasStep(Step::kTask)) {
    ASSIGN_OR_RETURN(const oci::RuntimeHandler* handler, HandlerOf(record));
    RETURN_IF_ERROR(
        tasks_.Stop(*handler, record.id, options_.stop_grace_period));
    CrashPoint("stop: task stopped");
  }
  if (record.phase == Phase::kReady) {
    RETURN_IF_ERROR(Update(
        sandbox,
        [](SandboxRecord& r) {
          if (r.phase != Phase::kReady) return;  // the watcher was first
          r.phase = Phase::kNotReady;
          r.exited_at = absl::Now();
        },
        /*durable=*/false));
  }
  if (record.HasStep(Step::kNetwork)) {
    // DEL runs with the cached result even when the netns is gone.
    absl::Status del = cni_.Del(AttachmentFor(record));
    CrashPoint("stop: network deleted");
    if (!del.ok()) {
      int failures = record.failed_cni_deletes + 1;
      RETURN_IF_ERROR(Update(
          sandbox,
          [failures](SandboxRecord& r) { r.failed_cni_deletes = failures; },
          /*durable=*/true));
      if (!force_network || failures < kMaxFailedCniDeletes) {
        return sys::Annotate(del, "CNI DEL");
      }
      PSB_LOG(kWarning,
              "giving up CNI DEL for pod=%s after %d failures: %s; its CNI "
              "cache entry is retried at the next start",
              record.id, failures, del.ToString());
    }
    RETURN_IF_ERROR(Update(
        sandbox,
        [](SandboxRecord& r) {
          r.steps.erase(
              std::remove(r.steps.begin(), r.steps.end(), Step::kNetwork),
              r.steps.end());
          r.failed_cni_deletes = 0;
        },
        /*durable=*/true));
  }
  if (record.HasStep(Step::kNamespaces)) {
    RETURN_IF_ERROR(namespaces_.Remove(record.id));
    CrashPoint("stop: namespaces removed");
    RETURN_IF_ERROR(Update(
        sandbox,
        [](SandboxRecord& r) {
          r.steps.erase(
              std::remove(r.steps.begin(), r.steps.end(), Step::kNamespaces),
              r.steps.end());
        },
        /*durable=*/false));
  }
  return Update(
      sandbox, [](SandboxRecord& r) { r.phase = Phase::kStopped; },
      /*durable=*/true);
}

bool ControllerImpl::StillListed(absl::string_view id,
                                 const std::shared_ptr<Sandbox>& sandbox) {
  absl::MutexLock lock(&mu_);
  auto it = sandboxes_.find(id);
  return it != sandboxes_.end() && it->second == sandbox;
}

absl::Status ControllerImpl::WithSandboxOp(
    absl::string_view id, absl::FunctionRef<absl::Status(Sandbox&)> op) {
  absl::StatusOr<std::shared_ptr<Sandbox>> found = Resolve(id);
  if (absl::IsNotFound(found.status())) return absl::OkStatus();  // CRI
  RETURN_IF_ERROR(found.status());
  std::shared_ptr<Sandbox> sandbox = *std::move(found);
  absl::MutexLock lock(&sandbox->op_mu);
  // A Remove that ran while we waited took the sandbox away: nothing to
  // do, and saving its record now would bring it back.
  if (!StillListed(sandbox->id, sandbox)) return absl::OkStatus();
  return op(*sandbox);
}

absl::Status ControllerImpl::StopPodSandbox(absl::string_view id) {
  return WithSandboxOp(id, [this](Sandbox& sandbox) {
    return sys::Annotate(StopLocked(sandbox, /*force_network=*/false),
                         absl::StrCat("stop pod sandbox ", sandbox.id));
  });
}

absl::Status ControllerImpl::RemovePodSandbox(absl::string_view id) {
  return WithSandboxOp(
      id, [this](Sandbox& sandbox) { return RemoveLocked(sandbox); });
}

absl::Status ControllerImpl::RemoveLocked(Sandbox& sandbox) {
  std::string context = absl::StrCat("remove pod sandbox ", sandbox.id);
  RETURN_IF_ERROR(
      sys::Annotate(StopLocked(sandbox, /*force_network=*/true), context));
  CrashPoint("remove: stopped");
  SandboxRecord record = Snapshot(sandbox);
  for (Step step : {Step::kTask, Step::kPodFiles}) {
    if (record.HasStep(step)) {
      RETURN_IF_ERROR(sys::Annotate(UndoStep(record, step), context));
      CrashPoint(absl::StrCat("remove: undid ", StepName(step)));
    }
  }
  RETURN_IF_ERROR(sys::Annotate(store_.Remove(record.id), context));
  names_.Release(ReservationKey(record.config.metadata), record.id);
  ranges_.Release(record.id);
  absl::MutexLock lock(&mu_);
  sandboxes_.erase(record.id);
  return absl::OkStatus();
}

absl::StatusOr<SandboxStatus> ControllerImpl::PodSandboxStatus(
    absl::string_view id, bool verbose) {
  ASSIGN_OR_RETURN(std::shared_ptr<Sandbox> sandbox, Resolve(id));
  SandboxRecord record = Snapshot(*sandbox);
  id = record.id;
  if (record.phase == Phase::kCreating) {
    return absl::NotFoundError(
        absl::StrCat("pod sandbox ", id, " is still being created"));
  }
  oci::RuntimeType type = oci::RuntimeType::kRunc;
  if (absl::StatusOr<const oci::RuntimeHandler*> h =
          handlers_.Resolve(record.runtime_handler);
      h.ok()) {
    type = (*h)->type;
  }
  return StatusOf(record, type, BundleDir(id), verbose);
}

std::optional<SandboxStatus> ControllerImpl::ListEntry(
    Sandbox& sandbox, const ListFilter& filter) {
  absl::MutexLock lock(&sandbox.mu);
  if (sandbox.record.phase == Phase::kCreating) return std::nullopt;
  if (filter.state.has_value() &&
      StateOf(sandbox.record.phase) != *filter.state) {
    return std::nullopt;
  }
  for (const auto& [key, value] : filter.label_selector) {
    auto it = sandbox.record.config.labels.find(key);
    if (it == sandbox.record.config.labels.end() || it->second != value) {
      return std::nullopt;
    }
  }
  return StatusOf(sandbox.record, oci::RuntimeType::kRunc, "",
                  /*verbose=*/false);
}

std::vector<SandboxStatus> ControllerImpl::ListPodSandbox(
    const ListFilter& filter) {
  std::vector<std::shared_ptr<Sandbox>> all;
  {
    absl::MutexLock lock(&mu_);
    // A filter id may be a prefix, as crictl users type it.
    for (const auto& [id, sandbox] : sandboxes_) {
      if (!filter.id.has_value() || absl::StartsWith(id, *filter.id)) {
        all.push_back(sandbox);
      }
    }
  }
  std::vector<SandboxStatus> out;
  for (const std::shared_ptr<Sandbox>& sandbox : all) {
    if (std::optional<SandboxStatus> status = ListEntry(*sandbox, filter)) {
      out.push_back(*std::move(status));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SandboxStatus& a, const SandboxStatus& b) {
              return a.created_at < b.created_at;
            });
  return out;
}

void ControllerImpl::OnPauseExit(const oci::ProcessExit& exit) {
  std::shared_ptr<Sandbox> sandbox = Find(exit.id);
  if (sandbox == nullptr) return;
  absl::Status s = Update(
      *sandbox,
      [&exit](SandboxRecord& r) {
        if (r.phase != Phase::kReady || r.pid != exit.pid) return;
        r.phase = Phase::kNotReady;
        r.exited_at = exit.time;
        if (exit.status_known) {
          r.exit_status =
              exit.term_signal != 0 ? 128 + exit.term_signal : exit.exit_code;
        }
      },
      /*durable=*/false);
  if (!s.ok()) {
    PSB_LOG(kWarning, "record exit of pod=%s: %s", exit.id, s.ToString());
  }
}

absl::Status ControllerImpl::Recover() {
  ASSIGN_OR_RETURN(Store::Loaded loaded, store_.LoadAll());
  for (const std::string& bad : loaded.quarantined) {
    PSB_LOG(kError, "quarantined corrupt sandbox record %s", bad);
  }
  for (SandboxRecord& record : loaded.records) {
    std::string id = record.id;
    if (absl::Status s = RecoverRecord(std::move(record)); !s.ok()) {
      // One bad sandbox must not keep the daemon (and every other pod)
      // down: it stays on disk for the next start, and is reported.
      PSB_LOG(kError, "recover pod=%s: %s", id, s.ToString());
    }
  }
  CollectOrphans();
  return absl::OkStatus();
}

absl::Status ControllerImpl::RecoverRecord(SandboxRecord record) {
  if (record.phase == Phase::kCreating) {
    // Killed mid-pipeline: finish the rollback from the journal.
    RETURN_IF_ERROR(RollBack(record));
    CrashPoint("recover: rolled back");
    return store_.Remove(record.id);
  }
  if (record.phase == Phase::kReady) {
    absl::Status alive =
        tasks_.Reattach(record.id, {record.pid, record.pid_start_time});
    if (!alive.ok()) {
      if (!absl::IsNotFound(alive)) return alive;
      // The pause died while we were away. Its resources stay for Stop.
      record.phase = Phase::kNotReady;
      record.exited_at = absl::Now();
      RETURN_IF_ERROR(store_.Save(record, /*durable=*/false));
    }
  }
  names_.Restore(ReservationKey(record.config.metadata), record.config,
                 record.runtime_handler, record.id);
  if (record.config.user_namespaced()) {
    ranges_.Restore(record.id,
                    absl::StrCat(record.config.metadata.namespace_, "/",
                                 record.config.metadata.name),
                    record.config.namespaces.userns.mappings);
  }
  std::string id = record.id;
  auto sandbox = std::make_shared<Sandbox>(id);
  {
    absl::MutexLock lock(&sandbox->mu);
    sandbox->record = std::move(record);
  }
  absl::MutexLock lock(&mu_);
  sandboxes_[id] = std::move(sandbox);
  return absl::OkStatus();
}

void ControllerImpl::CollectOrphans() {
  absl::flat_hash_set<std::string> known;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, sandbox] : sandboxes_) known.insert(id);
  }
  // Records still "creating" after a failed rollback stay on disk; their
  // leftovers are theirs, not orphans.
  if (absl::StatusOr<Store::Loaded> loaded = store_.LoadAll(); loaded.ok()) {
    for (const SandboxRecord& r : loaded->records) known.insert(r.id);
  }
  auto report = [](absl::string_view what, const std::string& id,
                   const absl::Status& s) {
    if (!s.ok()) {
      PSB_LOG(kWarning, "collect orphaned %s of %s: %s", what, id,
              s.ToString());
    }
  };
  for (const std::string& id : NamesIn(BundleDir(""))) {
    if (known.contains(id)) continue;
    for (const oci::RuntimeHandler& handler : handlers_.handlers()) {
      report("pause task", id, tasks_.Delete(handler, id, BundleDir(id)));
    }
  }
  CrashPoint("collect: pause tasks deleted");
  for (const std::string& id : NamesIn(PodFilesDir(""))) {
    if (!known.contains(id)) {
      report("pod files", id, RemovePodFiles(sys_, PodFilesDir(id)));
    }
  }
  // CNI DEL before the unpin, so plugins still see the netns.
  if (absl::StatusOr<std::vector<std::string>> cached = cni_.CachedContainers();
      cached.ok()) {
    for (const std::string& id : *cached) {
      if (known.contains(id)) continue;
      SandboxRecord orphan;
      orphan.id = id;
      orphan.netns_pin = namespaces_.PathsFor(id, false).netns;
      // Without its netns, DEL still releases the IPAM lease and rules.
      if (::access(orphan.netns_pin.c_str(), F_OK) != 0) orphan.netns_pin = "";
      report("CNI attachment", id, cni_.Del(AttachmentFor(orphan)));
    }
  }
  CrashPoint("collect: attachments deleted");
  if (absl::StatusOr<std::vector<std::string>> pinned = namespaces_.ListNames();
      pinned.ok()) {
    for (const std::string& id : *pinned) {
      if (!known.contains(id)) report("namespaces", id, namespaces_.Remove(id));
    }
  }
}

}  // namespace podsandbox::sandbox
