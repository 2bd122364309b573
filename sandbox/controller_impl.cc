// ControllerImpl's construction, start, the record and journal helpers,
// and RunPodSandbox's front: what it refuses and the name it reserves.
// The pipeline itself is in run_pipeline.cc; Stop and Remove in
// stop_remove.cc; Status and List in status_list.cc; restart recovery in
// recovery.cc.
#include "sandbox/controller_impl.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "oci/runtime_cli.h"
#include "oci/runtime_factory.h"
#include "sandbox/pause/rootfs.h"
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

}  // namespace

absl::StatusOr<std::unique_ptr<Controller>> Controller::Create(
    sys::Sys& sys, ControllerOptions options) {
  // pause_binary is the daemon's to find (beside podsandboxd), so it is
  // the one option not completed with the others.
  if (options.pause_binary.empty()) {
    return absl::InvalidArgumentError("pause_binary: must be set");
  }
  ASSIGN_OR_RETURN(oci::HandlerRegistry handlers,
                   CompleteControllerOptions(options));
  auto controller = std::make_unique<ControllerImpl>(sys, std::move(options),
                                                     std::move(handlers));
  RETURN_IF_ERROR(controller->Init());
  return controller;
}

namespace {

oci::OciRuntimeMaker RuntimesOr(sys::Sys& sys, oci::OciRuntimeMaker maker) {
  if (maker) return maker;
  return [&sys](const oci::RuntimeHandler& handler) {
    return oci::MakeOciRuntime(sys, handler);
  };
}

std::unique_ptr<PodNetns> NetnsOr(sys::Sys& sys, const std::string& state_dir,
                                  std::unique_ptr<PodNetns> netns) {
  if (netns != nullptr) return netns;
  return std::make_unique<HostPodNetns>(sys, absl::StrCat(state_dir, "/ns"));
}

PauseTask::Options TaskOptions(const ControllerOptions& options,
                               oci::OciRuntimeMaker make_runtime,
                               absl::Duration kill_wait) {
  PauseTask::Options o;
  o.rootfs = absl::StrCat(options.state_dir, "/rootfs");
  o.kill_wait = kill_wait;
  o.make_runtime = std::move(make_runtime);
  return o;
}

}  // namespace

ControllerImpl::ControllerImpl(sys::Sys& sys, ControllerOptions options,
                               oci::HandlerRegistry handlers, Seams seams)
    : sys_(sys),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      make_runtime_(RuntimesOr(sys, std::move(seams.make_runtime))),
      netns_(NetnsOr(sys, options_.state_dir, std::move(seams.netns))),
      shm_(seams.shm.has_value() ? *std::move(seams.shm) : HostPodShm(sys)),
      store_(sys, absl::StrCat(options_.root_dir, "/sandboxes")),
      cni_(sys, options_.cni_conf_dir, options_.cni_bin_dirs,
           absl::StrCat(options_.root_dir, "/cni"), options_.cni_timeout),
      names_(options_.max_sandboxes),
      reaper_(sys),
      tasks_(sys, &reaper_,
             TaskOptions(options_, make_runtime_, seams.kill_wait),
             [this](const oci::ProcessExit& exit) { OnPauseExit(exit); }) {}

ControllerImpl::~ControllerImpl() = default;

absl::Status ControllerImpl::Init() {
  // We trust what is in these trees (records, pins, bundles): refuse
  // existing ones that another user than ours (root, in the daemon) owns
  // or may write, before creating anything. Those we create are ours, 0700
  // and 0711.
  for (const std::string& dir : {options_.root_dir, options_.state_dir}) {
    if (absl::Status s = sys::CheckTrustedDir(dir, /*owner=*/::geteuid());
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
  RETURN_IF_ERROR(netns_->Init());
  for (const char* dir : {"/bundles", "/pods", "/shm"}) {
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

std::string ControllerImpl::ShmDir(absl::string_view id) const {
  return absl::StrCat(options_.state_dir, "/shm/", id);
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
  // builtin runs no binary: the daemon itself starts the pause.
  if (handler.type == oci::RuntimeType::kBuiltin) return absl::OkStatus();
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
  oci::PodNeeds needs;
  needs.own_netns = !config.host_network();
  needs.user_namespace = config.user_namespaced();
  RETURN_IF_ERROR(make_runtime_(*handler)->CheckCanRun(needs));
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

}  // namespace podsandbox::sandbox
