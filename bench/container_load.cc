// container_load: times the container RPCs of a CRI runtime (podsandboxd,
// containerd), the containers part of scripts/bench.
//
//   container_load --endpoint unix:///run/x.sock --image 127.0.0.1:5000/b:v1 \
//                  --iterations 20 [--runtime_handler runc] [--json out.json]
//
// The image (one holding /bin/busybox, e.g. Debian's busybox-static) is
// pulled once, untimed. Then each iteration runs one pod (RunPodSandbox) and
// in it: CreateContainer and StartContainer of `busybox sleep 3600`, timed
// apart and together; ExecSync of `busybox true`; StopContainer (timeout 0)
// and RemoveContainer, timed apart and together; then a pod of three such
// containers, timed from its RunPodSandbox to the third StartContainer's
// return (all running). Every pod is stopped and removed at the end of its
// iteration, untimed. A warm-up iteration (--warmup) is not counted: it
// pays for first-touch costs (page cache of the image's files, the
// runtime's first exec) that the measured ones would share unevenly.
//
// The image is left in place: a later round or load reuses it.
//
// Floors (--runtime_binary, podsandboxd only): after the timed RPCs of an
// iteration, with the container still running, the runtime binary is run
// by hand, as a kubelet-less caller would: `exec --process` with the same
// process.json podsandboxd would write (the container's process, args
// swapped) and `create` + `start` of a copy of the container's bundle
// (its config.json, the same rootfs mount, a cgroup of its own), each
// timed from spawn to exit, stdio on /dev/null. The difference to our RPC
// is what podsandboxd and gRPC add.
//
// Memory (--memory_pods N): after the iterations, N pods are run, then one
// and then a second container is started in each; at each stage (and
// before) the report keeps the daemon's PSS and private dirty memory, the
// processes below the daemon and the shims (--shim_match: a string in a
// shim's command line, e.g. containerd's socket) split into shims, the
// pods' and containers' own (pause, the container's command) and others,
// the shims' PSS and private dirty, the daemon's and shims' pipe and FIFO
// fds, and the host's overlay mounts. make_results.py takes the
// differences.
//
// Exit status: 0, or 1 when any RPC failed (the report counts them).
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/cri_load_lib.h"
#include "cri/api.pb.h"
#include "cri/client/cri_client.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, endpoint, "", "CRI endpoint: unix:///path or /path");
ABSL_FLAG(std::string, label, "", "name of the endpoint in the report");
ABSL_FLAG(std::string, image, "", "an image holding /bin/busybox");
ABSL_FLAG(std::string, runtime_handler, "",
          "RunPodSandbox's runtime handler (\"\": the default)");
ABSL_FLAG(int, iterations, 20, "measured iterations");
ABSL_FLAG(int, warmup, 1, "iterations first, not counted");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(2), "deadline of each RPC");
ABSL_FLAG(std::string, json, "", "write the report as JSON to this file");
ABSL_FLAG(std::string, runtime_binary, "",
          "time this runtime binary by hand beside the RPCs (exec, create + "
          "start): podsandboxd's runc or crun");
ABSL_FLAG(std::string, runtime_root, "",
          "the runtime's --root as podsandboxd runs it (STATE/runtime/NAME)");
ABSL_FLAG(std::string, container_state_dir, "",
          "podsandboxd's containers state directory (STATE/containers): "
          "ID/config.json and ID/rootfs");
ABSL_FLAG(absl::Duration, settle_before_exec, absl::ZeroDuration(),
          "experiment: pause this long between StartContainer and the first "
          "ExecSync (is the first exec's extra the container's start?)");
ABSL_FLAG(bool, floor_before_exec, false,
          "run the runtime by hand before the first ExecSync, not after");
ABSL_FLAG(int, memory_pods, 0,
          "pods (each with two containers) alive at once for the memory "
          "figures; 0: none");
ABSL_FLAG(int, daemon_pid, 0, "the daemon's pid (memory)");
ABSL_FLAG(std::string, shim_match, "",
          "a string in each shim's command line (memory); \"\": no shims");

namespace podsandbox::bench {
namespace {

namespace v1 = ::runtime::v1;

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// The report's series, in the order they are printed.
constexpr const char* kSeries[] = {
    "create",
    "start",
    "create_start",
    "exec_sync",
    "exec_sync_again",
    "stop",
    "remove",
    "stop_remove",
    "pod3_running",
    "runtime_exec",
    "runtime_exec_detach",
    "runtime_create_start",
};

// The container's command (and so how its process is told from others).
const std::vector<std::string>& SleeperArgs() {
  static const auto* args =
      new std::vector<std::string>{"/bin/busybox", "sleep", "3600"};
  return *args;
}

absl::StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

// The runtime binary by hand: posix_spawn, stdio on /dev/null, waitpid (as
// pause_task_bench runs it). False unless it exits 0.
bool RunBinary(const std::vector<std::string>& args) {
  std::vector<std::string> argv = args;
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  for (int fd : {0, 1, 2}) {
    ::posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
  }
  char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env, nullptr};
  pid_t pid;
  int err = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr,
                          cargv.data(), envp);
  ::posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return false;
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

// Until `pid` has exited (or is gone), through a pidfd.
void WaitGone(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return;  // gone already
  struct pollfd p = {fd, POLLIN, 0};
  while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  ::close(fd);
}

// A "Name:   123 kB" line of /proc/PID/smaps_rollup, in KiB; -1 if absent.
int64_t SmapsField(const std::string& text, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, name)) continue;
    std::vector<absl::string_view> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t kib = 0;
    if (!words.empty() && absl::SimpleAtoi(words[0], &kib)) return kib;
  }
  return -1;
}

struct ProcMemory {
  int64_t pss_kib = 0;
  int64_t private_dirty_kib = 0;
};

ProcMemory MemoryOf(pid_t pid) {
  ProcMemory m;
  absl::StatusOr<std::string> text =
      ReadText(absl::StrCat("/proc/", pid, "/smaps_rollup"));
  if (!text.ok()) return m;
  m.pss_kib = std::max<int64_t>(0, SmapsField(*text, "Pss:"));
  m.private_dirty_kib =
      std::max<int64_t>(0, SmapsField(*text, "Private_Dirty:"));
  return m;
}

std::vector<std::string> CmdlineOf(pid_t pid) {
  absl::StatusOr<std::string> text =
      ReadText(absl::StrCat("/proc/", pid, "/cmdline"));
  if (!text.ok()) return {};
  return absl::StrSplit(*text, '\0', absl::SkipEmpty());
}

// Pipe and FIFO fds a process holds: the kernel objects its containers'
// stdio costs (a pipe's buffer pages come and go with unread data).
void CountPipes(pid_t pid, int& pipes, int& fifos) {
  std::error_code ec;
  const std::string dir = absl::StrCat("/proc/", pid, "/fd");
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code link_ec;
    std::string target =
        std::filesystem::read_symlink(e.path(), link_ec).string();
    if (link_ec) continue;
    if (absl::StartsWith(target, "pipe:")) {
      ++pipes;
      continue;
    }
    struct stat st;
    if (::stat(e.path().c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) ++fifos;
  }
}

int CountOverlayMounts() {
  absl::StatusOr<std::string> text = ReadText("/proc/self/mountinfo");
  if (!text.ok()) return -1;
  int n = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (absl::StrContains(line, " - overlay ")) ++n;
  }
  return n;
}

// One look at the host: the daemon, its and the shims' process trees.
nlohmann::json Snapshot(const std::string& stage, pid_t daemon,
                        const std::string& shim_match) {
  std::map<pid_t, pid_t> parent;
  std::set<pid_t> roots = {daemon};
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(e.path().filename().string(), &pid)) continue;
    absl::StatusOr<std::string> stat =
        ReadText(absl::StrCat("/proc/", pid, "/stat"));
    if (!stat.ok()) continue;
    absl::StatusOr<pid_t> ppid = ParsePpid(*stat);
    if (!ppid.ok()) continue;
    parent[pid] = *ppid;
    // Our own command line names the shims' socket too.
    if (!shim_match.empty() && pid != getpid() &&
        absl::StrContains(absl::StrJoin(CmdlineOf(pid), " "), shim_match)) {
      roots.insert(pid);
    }
  }
  // Below a root: walk up from every process (trees here are shallow).
  auto below_root = [&](pid_t pid) {
    for (int depth = 0; depth < 16 && pid > 1; ++depth) {
      if (roots.count(pid)) return true;
      auto it = parent.find(pid);
      if (it == parent.end()) return false;
      pid = it->second;
    }
    return false;
  };
  int shims = 0, own = 0, others = 0, pipes = 0, fifos = 0;
  ProcMemory shim_mem, other_mem;
  std::vector<std::string> other_names;
  for (const auto& [pid, ppid] : parent) {
    if (pid == daemon || !below_root(pid)) continue;
    std::vector<std::string> argv = CmdlineOf(pid);
    const bool pause =
        !argv.empty() && std::filesystem::path(argv[0]).filename() == "pause";
    if (roots.count(pid)) {
      ++shims;
      ProcMemory m = MemoryOf(pid);
      shim_mem.pss_kib += m.pss_kib;
      shim_mem.private_dirty_kib += m.private_dirty_kib;
      CountPipes(pid, pipes, fifos);
    } else if (pause || argv == SleeperArgs()) {
      ++own;
    } else {
      ++others;
      ProcMemory m = MemoryOf(pid);
      other_mem.pss_kib += m.pss_kib;
      other_mem.private_dirty_kib += m.private_dirty_kib;
      if (other_names.size() < 8) {
        other_names.push_back(argv.empty() ? "?" : argv[0]);
      }
    }
  }
  CountPipes(daemon, pipes, fifos);
  ProcMemory d = MemoryOf(daemon);
  return {{"stage", stage},
          {"daemon_pss_kib", d.pss_kib},
          {"daemon_private_dirty_kib", d.private_dirty_kib},
          {"shims", shims},
          {"shims_pss_kib", shim_mem.pss_kib},
          {"shims_private_dirty_kib", shim_mem.private_dirty_kib},
          {"own_processes", own},
          {"other_processes", others},
          {"other_pss_kib", other_mem.pss_kib},
          {"other_private_dirty_kib", other_mem.private_dirty_kib},
          {"other_commands", other_names},
          {"pipe_fds", pipes},
          {"fifo_fds", fifos},
          {"overlay_mounts", CountOverlayMounts()}};
}

// The runtime binary run by hand beside podsandboxd (--runtime_binary).
struct Floor {
  std::string binary;
  std::string root;       // its --root, podsandboxd's
  std::string state_dir;  // podsandboxd's STATE/containers
  std::string work_dir;   // our own files (bundle copy, process.json)
};

class Load {
 public:
  Load(cri::client::CriClient& client, std::string image, std::string handler,
       std::optional<Floor> floor)
      : client_(client),
        image_(std::move(image)),
        handler_(std::move(handler)),
        floor_(std::move(floor)) {}

  // One iteration; samples are kept only when `record`.
  void Iteration(int n, bool record) {
    const std::string tag = absl::StrCat(getpid(), "-", n);
    // One container's life in its own pod.
    {
      v1::PodSandboxConfig pod = PodConfig(absl::StrCat("ctr-", tag));
      absl::StatusOr<std::string> pod_id = client_.RunPodSandbox(pod, handler_);
      Note(pod_id.status(), "RunPodSandbox");
      if (pod_id.ok()) {
        OneContainer(*pod_id, pod, record);
        RemovePod(*pod_id);
      }
    }
    // Three containers: RunPodSandbox to all running, as a kubelet would.
    {
      v1::PodSandboxConfig pod = PodConfig(absl::StrCat("pod3-", tag));
      const absl::Time start = absl::Now();
      absl::StatusOr<std::string> pod_id = client_.RunPodSandbox(pod, handler_);
      Note(pod_id.status(), "RunPodSandbox (3 containers)");
      if (!pod_id.ok()) return;
      bool ok = true;
      for (int i = 0; i < 3 && ok; ++i) {
        absl::StatusOr<std::string> id = client_.CreateContainer(
            *pod_id, ContainerConfig(absl::StrCat("c", i)), pod);
        ok = Note(id.status(), "CreateContainer (3 containers)") &&
             Note(client_.StartContainer(*id), "StartContainer (3 containers)");
      }
      const absl::Duration took = absl::Now() - start;
      if (ok && record) samples_["pod3_running"].push_back(took);
      RemovePod(*pod_id);
    }
  }

  // The memory stages (see the top): N pods, one container in each, a
  // second in each; everything removed again at the end.
  nlohmann::json Memory(int pods, pid_t daemon, const std::string& shim_match) {
    nlohmann::json stages = nlohmann::json::array();
    stages.push_back(Snapshot("before", daemon, shim_match));
    std::vector<std::pair<std::string, v1::PodSandboxConfig>> ids;
    for (int i = 0; i < pods; ++i) {
      v1::PodSandboxConfig pod =
          PodConfig(absl::StrCat("mem-", getpid(), "-", i));
      absl::StatusOr<std::string> id = client_.RunPodSandbox(pod, handler_);
      if (Note(id.status(), "RunPodSandbox (memory)")) {
        ids.emplace_back(*id, pod);
      }
    }
    stages.push_back(Snapshot("pods", daemon, shim_match));
    for (int round = 1; round <= 2; ++round) {
      for (const auto& [id, pod] : ids) {
        absl::StatusOr<std::string> c = client_.CreateContainer(
            id, ContainerConfig(absl::StrCat("m", round)), pod);
        if (Note(c.status(), "CreateContainer (memory)")) {
          Note(client_.StartContainer(*c), "StartContainer (memory)");
        }
      }
      stages.push_back(
          Snapshot(absl::StrCat("containers", round), daemon, shim_match));
    }
    for (const auto& [id, pod] : ids) RemovePod(id);
    return {{"pods", static_cast<int>(ids.size())},
            {"containers_per_pod", 2},
            {"stages", stages}};
  }

  int errors() const { return errors_; }
  const std::string& first_error() const { return first_error_; }
  const std::map<std::string, std::vector<absl::Duration>>& samples() const {
    return samples_;
  }

 private:
  void OneContainer(const std::string& pod_id, const v1::PodSandboxConfig& pod,
                    bool record) {
    absl::Time t0 = absl::Now();
    absl::StatusOr<std::string> id =
        client_.CreateContainer(pod_id, ContainerConfig("sleeper"), pod);
    absl::Time t1 = absl::Now();
    if (!Note(id.status(), "CreateContainer")) return;
    absl::Status started = client_.StartContainer(*id);
    absl::Time t2 = absl::Now();
    if (Note(started, "StartContainer") && record) {
      samples_["create"].push_back(t1 - t0);
      samples_["start"].push_back(t2 - t1);
      samples_["create_start"].push_back(t2 - t0);
    }
    if (started.ok()) {
      absl::SleepFor(absl::GetFlag(FLAGS_settle_before_exec));
      // --floor_before_exec: the by-hand execs first (to see what being the
      // container's first exec costs either side).
      if (floor_ && absl::GetFlag(FLAGS_floor_before_exec)) {
        ExecByHand(*id, record);
      }
      TimedExec(*id, "exec_sync", record);
      if (floor_ && !absl::GetFlag(FLAGS_floor_before_exec)) {
        ExecByHand(*id, record);
      }
      // Again, in a container that has run an exec (and, on podsandboxd's
      // sides, the runtime's by hand) already: the by-hand figures are not
      // first execs either.
      TimedExec(*id, "exec_sync_again", record);
      if (floor_) CreateStartByHand(*id, record);
    }
    t0 = absl::Now();
    absl::Status stopped = client_.StopContainer(*id, absl::ZeroDuration());
    t1 = absl::Now();
    absl::Status removed = client_.RemoveContainer(*id);
    t2 = absl::Now();
    const bool stop_ok = Note(stopped, "StopContainer");
    const bool remove_ok = Note(removed, "RemoveContainer");
    if (stop_ok && remove_ok && record) {
      samples_["stop"].push_back(t1 - t0);
      samples_["remove"].push_back(t2 - t1);
      samples_["stop_remove"].push_back(t2 - t0);
    }
  }

  // ExecSync of `busybox true`, timed into `series`.
  void TimedExec(const std::string& id, const char* series, bool record) {
    const absl::Time t0 = absl::Now();
    absl::StatusOr<v1::ExecSyncResponse> exec =
        client_.ExecSync(id, {"/bin/busybox", "true"}, absl::Seconds(30));
    const absl::Time t1 = absl::Now();
    absl::Status exec_status = exec.status();
    if (exec.ok() && exec->exit_code() != 0) {
      exec_status =
          absl::InternalError(absl::StrCat("exit code ", exec->exit_code()));
    }
    if (Note(exec_status, "ExecSync") && record) {
      samples_[series].push_back(t1 - t0);
    }
  }

  // The floors: the runtime's own exec and create + start of this running
  // container, by hand (see the top).
  void ExecByHand(const std::string& id, bool record) {
    const Floor& f = *floor_;
    const std::string state = absl::StrCat(f.state_dir, "/", id);
    absl::StatusOr<std::string> text = ReadText(state + "/config.json");
    if (!Note(text.status(), "runtime by hand: config.json")) return;
    nlohmann::json spec = nlohmann::json::parse(*text, nullptr, false);
    if (spec.is_discarded() || !spec.contains("process")) {
      Note(absl::InternalError("not a spec"), "runtime by hand: config.json");
      return;
    }
    // exec: the process.json podsandboxd's ExecSync writes, with its flags.
    nlohmann::json process = spec["process"];
    process["args"] = {"/bin/busybox", "true"};
    process["terminal"] = false;
    const std::string process_file = f.work_dir + "/exec.json";
    const std::string log = f.work_dir + "/exec.log";
    if (!WriteText(process_file, process.dump())) {
      Note(absl::InternalError(process_file), "runtime by hand: write");
      return;
    }
    absl::Time t0 = absl::Now();
    bool ok = RunBinary({f.binary, "--root", f.root, "--log", log,
                         "--log-format", "json", "exec", "--process",
                         process_file, "--pid-file", log + ".pid", id});
    absl::Time t1 = absl::Now();
    if (Note(ok ? absl::OkStatus() : absl::InternalError("failed"),
             "runtime exec by hand") &&
        record) {
      samples_["runtime_exec"].push_back(t1 - t0);
    }
    // exec --detach, as containerd's shim and podsandboxd run it, until the
    // process is gone (a pidfd: we are not its parent; one already reaped
    // is gone too).
    t0 = absl::Now();
    ok = RunBinary({f.binary, "--root", f.root, "--log", log, "--log-format",
                    "json", "exec", "--detach", "--process", process_file,
                    "--pid-file", log + ".pid", id});
    if (ok) {
      absl::StatusOr<std::string> pid_text = ReadText(log + ".pid");
      pid_t pid = 0;
      ok = pid_text.ok() && absl::SimpleAtoi(*pid_text, &pid) && pid > 0;
      if (ok) WaitGone(pid);
    }
    t1 = absl::Now();
    if (Note(ok ? absl::OkStatus() : absl::InternalError("failed"),
             "runtime exec --detach by hand") &&
        record) {
      samples_["runtime_exec_detach"].push_back(t1 - t0);
    }
  }

  // create + start by hand: a copy of the container's bundle on the same
  // rootfs mount, in a cgroup of its own beside the container's. Last
  // before StopContainer: an exec into the container right after it was
  // seen ~7 ms slower (runc 1.1), whoever ran it.
  void CreateStartByHand(const std::string& id, bool record) {
    const Floor& f = *floor_;
    const std::string state = absl::StrCat(f.state_dir, "/", id);
    absl::StatusOr<std::string> text = ReadText(state + "/config.json");
    if (!Note(text.status(), "runtime by hand: config.json")) return;
    nlohmann::json spec = nlohmann::json::parse(*text, nullptr, false);
    if (spec.is_discarded() || !spec.contains("linux")) {
      Note(absl::InternalError("not a spec"), "runtime by hand: config.json");
      return;
    }
    absl::Time t0, t1;
    bool ok;
    const std::string copy_id = id.substr(0, 24) + "-byhand";
    const std::string bundle = f.work_dir + "/bundle";
    std::error_code ec;
    std::filesystem::create_directories(bundle, ec);
    spec["root"]["path"] = state + "/rootfs";
    if (spec["linux"].contains("cgroupsPath")) {
      spec["linux"]["cgroupsPath"] =
          spec["linux"]["cgroupsPath"].get<std::string>() + "-byhand";
    }
    if (!WriteText(bundle + "/config.json", spec.dump())) {
      Note(absl::InternalError(bundle), "runtime by hand: write");
      return;
    }
    t0 = absl::Now();
    ok = RunBinary({f.binary, "--root", f.root, "create", "--bundle", bundle,
                    "--pid-file", bundle + "/pid", copy_id}) &&
         RunBinary({f.binary, "--root", f.root, "start", copy_id});
    t1 = absl::Now();
    if (Note(ok ? absl::OkStatus() : absl::InternalError("failed"),
             "runtime create + start by hand") &&
        record) {
      samples_["runtime_create_start"].push_back(t1 - t0);
    }
    RunBinary({f.binary, "--root", f.root, "delete", "--force", copy_id});
  }

  // Stops and removes the pod and whatever containers it still has.
  void RemovePod(const std::string& pod_id) {
    Note(client_.StopPodSandbox(pod_id), "StopPodSandbox");
    Note(client_.RemovePodSandbox(pod_id), "RemovePodSandbox");
  }

  v1::PodSandboxConfig PodConfig(const std::string& name) const {
    v1::PodSandboxConfig pod;
    pod.mutable_metadata()->set_name(name);
    pod.mutable_metadata()->set_uid(absl::StrCat("uid-", name));
    pod.mutable_metadata()->set_namespace_("container-load");
    return pod;
  }

  v1::ContainerConfig ContainerConfig(const std::string& name) const {
    v1::ContainerConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_image()->set_image(image_);
    c.add_command(SleeperArgs()[0]);
    for (size_t i = 1; i < SleeperArgs().size(); ++i) {
      c.add_args(SleeperArgs()[i]);
    }
    return c;
  }

  // True when `s` is OK; otherwise counts and logs it.
  bool Note(const absl::Status& s, const char* what) {
    if (s.ok()) return true;
    ++errors_;
    if (first_error_.empty())
      first_error_ = absl::StrCat(what, ": ", s.ToString());
    fprintf(stderr, "container_load: %s: %s\n", what, s.ToString().c_str());
    return false;
  }

  cri::client::CriClient& client_;
  const std::string image_;
  const std::string handler_;
  const std::optional<Floor> floor_;
  std::map<std::string, std::vector<absl::Duration>> samples_;
  int errors_ = 0;
  std::string first_error_;
};

nlohmann::json SummaryJson(const LatencySummary& s) {
  return {{"count", s.count}, {"p50", Ms(s.p50)}, {"p95", Ms(s.p95)},
          {"p99", Ms(s.p99)}, {"max", Ms(s.max)}, {"mean", Ms(s.mean)}};
}

int Main() {
  const std::string endpoint = absl::GetFlag(FLAGS_endpoint);
  const std::string image = absl::GetFlag(FLAGS_image);
  const int iterations = absl::GetFlag(FLAGS_iterations);
  if (endpoint.empty() || image.empty() || iterations < 1) {
    fprintf(stderr,
            "container_load: --endpoint, --image and --iterations >= 1\n");
    return 2;
  }
  cri::client::CriClient client(endpoint, absl::GetFlag(FLAGS_timeout));
  v1::ImageSpec spec;
  spec.set_image(image);
  if (absl::StatusOr<std::string> ref = client.PullImage(spec, {}); !ref.ok()) {
    fprintf(stderr, "container_load: PullImage %s: %s\n", image.c_str(),
            ref.status().ToString().c_str());
    return 1;
  }

  std::optional<Floor> floor;
  if (std::string binary = absl::GetFlag(FLAGS_runtime_binary);
      !binary.empty()) {
    char dir_template[] = "/tmp/container-load.XXXXXX";
    if (::mkdtemp(dir_template) == nullptr ||
        absl::GetFlag(FLAGS_runtime_root).empty() ||
        absl::GetFlag(FLAGS_container_state_dir).empty()) {
      fprintf(stderr,
              "container_load: --runtime_binary needs --runtime_root, "
              "--container_state_dir and a temp dir\n");
      return 2;
    }
    floor = Floor{binary, absl::GetFlag(FLAGS_runtime_root),
                  absl::GetFlag(FLAGS_container_state_dir), dir_template};
  }
  const int memory_pods = absl::GetFlag(FLAGS_memory_pods);
  if (memory_pods > 0 && absl::GetFlag(FLAGS_daemon_pid) <= 0) {
    fprintf(stderr, "container_load: --memory_pods needs --daemon_pid\n");
    return 2;
  }
  Load load(client, image, absl::GetFlag(FLAGS_runtime_handler), floor);
  const int warmup = absl::GetFlag(FLAGS_warmup);
  for (int i = 0; i < warmup + iterations; ++i) {
    load.Iteration(i, /*record=*/i >= warmup);
  }
  nlohmann::json memory = nullptr;
  if (memory_pods > 0) {
    memory = load.Memory(memory_pods, absl::GetFlag(FLAGS_daemon_pid),
                         absl::GetFlag(FLAGS_shim_match));
  }
  if (floor) {
    std::error_code ec;
    std::filesystem::remove_all(floor->work_dir, ec);
  }

  nlohmann::json summary = nlohmann::json::object();
  nlohmann::json samples = nlohmann::json::object();
  printf("%-12s", absl::GetFlag(FLAGS_label).c_str());
  for (const char* series : kSeries) {
    auto it = load.samples().find(series);
    const std::vector<absl::Duration> empty;
    const std::vector<absl::Duration>& got =
        it == load.samples().end() ? empty : it->second;
    const LatencySummary s = Summarize(got);
    summary[series] = SummaryJson(s);
    nlohmann::json list = nlohmann::json::array();
    for (absl::Duration d : got) list.push_back(Ms(d));
    samples[series] = list;
    printf(" %s p50 %.1f ms;", series, Ms(s.p50));
  }
  printf(" %d errors\n", load.errors());

  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    nlohmann::json report = {
        {"label", absl::GetFlag(FLAGS_label)},
        {"endpoint", endpoint},
        {"image", image},
        {"runtime_handler", absl::GetFlag(FLAGS_runtime_handler)},
        {"runtime_binary", absl::GetFlag(FLAGS_runtime_binary)},
        {"memory", memory},
        {"iterations", iterations},
        {"warmup", warmup},
        {"summary_ms", summary},
        {"samples_ms", samples},
        {"errors", load.errors()},
        {"first_error", load.first_error()},
    };
    std::ofstream out(path);
    out << report.dump(2) << "\n";
    if (!out) {
      fprintf(stderr, "container_load: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return load.errors() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace podsandbox::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Times container create/start/exec/stop/remove against a CRI "
      "endpoint.");
  absl::ParseCommandLine(argc, argv);
  return podsandbox::bench::Main();
}
