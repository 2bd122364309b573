#include "container/manager.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "container/cgroup_stats.h"
#include "container/rootfs.h"
#include "container/validation.h"
#include "nlohmann/json.hpp"
#include "sys/file.h"
#include "sys/log.h"
#include "sys/proc.h"
#include "sys/status.h"

namespace podsandbox::container {

struct Manager::Paths {
  std::string state;  // also the bundle
  std::string config;
  std::string stdout_fifo;
  std::string stderr_fifo;
  std::string pid_file;
  std::string runtime_log;
  RootfsPaths rootfs;
};

namespace {

using json = nlohmann::json;

// How long a SIGKILLed init may take to be reaped before Stop gives up.
constexpr absl::Duration kKillWait = absl::Seconds(30);

std::string NewContainerId() {
  // 256 random bits, as the sandbox's ids (and containerd's, CRI-O's).
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock lock(&mu);
  std::string id;
  for (int i = 0; i < 4; ++i) {
    absl::StrAppendFormat(&id, "%016x", absl::Uniform<uint64_t>(*gen));
  }
  return id;
}

std::string NameKey(absl::string_view sandbox_id, const ContainerMetadata& m) {
  return absl::StrCat(sandbox_id, "/", m.name, "/", m.attempt);
}

bool IsId(absl::string_view name) {
  return name.size() == 64 &&
         name.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

// Allocated bytes and inodes below `dir` (du-like; never follows links).
thread_local uint64_t walk_bytes = 0;
thread_local uint64_t walk_inodes = 0;
int CountEntry(const char*, const struct stat* st, int, struct FTW*) {
  walk_bytes += static_cast<uint64_t>(st->st_blocks) * 512;
  ++walk_inodes;
  return 0;
}

// An image's STOPSIGNAL ("SIGQUIT", "QUIT", "3") as a number; SIGTERM when
// empty or unknown (Docker refuses unknown names at build time, so one here
// is a hand-made config).
int StopSignalOf(absl::string_view name) {
  static constexpr std::pair<absl::string_view, int> kSignals[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
      {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
      {"TERM", SIGTERM}, {"STOP", SIGSTOP}, {"WINCH", SIGWINCH},
      {"PWR", SIGPWR}};
  int number = 0;
  if (absl::SimpleAtoi(name, &number)) {
    return number > 0 && number <= 64 ? number : SIGTERM;
  }
  absl::ConsumePrefix(&name, "SIG");
  for (const auto& [text, signal] : kSignals) {
    if (absl::EqualsIgnoreCase(name, text)) return signal;
  }
  return SIGTERM;
}

// OCI LinuxResources for `runtime update` (the fields CRI can change).
std::string ResourcesJson(const Resources& r) {
  json cpu = json::object();
  if (r.cpu_shares > 0) cpu["shares"] = r.cpu_shares;
  if (r.cpu_quota != 0) cpu["quota"] = r.cpu_quota;
  if (r.cpu_period > 0) cpu["period"] = r.cpu_period;
  if (!r.cpuset_cpus.empty()) cpu["cpus"] = r.cpuset_cpus;
  if (!r.cpuset_mems.empty()) cpu["mems"] = r.cpuset_mems;
  json memory = json::object();
  if (r.memory_limit_in_bytes > 0) memory["limit"] = r.memory_limit_in_bytes;
  if (r.memory_swap_limit_in_bytes > 0) {
    memory["swap"] = r.memory_swap_limit_in_bytes;
  }
  json out = json::object();
  if (!cpu.empty()) out["cpu"] = cpu;
  if (!memory.empty()) out["memory"] = memory;
  return out.dump();
}

bool Matches(const ContainerRecord& r, const ListFilter& filter) {
  if (r.state == State::kCreating) return false;
  if (filter.id && !absl::StartsWith(r.id, *filter.id)) return false;
  if (filter.state && r.state != *filter.state) return false;
  if (filter.sandbox_id && !absl::StartsWith(r.sandbox_id, *filter.sandbox_id))
    return false;
  for (const auto& [key, value] : filter.label_selector) {
    auto it = r.labels.find(key);
    if (it == r.labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

Manager::Manager(sys::Sys& sys, ManagerOptions options,
                 const oci::HandlerRegistry& handlers, image::Store& store,
                 image::Images& images, SpecBuilder spec_builder,
                 sys::OrphanReaper* reaper)
    : sys_(sys),
      options_(std::move(options)),
      handlers_(handlers),
      store_(store),
      images_(images),
      spec_builder_(std::move(spec_builder)),
      records_(sys, options_.root_dir),
      relay_(sys),
      watcher_(sys, reaper,
               [this](const oci::ProcessExit& exit) { OnExit(exit); }),
      reaper_(reaper),
      keeper_(options_.keeper) {
  if (keeper_ != nullptr) dropper_ = std::thread([this] { DropQueued(); });
}

Manager::~Manager() {
  {
    absl::MutexLock lock(&drops_mu_);
    stop_dropping_ = true;
  }
  if (dropper_.joinable()) dropper_.join();
}

Manager::Paths Manager::PathsFor(absl::string_view id) const {
  Paths p;
  p.state = absl::StrCat(options_.state_dir, "/", id);
  p.config = absl::StrCat(p.state, "/config.json");
  p.stdout_fifo = absl::StrCat(p.state, "/stdout");
  p.stderr_fifo = absl::StrCat(p.state, "/stderr");
  p.pid_file = absl::StrCat(p.state, "/init.pid");
  p.runtime_log = absl::StrCat(p.state, "/runtime-log.json");
  p.rootfs.writable_dir = absl::StrCat(options_.root_dir, "/", id);
  p.rootfs.mountpoint = absl::StrCat(p.state, "/rootfs");
  p.rootfs.scratch_dir = absl::StrCat(p.state, "/layers");
  return p;
}

absl::Status Manager::Init() {
  RETURN_IF_ERROR(records_.Init());
  // 0711: runc's init, already in the pod's user namespace as a uid with no
  // rights on root's directories, must still reach the rootfs below.
  RETURN_IF_ERROR(sys::MakeDirs(sys_, options_.state_dir, 0711));
  if (sys::SysResult r =
          sys_.Fchmodat(AT_FDCWD, options_.state_dir.c_str(), 0711, 0);
      !r.ok()) {
    return sys::ErrnoError(r.err, "chmod %s", options_.state_dir);
  }
  RETURN_IF_ERROR(relay_.Start());
  RETURN_IF_ERROR(watcher_.Start());
  return Recover();
}

absl::StatusOr<std::shared_ptr<Manager::Container>> Manager::FindOrNotFound(
    absl::string_view id) {
  std::shared_ptr<Container> c = Find(id);
  if (c == nullptr) {
    return absl::NotFoundError(absl::StrCat("container ", id, " not found"));
  }
  return c;
}

std::shared_ptr<Manager::Container> Manager::Find(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto it = containers_.find(id);
  if (it != containers_.end()) return it->second;
  // A unique prefix, as crictl users type ids.
  std::shared_ptr<Container> found;
  for (const auto& [cid, c] : containers_) {
    if (!absl::StartsWith(cid, id) || id.empty()) continue;
    if (found != nullptr) return nullptr;
    found = c;
  }
  return found;
}

absl::StatusOr<const oci::RuntimeHandler*> Manager::ContainerHandler(
    absl::string_view pod_handler) {
  ASSIGN_OR_RETURN(const oci::RuntimeHandler* handler,
                   handlers_.Resolve(pod_handler));
  if (handler->type == oci::RuntimeType::kRunc ||
      handler->type == oci::RuntimeType::kCrun) {
    return handler;
  }
  // A pod whose pause is not an OCI container (the builtin launcher) still
  // runs its containers on an OCI runtime: the first runc, else crun,
  // handler configured. (runsc pods are refused: their containers would
  // have to run inside runsc's own sandbox.)
  if (handler->type == oci::RuntimeType::kBuiltin) {
    for (oci::RuntimeType type :
         {oci::RuntimeType::kRunc, oci::RuntimeType::kCrun}) {
      for (const oci::RuntimeHandler& h : handlers_.handlers()) {
        if (h.type == type) return &h;
      }
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("runtime handler ", handler->name, " (",
                   oci::RuntimeTypeName(handler->type),
                   "): containers run on runc or crun handlers only"));
}

absl::StatusOr<oci::OciRuntime*> Manager::RuntimeFor(
    const oci::RuntimeHandler& handler) {
  absl::MutexLock lock(&mu_);
  auto it = runtimes_.find(handler.name);
  if (it != runtimes_.end()) return it->second.get();
  std::unique_ptr<oci::OciRuntime> runtime =
      options_.make_runtime ? options_.make_runtime(handler)
                            : oci::MakeOciRuntime(sys_, handler);
  if (runtime == nullptr) {
    return absl::InternalError(
        absl::StrCat("runtime handler ", handler.name, ": no driver"));
  }
  oci::OciRuntime* out = runtime.get();
  runtimes_[handler.name] = std::move(runtime);
  return out;
}

absl::Status Manager::Save(Container& c) {
  absl::MutexLock save(&c.save_mu);
  ContainerRecord copy;
  {
    absl::MutexLock lock(&c.mu);
    // An exit reported during Remove or a rollback must not bring the
    // record back.
    if (c.removed) return absl::OkStatus();
    copy = c.record;
  }
  return records_.Save(copy, /*durable=*/false);
}

absl::Status Manager::DeleteRecord(Container& c) {
  absl::MutexLock save(&c.save_mu);
  std::string id;
  {
    absl::MutexLock lock(&c.mu);
    c.removed = true;
    id = c.record.id;
  }
  return records_.Remove(id);
}

absl::Status Manager::Journal(Container& c, Step step) {
  {
    absl::MutexLock lock(&c.mu);
    c.record.steps.push_back(step);
  }
  return Save(c);
}

absl::Status Manager::UndoStep(const ContainerRecord& record, Step step) {
  Paths paths = PathsFor(record.id);
  switch (step) {
    case Step::kTask: {
      relay_.Remove(record.id);
      absl::StatusOr<const oci::RuntimeHandler*> handler =
          handlers_.Resolve(record.runtime_handler);
      if (handler.ok()) {
        ASSIGN_OR_RETURN(oci::OciRuntime * runtime, RuntimeFor(**handler));
        // --force kills what is left in the container's cgroup and removes
        // the cgroup and the runtime's state.
        if (absl::Status s = runtime->Delete(record.id);
            !s.ok() && !absl::IsNotFound(s)) {
          return s;
        }
      }
      // The killed init is reaped by the watcher before it lets go.
      watcher_.WaitForExit(record.id, kKillWait);
      watcher_.Forget(record.id);
      DropKept(record.id);
      return absl::OkStatus();
    }
    case Step::kRootfs:
      RETURN_IF_ERROR(options_.unmount_rootfs
                          ? options_.unmount_rootfs(paths.rootfs)
                          : UnmountRootfs(sys_, paths.rootfs));
      return RemoveWritableLayer(sys_, paths.rootfs);
    case Step::kDirs:
      return sys::RemoveTree(sys_, paths.state);
  }
  return absl::OkStatus();
}

absl::Status Manager::UndoAll(const ContainerRecord& record) {
  absl::Status first;
  for (auto it = record.steps.rbegin(); it != record.steps.rend(); ++it) {
    if (absl::Status s = UndoStep(record, *it); !s.ok()) {
      PSB_LOG(kWarning, "container %s: undo %s failed: %s", record.id,
              StepName(*it), s.ToString());
      if (first.ok()) first = s;
    }
  }
  return first;
}

absl::StatusOr<std::string> Manager::CreateContainer(
    const PodContext& pod, const ContainerConfig& config) {
  // Everything that can refuse the request, before any side effect.
  RETURN_IF_ERROR(ValidateContainerConfig(config, pod));
  ASSIGN_OR_RETURN(const oci::RuntimeHandler* handler,
                   ContainerHandler(pod.runtime_handler));
  ASSIGN_OR_RETURN(oci::OciRuntime * runtime, RuntimeFor(*handler));
  absl::StatusOr<image::ImageRecord> image = images_.Find(config.image);
  if (absl::IsNotFound(image.status())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config.image: no image \"", config.image, "\" on this node"));
  }
  RETURN_IF_ERROR(image.status());
  ASSIGN_OR_RETURN(std::string config_blob, images_.ReadBlob(image->id));
  ASSIGN_OR_RETURN(image::ImageConfig image_config,
                   image::ParseImageConfig(config_blob));
  // Keeps a concurrent RemoveImage from collecting the layers we mount.
  image::Store::Lease lease = store_.HoldDigests(image->layers);
  std::vector<std::string> layers;
  for (const image::Digest& chain_id : image->layers) {
    layers.push_back(store_.LayerPath(chain_id));
  }

  auto c = std::make_shared<Container>();
  std::string id = NewContainerId();
  ContainerRecord r;
  r.id = id;
  r.sandbox_id = pod.sandbox_id;
  r.metadata = config.metadata;
  r.image = config.image;
  r.image_id = image->id.String();
  r.image_ref =
      !image->repo_digests.empty() ? image->repo_digests.front() : r.image_id;
  r.labels = config.labels;
  r.annotations = config.annotations;
  r.mounts = config.mounts;
  if (!pod.log_directory.empty() && !config.log_path.empty()) {
    r.log_path = absl::StrCat(pod.log_directory, "/", config.log_path);
  }
  r.runtime_handler = handler->name;
  r.resources = config.resources;
  r.stop_signal = StopSignalOf(image_config.stop_signal);
  r.created_at = absl::Now();
  {
    absl::MutexLock lock(&c->mu);
    c->record = std::move(r);
  }
  std::string key = NameKey(pod.sandbox_id, config.metadata);
  {
    // The count is checked and the slot taken under the one lock that
    // reserves the name, so two concurrent creates cannot both pass it.
    absl::MutexLock lock(&mu_);
    if (auto it = names_.find(key); it != names_.end()) {
      return absl::AlreadyExistsError(
          absl::StrCat("container name ", config.metadata.name, " attempt ",
                       config.metadata.attempt, " in sandbox ", pod.sandbox_id,
                       " is in use by container ", it->second));
    }
    if (containers_.size() >= options_.max_containers) {
      return absl::ResourceExhaustedError(
          absl::StrCat("create container: the node holds ", containers_.size(),
                       " containers (limits.containers); remove exited ones"));
    }
    names_[key] = id;
    containers_[id] = c;
  }

  absl::Status s;
  {
    absl::MutexLock op(&c->op_mu);
    s = CreateSteps(*c, pod, config, image_config, layers, *runtime);
    if (s.ok()) {
      {
        absl::MutexLock lock(&c->mu);
        // The init may have died already (OnExit marked it exited).
        if (c->record.state == State::kCreating) {
          c->record.state = State::kCreated;
        }
      }
      s = Save(*c);
    }
    if (!s.ok()) {
      ContainerRecord copy;
      {
        absl::MutexLock lock(&c->mu);
        copy = c->record;
      }
      if (absl::Status undo = UndoAll(copy); undo.ok()) {
        if (absl::Status rm = DeleteRecord(*c); !rm.ok()) {
          PSB_LOG(kWarning, "container %s: remove record: %s", id,
                  rm.ToString());
        }
      } else {
        // The record stays (still creating) for the next start's rollback.
        s = sys::Annotate(
            s, absl::StrCat("rollback incomplete (", undo.message(), ")"));
      }
      absl::MutexLock lock(&mu_);
      containers_.erase(id);
      names_.erase(key);
    }
  }
  if (!s.ok()) return s;
  return id;
}

absl::Status Manager::CreateSteps(Container& c, const PodContext& pod,
                                  const ContainerConfig& config,
                                  const image::ImageConfig& image_config,
                                  const std::vector<std::string>& layers,
                                  oci::OciRuntime& runtime) {
  std::string id;
  {
    absl::MutexLock lock(&c.mu);
    id = c.record.id;
  }
  Paths paths = PathsFor(id);

  RETURN_IF_ERROR(Journal(c, Step::kDirs));
  if (sys::SysResult r = sys_.Mkdir(paths.state.c_str(), 0711); !r.ok()) {
    return sys::ErrnoError(r.err, "mkdir %s", paths.state);
  }
  RETURN_IF_ERROR(MakeFifo(sys_, paths.stdout_fifo));
  RETURN_IF_ERROR(MakeFifo(sys_, paths.stderr_fifo));

  RETURN_IF_ERROR(Journal(c, Step::kRootfs));
  RootfsSpec rootfs{layers, pod.user_ns_path, 0, 0};
  if (pod.id_mappings.has_value()) {
    std::optional<uint32_t> uid = userns::ToHostId(pod.id_mappings->uids, 0);
    std::optional<uint32_t> gid = userns::ToHostId(pod.id_mappings->gids, 0);
    if (!uid || !gid) {
      return absl::InvalidArgumentError(
          "pod user namespace: container id 0 is not mapped");
    }
    rootfs.root_uid = *uid;
    rootfs.root_gid = *gid;
    if (pod.user_ns_path.empty()) {
      // The runtime would make the user namespace, after our mount: the
      // layers could not be idmapped through it.
      return absl::FailedPreconditionError(
          "containers of a user-namespaced pod without a pinned user "
          "namespace (host network) are not supported");
    }
  }
  RETURN_IF_ERROR(options_.mount_rootfs
                      ? options_.mount_rootfs(paths.rootfs, rootfs)
                      : MountRootfs(sys_, paths.rootfs, rootfs));

  SpecRequest request{id, &config, &image_config, &pod,
                      paths.rootfs.mountpoint};
  ASSIGN_OR_RETURN(std::string spec, spec_builder_(request));
  json parsed = json::parse(spec, nullptr, false);
  std::string cgroup_path;
  if (!parsed.is_discarded() && parsed.contains("linux") &&
      parsed["linux"].is_object() && parsed["linux"].contains("cgroupsPath") &&
      parsed["linux"]["cgroupsPath"].is_string()) {
    cgroup_path = parsed["linux"]["cgroupsPath"].get<std::string>();
  }
  {
    absl::MutexLock lock(&c.mu);
    c.record.cgroup_path = cgroup_path;
  }

  RETURN_IF_ERROR(Journal(c, Step::kTask));
  RETURN_IF_ERROR(sys::WriteFileAtomically(sys_, paths.config, spec, 0600,
                                           /*durable=*/false));
  std::string log_path;
  {
    absl::MutexLock lock(&c.mu);
    log_path = c.record.log_path;
  }
  // Kept open until the keeper has its copies (Watch).
  ASSIGN_OR_RETURN(sys::UniqueFd out,
                   OpenContainerEnd(sys_, paths.stdout_fifo));
  ASSIGN_OR_RETURN(sys::UniqueFd err,
                   OpenContainerEnd(sys_, paths.stderr_fifo));
  {
    // Relayed before the container can write, so the pipe never fills.
    RETURN_IF_ERROR(
        relay_.Add(id, {paths.stdout_fifo, paths.stderr_fifo, log_path}));
    oci::CreateRequest create;
    create.id = id;
    create.bundle = paths.state;
    create.pid_file = paths.pid_file;
    create.runtime_log_file = paths.runtime_log;
    create.stdout_fd = out.get();
    create.stderr_fd = err.get();
    RETURN_IF_ERROR(runtime.Create(create));
  }
  ASSIGN_OR_RETURN(std::string pid_text, sys::ReadFile(paths.pid_file));
  pid_t pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(pid_text), &pid) ||
      pid <= 0) {
    return absl::InternalError(
        absl::StrCat("runtime create ", id, ": bad pid file: ", pid_text));
  }
  ASSIGN_OR_RETURN(sys::ProcStat stat, sys::ReadProcStat(pid));
  {
    absl::MutexLock lock(&c.mu);
    c.record.pid = pid;
    c.record.pid_start_time = stat.start_time;
  }
  return Watch(id, pid, stat.start_time, /*our_child=*/true, sys::UniqueFd(),
               {out.get(), err.get()});
}

absl::Status Manager::Watch(const std::string& id, pid_t pid,
                            uint64_t start_time, bool our_child,
                            sys::UniqueFd kept_pidfd,
                            const std::vector<int>& fifo_fds) {
  if (our_child && reaper_ != nullptr) reaper_->Claim(pid);
  absl::Cleanup release = [&] {
    if (our_child && reaper_ != nullptr) reaper_->Release(pid);
  };
  sys::UniqueFd fd = std::move(kept_pidfd);
  if (fd.get() < 0) {
    sys::SysResult pidfd = sys_.PidfdOpen(pid, 0);
    if (!pidfd.ok()) {
      if (pidfd.err == ESRCH) {
        return absl::NotFoundError(
            absl::StrCat("container ", id, " init ", pid, " is gone"));
      }
      return sys::ErrnoError(pidfd.err, "pidfd_open %d", pid);
    }
    fd.reset(static_cast<int>(pidfd.value));
    // The pidfd pins the process; its start time says it is still ours,
    // not a later process that got the pid. (A zombie of ours is still
    // ours: the watcher reaps it and reports its status.) A kept pidfd
    // needs no such check: it was opened on our init while it was our
    // child, so it names that process whatever became of its pid.
    absl::StatusOr<sys::ProcStat> stat = sys::ReadProcStat(pid);
    if (!stat.ok() || stat->start_time != start_time) {
      return absl::NotFoundError(
          absl::StrCat("container ", id, " init ", pid, " is gone"));
    }
  }
  if (keeper_ != nullptr && !fifo_fds.empty()) {
    std::vector<int> kept = {fd.get()};
    kept.insert(kept.end(), fifo_fds.begin(), fifo_fds.end());
    if (absl::Status s = keeper_->Hold(id, kept); !s.ok()) {
      PSB_LOG(kWarning,
              "container %s: keeper holds nothing for it (an exit while we "
              "are down will be unknown): %s",
              id, s.ToString());
    }
  }
  RETURN_IF_ERROR(watcher_.Watch(id, pid, std::move(fd), /*notify=*/true));
  std::move(release).Cancel();  // the watcher releases it at the exit
  return absl::OkStatus();
}

bool Manager::OomKilled(const std::string& cgroup_path) {
  if (cgroup_path.empty()) return false;
  return ReadCgroupUsage(options_.cgroupfs, cgroup_path).oom_kills > 0;
}

void Manager::DropKept(absl::string_view id) {
  if (keeper_ == nullptr) return;
  if (absl::Status s = keeper_->Drop(id); !s.ok()) {
    // It holds a pidfd and two FIFOs too many until the next restart
    // drops keys of no live container.
    PSB_LOG(kWarning, "container %s: keeper drop: %s", id, s.ToString());
  }
}

void Manager::QueueDrop(absl::string_view id) {
  if (keeper_ == nullptr) return;
  absl::MutexLock lock(&drops_mu_);
  drops_.emplace_back(id);
}

void Manager::DropQueued() {
  for (;;) {
    std::string id;
    {
      absl::MutexLock lock(&drops_mu_);
      drops_mu_.Await(absl::Condition(this, &Manager::DropsReady));
      if (stop_dropping_) return;
      id = std::move(drops_.front());
      drops_.pop_front();
    }
    DropKept(id);
  }
}

void Manager::OnExit(const oci::ProcessExit& exit) {
  std::shared_ptr<Container> c;
  {
    absl::MutexLock lock(&mu_);
    auto it = containers_.find(exit.id);
    if (it == containers_.end()) return;
    c = it->second;
  }
  // Only once the log is flushed and the exit recorded may the keeper let
  // go of the FIFOs and the pidfd: a crash before that finds them at the
  // restart. Queued, not done here: a hung keeper would stall every exit.
  absl::Cleanup drop = [this, &exit] { QueueDrop(exit.id); };
  // Its last lines are in the log before anyone sees it exited.
  relay_.Flush(exit.id);
  std::string cgroup_path;
  {
    absl::MutexLock lock(&c->mu);
    cgroup_path = c->record.cgroup_path;
  }
  bool oom = OomKilled(cgroup_path);
  {
    absl::MutexLock lock(&c->mu);
    ContainerRecord& r = c->record;
    if (r.state == State::kExited) return;
    r.state = State::kExited;
    r.finished_at = exit.time;
    if (!exit.status_known) {
      r.exit_code = kUnknownExitCode;
      r.reason = "Unknown";
      r.message =
          "the container exited while podsandboxd was restarting and no "
          "keeper held its pidfd: its exit status is lost";
    } else {
      r.exit_code =
          exit.term_signal != 0 ? 128 + exit.term_signal : exit.exit_code;
      r.reason = oom ? "OOMKilled" : r.exit_code == 0 ? "Completed" : "Error";
    }
  }
  if (absl::Status s = Save(*c); !s.ok()) {
    PSB_LOG(kWarning, "container %s: save exit: %s", exit.id, s.ToString());
  }
}

absl::Status Manager::StartContainer(absl::string_view id) {
  ASSIGN_OR_RETURN(std::shared_ptr<Container> c, FindOrNotFound(id));
  absl::MutexLock op(&c->op_mu);
  std::string full_id, handler_name;
  {
    absl::MutexLock lock(&c->mu);
    if (c->removed || c->record.state == State::kCreating) {
      return absl::NotFoundError(absl::StrCat("container ", id, " not found"));
    }
    if (c->record.state != State::kCreated) {
      return absl::FailedPreconditionError(
          absl::StrCat("container ", id, " is ", StateName(c->record.state),
                       ", not created"));
    }
    full_id = c->record.id;
    handler_name = c->record.runtime_handler;
  }
  ASSIGN_OR_RETURN(const oci::RuntimeHandler* handler,
                   handlers_.Resolve(handler_name));
  ASSIGN_OR_RETURN(oci::OciRuntime * runtime, RuntimeFor(*handler));
  absl::Status started = runtime->Start(full_id);
  {
    absl::MutexLock lock(&c->mu);
    if (started.ok()) {
      c->record.started_at = absl::Now();
      if (c->record.state == State::kCreated) {
        c->record.state = State::kRunning;
      }
    } else if (c->record.state != State::kExited) {
      // Unstartable: it will never run; say why, as containerd does.
      c->record.state = State::kExited;
      c->record.finished_at = absl::Now();
      c->record.exit_code = 128;
      c->record.reason = "StartError";
      c->record.message = std::string(started.message());
    }
  }
  RETURN_IF_ERROR(Save(*c));
  return started;
}

absl::Status Manager::Signal(Container& c, int signal) {
  pid_t pid;
  uint64_t start_time;
  {
    absl::MutexLock lock(&c.mu);
    if (c.record.state == State::kExited) return absl::OkStatus();
    pid = c.record.pid;
    start_time = c.record.pid_start_time;
  }
  if (pid <= 0) return absl::OkStatus();
  sys::SysResult pidfd = sys_.PidfdOpen(pid, 0);
  if (!pidfd.ok()) {
    if (pidfd.err == ESRCH) return absl::OkStatus();
    return sys::ErrnoError(pidfd.err, "pidfd_open %d", pid);
  }
  sys::UniqueFd fd(static_cast<int>(pidfd.value));
  absl::StatusOr<sys::ProcStat> stat = sys::ReadProcStat(pid);
  if (!stat.ok() || stat->start_time != start_time) return absl::OkStatus();
  if (sys::SysResult r = sys_.PidfdSendSignal(fd.get(), signal);
      !r.ok() && r.err != ESRCH) {
    return sys::ErrnoError(r.err, "signal %d to container init %d", signal,
                           pid);
  }
  return absl::OkStatus();
}

bool Manager::AwaitExited(Container& c, absl::Duration timeout) {
  absl::MutexLock lock(&c.mu);
  return c.mu.AwaitWithTimeout(
      absl::Condition(
          +[](ContainerRecord* r) { return r->state == State::kExited; },
          &c.record),
      timeout);
}

absl::Status Manager::StopLocked(Container& c, absl::Duration timeout) {
  {
    absl::MutexLock lock(&c.mu);
    State state = c.record.state;
    if (state != State::kRunning && state != State::kCreated) {
      return absl::OkStatus();
    }
  }
  if (timeout > absl::ZeroDuration()) {
    int stop_signal;
    {
      absl::MutexLock lock(&c.mu);
      stop_signal = c.record.stop_signal;
    }
    RETURN_IF_ERROR(Signal(c, stop_signal));
    if (AwaitExited(c, timeout)) return absl::OkStatus();
  }
  RETURN_IF_ERROR(Signal(c, SIGKILL));
  if (!AwaitExited(c, kKillWait)) {
    return absl::DeadlineExceededError(
        "container init did not exit after SIGKILL");
  }
  return absl::OkStatus();
}

absl::Status Manager::StopContainer(absl::string_view id,
                                    absl::Duration timeout) {
  ASSIGN_OR_RETURN(std::shared_ptr<Container> c, FindOrNotFound(id));
  absl::MutexLock op(&c->op_mu);
  return StopLocked(*c, timeout);
}

absl::Status Manager::RemoveLocked(const std::shared_ptr<Container>& c) {
  {
    absl::MutexLock lock(&c->mu);
    if (c->removed) return absl::OkStatus();
  }
  RETURN_IF_ERROR(StopLocked(*c, absl::ZeroDuration()));
  ContainerRecord copy;
  {
    absl::MutexLock lock(&c->mu);
    copy = c->record;
  }
  RETURN_IF_ERROR(UndoAll(copy));
  RETURN_IF_ERROR(DeleteRecord(*c));
  absl::MutexLock lock(&mu_);
  containers_.erase(copy.id);
  names_.erase(NameKey(copy.sandbox_id, copy.metadata));
  return absl::OkStatus();
}

absl::Status Manager::RemoveContainer(absl::string_view id) {
  std::shared_ptr<Container> c = Find(id);
  if (c == nullptr) return absl::OkStatus();
  absl::MutexLock op(&c->op_mu);
  return RemoveLocked(c);
}

absl::StatusOr<ContainerRecord> Manager::ContainerStatus(absl::string_view id) {
  std::shared_ptr<Container> c = Find(id);
  if (c != nullptr) {
    absl::MutexLock lock(&c->mu);
    if (!c->removed && c->record.state != State::kCreating) return c->record;
  }
  return absl::NotFoundError(absl::StrCat("container ", id, " not found"));
}

std::string Manager::SpecJson(absl::string_view id) {
  absl::StatusOr<ContainerRecord> r = ContainerStatus(id);
  if (!r.ok()) return "";
  return sys::ReadFile(PathsFor(r->id).config).value_or("");
}

std::vector<ContainerRecord> Manager::ListContainers(const ListFilter& filter) {
  std::vector<std::shared_ptr<Container>> all;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, c] : containers_) all.push_back(c);
  }
  std::vector<ContainerRecord> out;
  for (const std::shared_ptr<Container>& c : all) {
    absl::MutexLock lock(&c->mu);
    if (!c->removed && Matches(c->record, filter)) out.push_back(c->record);
  }
  std::sort(out.begin(), out.end(),
            [](const ContainerRecord& a, const ContainerRecord& b) {
              return a.created_at < b.created_at;
            });
  return out;
}

absl::Status Manager::UpdateContainerResources(absl::string_view id,
                                               const Resources& resources) {
  ASSIGN_OR_RETURN(std::shared_ptr<Container> c, FindOrNotFound(id));
  absl::MutexLock op(&c->op_mu);
  std::string full_id, handler_name;
  {
    absl::MutexLock lock(&c->mu);
    if (c->record.state != State::kCreated &&
        c->record.state != State::kRunning) {
      return absl::FailedPreconditionError(
          absl::StrCat("container ", id, " is ", StateName(c->record.state)));
    }
    full_id = c->record.id;
    handler_name = c->record.runtime_handler;
  }
  ASSIGN_OR_RETURN(const oci::RuntimeHandler* handler,
                   handlers_.Resolve(handler_name));
  ASSIGN_OR_RETURN(oci::OciRuntime * runtime, RuntimeFor(*handler));
  RETURN_IF_ERROR(runtime->Update(full_id, ResourcesJson(resources)));
  {
    absl::MutexLock lock(&c->mu);
    c->record.resources = resources;
  }
  return Save(*c);
}

absl::Status Manager::ReopenContainerLog(absl::string_view id) {
  ASSIGN_OR_RETURN(std::shared_ptr<Container> c, FindOrNotFound(id));
  std::string full_id;
  {
    absl::MutexLock lock(&c->mu);
    if (c->record.state != State::kRunning) {
      return absl::FailedPreconditionError(
          absl::StrCat("container ", id, " is not running"));
    }
    full_id = c->record.id;
  }
  return relay_.Reopen(full_id);
}

absl::StatusOr<ExecOutcome> Manager::ExecSync(
    absl::string_view id, const std::vector<std::string>& cmd,
    absl::Duration timeout) {
  if (cmd.empty()) {
    return absl::InvalidArgumentError("cmd: must not be empty");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Container> c, FindOrNotFound(id));
  // No op lock: a long exec (a probe) must not hold up Stop.
  std::string full_id, handler_name;
  {
    absl::MutexLock lock(&c->mu);
    if (c->record.state != State::kRunning) {
      return absl::FailedPreconditionError(
          absl::StrCat("container ", id, " is not running"));
    }
    full_id = c->record.id;
    handler_name = c->record.runtime_handler;
  }
  ASSIGN_OR_RETURN(const oci::RuntimeHandler* handler,
                   handlers_.Resolve(handler_name));
  ASSIGN_OR_RETURN(oci::OciRuntime * runtime, RuntimeFor(*handler));
  Paths paths = PathsFor(full_id);
  // The container's own process settings (user, env, cwd, capabilities,
  // seccomp...) with the command swapped in.
  ASSIGN_OR_RETURN(std::string spec_text, sys::ReadFile(paths.config));
  json spec = json::parse(spec_text, nullptr, false);
  if (spec.is_discarded() || !spec.contains("process") ||
      !spec["process"].is_object()) {
    return absl::InternalError(
        absl::StrCat("container ", full_id, ": config.json has no process"));
  }
  json process = spec["process"];
  process["args"] = cmd;
  process["terminal"] = false;
  std::string tag = NewContainerId().substr(0, 16);
  std::string process_file = absl::StrCat(paths.state, "/exec-", tag, ".json");
  std::string log_file = absl::StrCat(paths.state, "/exec-", tag, ".log");
  absl::Cleanup remove = [&] {
    sys::RemoveFileIfExists(sys_, process_file).IgnoreError();  // best effort
    sys::RemoveFileIfExists(sys_, log_file).IgnoreError();
  };
  RETURN_IF_ERROR(sys::WriteFileAtomically(sys_, process_file, process.dump(),
                                           0600, /*durable=*/false));
  oci::ExecRequest exec;
  exec.id = full_id;
  exec.process_file = process_file;
  exec.runtime_log_file = log_file;
  exec.output_limit = kMaxExecOutput;
  exec.timeout = timeout;
  return runtime->Exec(exec);
}

absl::StatusOr<ContainerStats> Manager::Stats(absl::string_view id) {
  absl::StatusOr<ContainerRecord> r = ContainerStatus(id);
  RETURN_IF_ERROR(r.status());
  ContainerStats out;
  out.id = r->id;
  out.sandbox_id = r->sandbox_id;
  out.metadata = r->metadata;
  out.labels = r->labels;
  out.annotations = r->annotations;
  out.timestamp = absl::Now();
  if (!r->cgroup_path.empty()) {
    CgroupUsage usage = ReadCgroupUsage(options_.cgroupfs, r->cgroup_path);
    out.cpu_usage_core_nanos = usage.cpu_usage_core_nanos;
    out.memory_usage_bytes = usage.memory_usage_bytes;
    out.memory_working_set_bytes = usage.memory_working_set_bytes;
    out.memory_rss_bytes = usage.memory_rss_bytes;
    out.page_faults = usage.page_faults;
    out.major_page_faults = usage.major_page_faults;
    out.memory_limit_bytes = usage.memory_limit_bytes;
    out.process_count = usage.process_count;
  }
  Paths paths = PathsFor(r->id);
  out.writable_mountpoint = absl::StrCat(paths.rootfs.writable_dir, "/fs");
  walk_bytes = 0;
  walk_inodes = 0;
  if (::nftw(out.writable_mountpoint.c_str(), CountEntry, 16, FTW_PHYS) == 0) {
    out.writable_used_bytes = walk_bytes;
    out.writable_inodes_used = walk_inodes;
  }
  return out;
}

std::vector<ContainerStats> Manager::ListStats(const ListFilter& filter) {
  std::vector<ContainerStats> out;
  for (const ContainerRecord& r : ListContainers(filter)) {
    if (absl::StatusOr<ContainerStats> s = Stats(r.id); s.ok()) {
      out.push_back(*std::move(s));
    }
  }
  return out;
}

absl::Status Manager::StopPodContainers(absl::string_view sandbox_id,
                                        absl::Duration timeout) {
  ListFilter filter;
  filter.sandbox_id = std::string(sandbox_id);
  absl::Status first;
  for (const ContainerRecord& r : ListContainers(filter)) {
    if (r.sandbox_id != sandbox_id) continue;
    if (absl::Status s = StopContainer(r.id, timeout); !s.ok() && first.ok()) {
      first = s;
    }
  }
  return first;
}

absl::Status Manager::RemovePodContainers(absl::string_view sandbox_id) {
  std::vector<std::shared_ptr<Container>> pods;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, c] : containers_) pods.push_back(c);
  }
  absl::Status first;
  for (const std::shared_ptr<Container>& c : pods) {
    {
      absl::MutexLock lock(&c->mu);
      if (c->record.sandbox_id != sandbox_id) continue;
    }
    absl::MutexLock op(&c->op_mu);
    if (absl::Status s = RemoveLocked(c); !s.ok() && first.ok()) first = s;
  }
  return first;
}

bool Manager::ImageInUse(absl::string_view image_id) {
  std::vector<std::shared_ptr<Container>> all;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, c] : containers_) all.push_back(c);
  }
  for (const std::shared_ptr<Container>& c : all) {
    absl::MutexLock lock(&c->mu);
    if (!c->removed && c->record.image_id == image_id) return true;
  }
  return false;
}

absl::Status Manager::Recover() {
  ASSIGN_OR_RETURN(RecordStore::Loaded loaded, records_.LoadAll());
  for (const std::string& line : loaded.quarantined) {
    PSB_LOG(kWarning, "container record quarantined: %s", line);
  }
  absl::flat_hash_set<std::string> known;
  // Containers re-attached: the keys the keeper may go on holding.
  absl::flat_hash_set<std::string> live_ids;
  for (ContainerRecord& record : loaded.records) {
    if (record.state == State::kCreating) {
      // Cut short by a crash: undo what its journal says may have started.
      if (absl::Status s = UndoAll(record); !s.ok()) {
        PSB_LOG(kWarning, "container %s: rollback at start incomplete: %s",
                record.id, s.ToString());
        known.insert(record.id);  // its record stays for the next start
        continue;
      }
      if (absl::Status s = records_.Remove(record.id); !s.ok()) {
        PSB_LOG(kWarning, "container %s: remove record: %s", record.id,
                s.ToString());
      }
      continue;
    }
    known.insert(record.id);
    auto c = std::make_shared<Container>();
    bool live =
        record.state == State::kCreated || record.state == State::kRunning;
    std::string id = record.id;
    Paths paths = PathsFor(id);
    {
      absl::MutexLock lock(&mu_);
      names_[NameKey(record.sandbox_id, record.metadata)] = id;
      containers_[id] = c;
    }
    {
      absl::MutexLock lock(&c->mu);
      c->record = std::move(record);
    }
    if (!live) continue;
    std::string log_path;
    pid_t pid;
    uint64_t start_time;
    {
      absl::MutexLock lock(&c->mu);
      log_path = c->record.log_path;
      pid = c->record.pid;
      start_time = c->record.pid_start_time;
    }
    // What it wrote while we were down waits in its FIFOs.
    if (absl::Status s =
            relay_.Add(id, {paths.stdout_fifo, paths.stderr_fifo, log_path});
        !s.ok()) {
      PSB_LOG(kWarning, "container %s: relay its output: %s", id, s.ToString());
    }
    live_ids.insert(id);
    // The keeper's copy of its init's pidfd, if it holds one: whether the
    // init still runs or exited while we were down, the watcher gets its
    // real status through it. Its FIFO fds are only kept open there (the
    // relay reopens them by path), so they are closed here.
    sys::UniqueFd kept_pidfd;
    if (keeper_ != nullptr) {
      absl::StatusOr<std::vector<sys::UniqueFd>> kept = keeper_->Take(id);
      if (kept.ok() && !kept->empty()) {
        kept_pidfd = std::move(kept->front());
      } else if (!kept.ok() && !absl::IsNotFound(kept.status())) {
        PSB_LOG(kWarning, "container %s: keeper take: %s", id,
                kept.status().ToString());
      }
    }
    if (absl::Status s = Watch(id, pid, start_time, /*our_child=*/false,
                               std::move(kept_pidfd), {});
        !s.ok()) {
      // Exited while we were down (or the host rebooted).
      oci::ProcessExit exit;
      exit.id = id;
      exit.pid = pid;
      exit.status_known = false;
      exit.time = absl::Now();
      OnExit(exit);
    }
  }
  if (keeper_ != nullptr) {
    // Keys of containers removed, or whose exit was recorded, just before
    // the last daemon died (between its record write and its drop).
    absl::StatusOr<std::vector<std::string>> keys = keeper_->Keys();
    if (!keys.ok()) {
      PSB_LOG(kWarning, "keeper keys: %s", keys.status().ToString());
    }
    for (const std::string& key : keys.value_or(std::vector<std::string>())) {
      if (!live_ids.contains(key)) DropKept(key);
    }
  }
  // Orphans: state dirs and writable layers with no record (a record is
  // written before either is made, and removed after both are gone, so
  // these are leftovers of a failed removal or of an older layout).
  for (const std::string& dir : {options_.state_dir, options_.root_dir}) {
    ASSIGN_OR_RETURN(std::vector<std::string> names, sys::ListDir(dir));
    for (const std::string& name : names) {
      if (!IsId(name) || known.contains(name)) continue;
      ContainerRecord orphan;
      orphan.id = name;
      orphan.steps = {Step::kDirs, Step::kRootfs};
      if (absl::Status s = UndoAll(orphan); !s.ok()) {
        PSB_LOG(kWarning, "orphaned container %s: %s", name, s.ToString());
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace podsandbox::container
