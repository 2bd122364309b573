// container::Manager with real runc, a real image store holding a busybox
// image built by image/testing's builder, and a user-namespaced "pod" (a
// user namespace owning a network namespace, held by a child process, as the
// sandbox's pins would be). The spec here is a minimal one written by the
// test (container/spec.h's is tested on its own and end to end in cri/).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "container/manager.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/digest.h"
#include "image/image_record.h"
#include "image/images.h"
#include "image/manifest.h"
#include "image/store.h"
#include "image/testing/image_builder.h"
#include "image/unpack.h"
#include "nlohmann/json.hpp"
#include "oci/runtime_handler.h"
#include "sys/cgroup_layout.h"
#include "sys/file.h"
#include "sys/orphan_reaper.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "sys/unique_fd.h"

namespace podsandbox::container {
namespace {

using ::podsandbox::image::testing::Compression;
using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using json = nlohmann::json;

constexpr uid_t kHostBase = 300000;
constexpr char kCgroupParent[] = "/psb-ctest";
constexpr char kImage[] = "docker.io/library/busybox:latest";

// A pod's namespaces: a child that unshared a user namespace and, inside
// it, a network namespace (so the netns is the userns's), waiting until
// the object goes away.
class PodNamespaces {
 public:
  PodNamespaces() { Start(); }
  ~PodNamespaces() {
    done_.reset();
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }

  std::string Path(const char* type) const {
    return absl::StrCat("/proc/", pid_, "/ns/", type);
  }

 private:
  void Start() {
    int ready[2], done[2];
    if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(done, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2";
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(done[1]);
      char c = ::unshare(CLONE_NEWUSER) == 0 ? 'k' : 'e';
      (void)!::write(ready[1], &c, 1);
      (void)!::read(done[0], &c, 1);  // maps written
      c = ::unshare(CLONE_NEWNET) == 0 ? 'k' : 'e';
      (void)!::write(ready[1], &c, 1);
      (void)!::read(done[0], &c, 1);  // until the parent closes it
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(done[0]);
    done_.reset(done[1]);
    sys::UniqueFd ready_read(ready[0]);
    char c = 0;
    ASSERT_EQ(::read(ready_read.get(), &c, 1), 1);
    ASSERT_EQ(c, 'k');
    std::string map = absl::StrCat("0 ", kHostBase, " 65536");
    for (const char* file : {"uid_map", "gid_map"}) {
      sys::UniqueFd fd(::open(absl::StrCat("/proc/", pid_, "/", file).c_str(),
                              O_WRONLY | O_CLOEXEC));
      ASSERT_EQ(::write(fd.get(), map.data(), map.size()),
                static_cast<ssize_t>(map.size()));
    }
    ASSERT_EQ(::write(done_.get(), "g", 1), 1);
    ASSERT_EQ(::read(ready_read.get(), &c, 1), 1);
    ASSERT_EQ(c, 'k');
  }

  pid_t pid_ = -1;
  sys::UniqueFd done_;
};

// The minimal config.json runc needs for `args` in the pod's namespaces.
std::string TestSpec(const SpecRequest& r) {
  std::vector<std::string> args = r.config->command;
  args.insert(args.end(), r.config->args.begin(), r.config->args.end());
  json caps = {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"};
  json spec = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"user", {{"uid", 0}, {"gid", 0}}},
        {"args", args},
        {"env", {"PATH=/bin"}},
        {"cwd", "/"},
        {"noNewPrivileges", true},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}}}},
      {"root", {{"path", r.rootfs}}},
      {"hostname", "c"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "mode=755", "size=1m"}}},
        // sysfs of the pod's netns: only its owner's root may mount it.
        {{"destination", "/sys"},
         {"type", "sysfs"},
         {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
      {"linux",
       {{"namespaces",
         {{{"type", "user"}, {"path", r.pod->user_ns_path}},
          {{"type", "network"}, {"path", r.pod->net_ns_path}},
          {{"type", "pid"}},
          {{"type", "ipc"}},
          {{"type", "uts"}},
          {{"type", "mount"}}}},
        {"uidMappings",
         {{{"containerID", 0}, {"hostID", kHostBase}, {"size", 65536}}}},
        {"gidMappings",
         {{{"containerID", 0}, {"hostID", kHostBase}, {"size", 65536}}}},
        {"cgroupsPath",
         absl::StrCat(r.pod->cgroup_parent, "/", r.container_id)}}},
  };
  return spec.dump();
}

class ManagerTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    WatchDirectory(tmp_.Sub("runtime"));
    WatchDirectory(tmp_.Sub("state"));
    WatchDirectory(tmp_.Sub("containers"));
    WatchCgroup(kCgroupParent);
    LeakCheckedTest::SetUp();
    ASSERT_THAT(reaper_.Start(), IsOk());
    ASSERT_THAT(store_.Init(), IsOk());
    StoreBusybox();
    oci::RuntimeHandler runc;
    runc.name = "runc";
    runc.type = oci::RuntimeType::kRunc;
    runc.path = "/usr/sbin/runc";
    runc.root = tmp_.Sub("runtime/runc");
    oci::RuntimeHandler crun;
    crun.name = "crun";
    crun.type = oci::RuntimeType::kCrun;
    crun.path = "/usr/bin/crun";
    crun.root = tmp_.Sub("runtime/crun");
    ASSERT_OK_AND_ASSIGN(oci::HandlerRegistry handlers,
                         oci::HandlerRegistry::Create({runc, crun}, "runc"));
    handlers_ = std::make_unique<oci::HandlerRegistry>(std::move(handlers));
    pod_.sandbox_id = std::string(64, 'f');
    pod_.user_ns_path = ns_.Path("user");
    pod_.net_ns_path = ns_.Path("net");
    pod_.id_mappings =
        userns::IdMappings{{{0, kHostBase, 65536}}, {{0, kHostBase, 65536}}};
    pod_.cgroup_parent = kCgroupParent;
    pod_.log_directory = tmp_.Sub("logs");
    ASSERT_EQ(::mkdir(pod_.log_directory.c_str(), 0755), 0);
  }

  void CleanUpTestFixtures() override {
    if (absl::StatusOr<std::vector<std::string>> dirs =
            sys::HostCgroupDirectories(kCgroupParent);
        dirs.ok()) {
      for (const std::string& d : *dirs) ::rmdir(d.c_str());
    }
  }

  std::string FindLeftovers() override {
    std::string out;
    for (const char* dir : {"state", "containers"}) {
      absl::StatusOr<std::vector<std::string>> names =
          sys::ListDir(tmp_.Sub(dir));
      for (const std::string& name :
           names.value_or(std::vector<std::string>{})) {
        absl::StrAppend(&out, dir, "/", name, "\n");
      }
    }
    return out;
  }

  void StoreBusybox() {
    ASSERT_OK_AND_ASSIGN(std::vector<image::testing::TarEntry> entries,
                         image::testing::BusyboxEntries());
    ASSERT_OK_AND_ASSIGN(
        image::testing::BuiltLayer layer,
        image::testing::MakeLayer(entries, Compression::kGzip));
    image::testing::BuiltImage built = image::testing::MakeImage({layer});
    // STOPSIGNAL SIGUSR1, as a Dockerfile writes it.
    json config = json::parse(built.config, nullptr, false);
    ASSERT_TRUE(config.is_object());
    config["config"]["StopSignal"] = "SIGUSR1";
    built.config = config.dump();
    built.config_digest = image::Sha256Of(built.config);
    image::Digest chain = image::ChainIds({layer.diff_id}).back();
    ASSERT_THAT(store_.CommitLayer(
                    chain,
                    [&](int dir_fd) -> absl::Status {
                      size_t at = 0;
                      image::ByteSource source =
                          [&](char* buf,
                              size_t size) -> absl::StatusOr<size_t> {
                        size_t n = std::min(size, layer.blob.size() - at);
                        memcpy(buf, layer.blob.data() + at, n);
                        at += n;
                        return n;
                      };
                      return image::UnpackLayer(real_, dir_fd, source).status();
                    }),
                IsOk());
    ASSERT_THAT(store_.PutBlob(built.config_digest, built.config), IsOk());
    ASSERT_THAT(store_.PutBlob(built.manifest_digest, built.manifest), IsOk());
    image::ImageRecord record;
    record.id = built.config_digest;
    record.repo_tags = {kImage};
    record.layers = {chain};
    record.blobs = {built.config_digest, built.manifest_digest};
    ASSERT_THAT(store_.PutImage(record), IsOk());
    image_id_ = built.config_digest.String();
  }

  std::unique_ptr<Manager> MakeManager(sys::Sys& sys,
                                       SpecBuilder builder = TestSpec) {
    ManagerOptions options;
    options.root_dir = tmp_.Sub("containers");
    options.state_dir = tmp_.Sub("state");
    return std::make_unique<Manager>(sys, options, *handlers_, store_, images_,
                                     std::move(builder), &reaper_);
  }

  ContainerConfig Config(const std::string& name,
                         std::vector<std::string> args) {
    ContainerConfig config;
    config.metadata = {name, 0};
    config.image = kImage;
    config.command = {"/bin/sh", "-c"};
    config.args = std::move(args);
    config.log_path = absl::StrCat(name, ".log");
    config.labels = {{"name", name}};
    return config;
  }

  State WaitForState(Manager& m, const std::string& id, State want) {
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    State state = State::kUnknown;
    while (absl::Now() < deadline) {
      absl::StatusOr<ContainerRecord> r = m.ContainerStatus(id);
      if (r.ok()) state = r->state;
      if (state == want) return state;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return state;
  }

  // The log's lines without their timestamps.
  std::vector<std::string> LogLines(const std::string& name) {
    std::vector<std::string> out;
    absl::StatusOr<std::string> text =
        sys::ReadFile(absl::StrCat(pod_.log_directory, "/", name, ".log"));
    for (absl::string_view line :
         absl::StrSplit(text.value_or(""), '\n', absl::SkipEmpty())) {
      out.push_back(std::string(line.substr(line.find(' ') + 1)));
    }
    return out;
  }

  sys::RealSys real_;
  sys::OrphanReaper reaper_{real_};
  // Under /tmp: the pod's root must reach the rootfs ($TEST_TMPDIR is
  // under /root, 0700).
  sys::TempDir tmp_{"/tmp"};
  image::Store store_{real_, tmp_.Sub("images")};
  image::Images images_{store_};
  std::string image_id_;
  std::unique_ptr<oci::HandlerRegistry> handlers_;
  PodNamespaces ns_;
  PodContext pod_;
};

TEST_F(ManagerTest, UserNamespacedContainerRunsLogsAndExits) {
  std::unique_ptr<Manager> m = MakeManager(real_);
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(
      std::string id,
      m->CreateContainer(
          pod_, Config("c1", {"echo out; echo err >&2; cat /proc/self/uid_map;"
                              "busybox stat -c %u:%g /bin/busybox /;"
                              "cat /sys/class/net/lo/ifindex; exit 3"})));
  ASSERT_OK_AND_ASSIGN(ContainerRecord created, m->ContainerStatus(id));
  EXPECT_EQ(created.state, State::kCreated);
  EXPECT_EQ(created.image_id, image_id_);
  EXPECT_TRUE(m->ImageInUse(image_id_));
  EXPECT_THAT(m->ListContainers({}), SizeIs(1));
  ASSERT_THAT(m->StartContainer(id), IsOk());
  EXPECT_THAT(m->StartContainer(id),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_EQ(WaitForState(*m, id, State::kExited), State::kExited);
  ASSERT_OK_AND_ASSIGN(ContainerRecord exited, m->ContainerStatus(id));
  EXPECT_EQ(exited.exit_code, 3);
  EXPECT_EQ(exited.reason, "Error");
  EXPECT_GE(exited.finished_at, exited.started_at);
  std::vector<std::string> lines = LogLines("c1");
  EXPECT_THAT(lines, Contains("stdout F out"));
  EXPECT_THAT(lines, Contains("stderr F err"));
  // Root inside is kHostBase outside; the image's files are its own.
  EXPECT_THAT(lines, Contains(absl::StrCat("stdout F          0     ",
                                           kHostBase, "      65536")));
  EXPECT_THAT(lines, Contains("stdout F 0:0"));
  EXPECT_THAT(lines, Contains("stdout F 1")) << "sysfs of the pod's netns";

  ListFilter exited_only;
  exited_only.state = State::kExited;
  EXPECT_THAT(m->ListContainers(exited_only), SizeIs(1));
  exited_only.label_selector = {{"name", "other"}};
  EXPECT_THAT(m->ListContainers(exited_only), SizeIs(0));

  ASSERT_THAT(m->RemoveContainer(id), IsOk());
  ASSERT_THAT(m->RemoveContainer(id), IsOk());
  EXPECT_THAT(m->ContainerStatus(id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(m->ImageInUse(image_id_));
}

// The same life on crun: it joins the pod's namespaces by path too.
TEST_F(ManagerTest, UserNamespacedContainerOnCrun) {
  pod_.runtime_handler = "crun";
  std::unique_ptr<Manager> m = MakeManager(real_);
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(
      std::string id,
      m->CreateContainer(pod_,
                         Config("crun1", {"cat /proc/self/uid_map;"
                                          "busybox stat -c %u /bin/busybox;"
                                          "exit 7"})));
  ASSERT_OK_AND_ASSIGN(ContainerRecord created, m->ContainerStatus(id));
  EXPECT_EQ(created.runtime_handler, "crun");
  ASSERT_THAT(m->StartContainer(id), IsOk());
  ASSERT_EQ(WaitForState(*m, id, State::kExited), State::kExited);
  ASSERT_OK_AND_ASSIGN(ContainerRecord exited, m->ContainerStatus(id));
  EXPECT_EQ(exited.exit_code, 7);
  std::vector<std::string> lines = LogLines("crun1");
  EXPECT_THAT(lines, Contains(absl::StrCat("stdout F          0     ",
                                           kHostBase, "      65536")));
  EXPECT_THAT(lines, Contains("stdout F 0"));
  ASSERT_THAT(m->RemoveContainer(id), IsOk());
}

TEST_F(ManagerTest, StopExecStatsAndUpdate) {
  std::unique_ptr<Manager> m = MakeManager(real_);
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string id,
                       m->CreateContainer(pod_, Config("c2", {"sleep 1000"})));
  ASSERT_THAT(m->StartContainer(id), IsOk());
  ASSERT_OK_AND_ASSIGN(
      ExecOutcome out,
      m->ExecSync(id, {"/bin/sh", "-c", "echo hi; exit 4"}, absl::Seconds(20)));
  EXPECT_EQ(out.exit_code, 4);
  EXPECT_EQ(out.stdout_data, "hi\n");
  EXPECT_THAT(m->ExecSync(id, {"/bin/sleep", "4321"}, absl::Seconds(1)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  // The timed-out command is gone with its runtime (critest checks this),
  // reaped too: a zombie still shows in the container's /proc.
  ASSERT_OK_AND_ASSIGN(
      out, m->ExecSync(id, {"/bin/busybox", "ps"}, absl::Seconds(20)));
  EXPECT_THAT(out.stdout_data, ::testing::Not(HasSubstr("4321")));
  EXPECT_THAT(out.stdout_data, HasSubstr("sleep 1000"));
  ASSERT_OK_AND_ASSIGN(
      out, m->ExecSync(id, {"/bin/sh", "-c", "cat /proc/[0-9]*/stat"},
                       absl::Seconds(20)));
  EXPECT_THAT(out.stdout_data, ::testing::Not(HasSubstr(") Z ")));
  EXPECT_THAT(m->ExecSync(id, {}, absl::Seconds(1)),
              StatusIs(absl::StatusCode::kInvalidArgument));

  ASSERT_OK_AND_ASSIGN(ContainerStats stats, m->Stats(id));
  EXPECT_GT(stats.memory_usage_bytes, 0u);
  EXPECT_GT(stats.cpu_usage_core_nanos, 0u);
  Resources limits;
  limits.memory_limit_in_bytes = 64 << 20;
  ASSERT_THAT(m->UpdateContainerResources(id, limits), IsOk());
  ASSERT_OK_AND_ASSIGN(
      std::string limit,
      sys::ReadFile(absl::StrCat("/sys/fs/cgroup/memory", kCgroupParent, "/",
                                 id, "/memory.limit_in_bytes")));
  EXPECT_EQ(limit, absl::StrCat(64 << 20, "\n"));

  // sleep as pid 1 ignores SIGTERM: the grace runs out and KILL follows.
  ASSERT_THAT(m->StopContainer(id, absl::Milliseconds(200)), IsOk());
  ASSERT_OK_AND_ASSIGN(ContainerRecord r, m->ContainerStatus(id));
  EXPECT_EQ(r.state, State::kExited);
  EXPECT_EQ(r.exit_code, 137);
  ASSERT_THAT(m->StopContainer(id, absl::ZeroDuration()), IsOk());
  ASSERT_THAT(m->RemoveContainer(id), IsOk());
}

// Stop sends the image's STOPSIGNAL first (a shell trapping it exits 9).
TEST_F(ManagerTest, StopSendsTheImagesStopSignal) {
  std::unique_ptr<Manager> m = MakeManager(real_);
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(
      std::string id,
      m->CreateContainer(
          pod_, Config("c8", {"trap 'echo got-usr1; exit 9' USR1; echo ready;"
                              "while true; do sleep 0.05; done"})));
  ASSERT_OK_AND_ASSIGN(ContainerRecord created, m->ContainerStatus(id));
  EXPECT_EQ(created.stop_signal, SIGUSR1);
  ASSERT_THAT(m->StartContainer(id), IsOk());
  // The trap is set once "ready" is in the log.
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    std::vector<std::string> lines = LogLines("c8");
    if (std::find(lines.begin(), lines.end(), "stdout F ready") !=
        lines.end()) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_THAT(m->StopContainer(id, absl::Seconds(20)), IsOk());
  ASSERT_OK_AND_ASSIGN(ContainerRecord r, m->ContainerStatus(id));
  EXPECT_EQ(r.exit_code, 9);
  EXPECT_THAT(LogLines("c8"), Contains("stdout F got-usr1"));
  ASSERT_THAT(m->RemoveContainer(id), IsOk());
}

// Status and List answer from memory while a CreateContainer is stuck in
// its slow part (here the spec; in life a runtime exec), and other
// containers can be stopped meanwhile.
TEST_F(ManagerTest, StatusAndListNeverWaitBehindACreate) {
  absl::Notification entered, release;
  std::unique_ptr<Manager> m = MakeManager(real_, [&](const SpecRequest& r) {
    if (r.config->metadata.name == "slow") {
      entered.Notify();
      release.WaitForNotification();
    }
    return absl::StatusOr<std::string>(TestSpec(r));
  });
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string id,
                       m->CreateContainer(pod_, Config("c9", {"sleep 1000"})));
  ASSERT_THAT(m->StartContainer(id), IsOk());
  absl::StatusOr<std::string> slow;
  std::thread creating(
      [&] { slow = m->CreateContainer(pod_, Config("slow", {"true"})); });
  entered.WaitForNotification();
  // The slow one is invisible until created; the other answers.
  EXPECT_THAT(m->ListContainers({}), SizeIs(1));
  EXPECT_THAT(m->ContainerStatus(id), IsOk());
  EXPECT_THAT(m->StopContainer(id, absl::ZeroDuration()), IsOk());
  EXPECT_FALSE(release.HasBeenNotified());
  release.Notify();
  creating.join();
  ASSERT_THAT(slow, IsOk());
  EXPECT_THAT(m->ListContainers({}), SizeIs(2));
  ASSERT_THAT(m->RemoveContainer(*slow), IsOk());
  ASSERT_THAT(m->RemoveContainer(id), IsOk());
}

TEST_F(ManagerTest, BadRequestsCreateNothing) {
  std::unique_ptr<Manager> m = MakeManager(real_);
  ASSERT_THAT(m->Init(), IsOk());
  ContainerConfig unknown = Config("c3", {"true"});
  unknown.image = "nosuchimage:1";
  EXPECT_THAT(
      m->CreateContainer(pod_, unknown),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("config.image")));
  ASSERT_OK_AND_ASSIGN(std::string id,
                       m->CreateContainer(pod_, Config("c3", {"true"})));
  EXPECT_THAT(m->CreateContainer(pod_, Config("c3", {"true"})),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_THAT(m->RemovePodContainers(pod_.sandbox_id), IsOk());
  EXPECT_THAT(m->ListContainers({}), SizeIs(0));
}

// A daemon restart: the manager goes away while the container writes; the
// next one re-attaches it, relays what it wrote meanwhile (no line lost, no
// SIGPIPE), and sees its exit.
TEST_F(ManagerTest, RestartReattachesAndLosesNoLogLine) {
  std::string id;
  {
    std::unique_ptr<Manager> first = MakeManager(real_);
    ASSERT_THAT(first->Init(), IsOk());
    ASSERT_OK_AND_ASSIGN(
        id, first->CreateContainer(
                pod_, Config("c4", {"i=0; while [ $i -lt 3000 ]; do echo $i;"
                                    " i=$((i+1)); done; sleep 1000"})));
    ASSERT_THAT(first->StartContainer(id), IsOk());
  }
  std::unique_ptr<Manager> second = MakeManager(real_);
  ASSERT_THAT(second->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(ContainerRecord r, second->ContainerStatus(id));
  EXPECT_EQ(r.state, State::kRunning);
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  std::vector<std::string> lines;
  while (absl::Now() < deadline) {
    lines = LogLines("c4");
    if (lines.size() >= 3000) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Pieces (P) of a line split across reads join up: count whole lines.
  std::string joined;
  std::vector<std::string> whole;
  for (const std::string& line : lines) {
    joined += line.substr(9);  // "stdout F " / "stdout P "
    if (line[7] == 'F') {
      whole.push_back(joined);
      joined.clear();
    }
  }
  ASSERT_THAT(whole, SizeIs(3000));
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(whole[i], absl::StrCat(i));
  ASSERT_THAT(second->StopContainer(id, absl::ZeroDuration()), IsOk());
  ASSERT_THAT(second->RemoveContainer(id), IsOk());
}

// A crash in the middle of CreateContainer: the record says creating, the
// steps done are on disk; the next Init rolls them back.
TEST_F(ManagerTest, CreatingRecordIsRolledBackAtInit) {
  std::string id;
  {
    std::unique_ptr<Manager> first = MakeManager(real_);
    ASSERT_THAT(first->Init(), IsOk());
    ASSERT_OK_AND_ASSIGN(id,
                         first->CreateContainer(pod_, Config("c5", {"true"})));
    // As if the daemon died before marking it created: rewrite its record.
    ASSERT_OK_AND_ASSIGN(ContainerRecord r, first->ContainerStatus(id));
    r.state = State::kCreating;
    RecordStore records(real_, tmp_.Sub("containers"));
    ASSERT_THAT(records.Save(r, false), IsOk());
  }
  std::unique_ptr<Manager> second = MakeManager(real_);
  ASSERT_THAT(second->Init(), IsOk());
  EXPECT_THAT(second->ContainerStatus(id),
              StatusIs(absl::StatusCode::kNotFound));
  // FindLeftovers and the leak check prove the rest.
}

// Processes on the host, as "<pid> <state> <ppid> <cmdline>" lines for
// the ones `keep` accepts (pid, state letter, ppid, cmdline with spaces).
std::vector<std::string> HostProcesses(
    absl::FunctionRef<bool(pid_t, char, pid_t, const std::string&)> keep) {
  std::vector<std::string> out;
  for (const std::string& name :
       sys::ListDir("/proc").value_or(std::vector<std::string>{})) {
    pid_t pid;
    if (!absl::SimpleAtoi(name, &pid)) continue;
    std::string stat =
        sys::ReadFile(absl::StrCat("/proc/", name, "/stat")).value_or("");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 4 > stat.size()) continue;
    std::vector<std::string> fields =
        absl::StrSplit(stat.substr(paren + 2), ' ');
    pid_t ppid = 0;
    if (fields.size() < 2 || !absl::SimpleAtoi(fields[1], &ppid)) continue;
    std::string cmdline =
        sys::ReadFile(absl::StrCat("/proc/", name, "/cmdline")).value_or("");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (keep(pid, fields[0][0], ppid, cmdline)) {
      out.push_back(absl::StrCat(pid, " ", fields[0], " ", ppid, " ", cmdline));
    }
  }
  return out;
}

// ExecSync past its timeout (manager.h: DeadlineExceeded) answers long
// before the command would end, and leaves nothing behind: no process in
// the container but its init, no zombie of the exec'd command (this
// process, a subreaper, adopts it), no runtime `exec` still running; the
// container keeps running.
TEST_F(ManagerTest, ExecSyncPastItsTimeoutKillsTheCommandAndAnswers) {
  std::unique_ptr<Manager> m = MakeManager(real_);
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string id,
                       m->CreateContainer(pod_, Config("c8", {"sleep 1000"})));
  ASSERT_THAT(m->StartContainer(id), IsOk());
  ASSERT_OK_AND_ASSIGN(ContainerRecord running, m->ContainerStatus(id));

  absl::StatusOr<ExecOutcome> timed_out = absl::UnknownError("not answered");
  absl::Notification answered;
  std::thread exec([&] {
    timed_out = m->ExecSync(id, {"/bin/sleep", "60"}, absl::Seconds(1));
    answered.Notify();
  });
  // Half the command's own time: an ExecSync that waited for it fails here.
  bool in_time = answered.WaitForNotificationWithTimeout(absl::Seconds(30));
  exec.join();
  EXPECT_TRUE(in_time) << "ExecSync waited for the command";
  EXPECT_THAT(timed_out, StatusIs(absl::StatusCode::kDeadlineExceeded));

  std::vector<std::string> dirs;
  ASSERT_OK_AND_ASSIGN(dirs, sys::HostCgroupDirectories(running.cgroup_path));
  for (const std::string& dir : dirs) {
    ASSERT_OK_AND_ASSIGN(std::string procs,
                         sys::ReadFile(absl::StrCat(dir, "/cgroup.procs")));
    EXPECT_THAT(absl::StrSplit(procs, '\n', absl::SkipEmpty()),
                ::testing::ElementsAre(absl::StrCat(running.pid)))
        << dir;
  }
  const pid_t self = ::getpid();
  EXPECT_THAT(
      HostProcesses([&](pid_t, char state, pid_t ppid, const std::string&) {
        return ppid == self && state == 'Z';
      }),
      ::testing::IsEmpty())
      << "zombie children of the daemon";
  EXPECT_THAT(HostProcesses([&](pid_t, char, pid_t, const std::string& cmd) {
                return absl::StrContains(cmd, id) &&
                       absl::StrContains(cmd, " exec ");
              }),
              ::testing::IsEmpty())
      << "runtime exec still running";
  ASSERT_OK_AND_ASSIGN(ContainerRecord after, m->ContainerStatus(id));
  EXPECT_EQ(after.state, State::kRunning);
  ASSERT_THAT(m->RemoveContainer(id), IsOk());
}

// Remove whose unmount fails: the error comes back, the container stays
// listed with its record, and the next Remove finishes the job.
TEST_F(ManagerTest, FailedRemoveIsRetriedUntilNothingIsLeft) {
  sys::FaultySys faulty(real_);
  std::unique_ptr<Manager> m = MakeManager(faulty);
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string id,
                       m->CreateContainer(pod_, Config("c7", {"sleep 1000"})));
  ASSERT_THAT(m->StartContainer(id), IsOk());
  faulty.FailNth(sys::SysCall::kUmount2, 1, EBUSY);
  EXPECT_THAT(m->RemoveContainer(id),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(faulty.fired(sys::SysCall::kUmount2), 1);
  ASSERT_OK_AND_ASSIGN(ContainerRecord r, m->ContainerStatus(id));
  EXPECT_EQ(r.state, State::kExited);
  RecordStore records(real_, tmp_.Sub("containers"));
  ASSERT_OK_AND_ASSIGN(RecordStore::Loaded loaded, records.LoadAll());
  EXPECT_THAT(loaded.records, SizeIs(1));
  ASSERT_THAT(m->RemoveContainer(id), IsOk());
  EXPECT_THAT(m->ContainerStatus(id), StatusIs(absl::StatusCode::kNotFound));
}

// Every syscall CreateContainer makes, failed in turn: the error comes back
// and nothing is left (mounts, dirs, FIFOs, runtime state, cgroups,
// processes).
TEST_F(ManagerTest, EveryFailingSyscallOfCreateRollsBack) {
  sys::FaultySys probe(real_);
  {
    std::unique_ptr<Manager> m = MakeManager(probe);
    ASSERT_THAT(m->Init(), IsOk());
    probe.Reset();
    ASSERT_OK_AND_ASSIGN(std::string id,
                         m->CreateContainer(pod_, Config("c6", {"true"})));
    std::vector<std::pair<sys::SysCall, int>> calls;
    for (int i = 0; i < sys::kSysCallCount; ++i) {
      auto call = static_cast<sys::SysCall>(i);
      if (probe.count(call) > 0) calls.emplace_back(call, probe.count(call));
    }
    ASSERT_THAT(m->RemoveContainer(id), IsOk());
    int faults = 0;
    for (auto [call, count] : calls) {
      for (int nth = 1; nth <= count; ++nth) {
        probe.Reset();
        probe.FailNth(call, nth, EIO);
        absl::StatusOr<std::string> made =
            m->CreateContainer(pod_, Config("c6", {"true"}));
        std::string what = absl::StrCat(sys::SysCallName(call), " #", nth);
        ASSERT_EQ(probe.fired(call), 1) << what;
        if (made.ok()) {
          // A failure the create tolerates (a best-effort read): still a
          // clean container to remove.
          ASSERT_THAT(m->RemoveContainer(*made), IsOk()) << what;
        }
        EXPECT_EQ(FindLeftovers(), "") << what;
        EXPECT_THAT(m->ListContainers({}), SizeIs(0)) << what;
        ++faults;
      }
    }
    EXPECT_GT(faults, 20);
  }
}

}  // namespace
}  // namespace podsandbox::container
