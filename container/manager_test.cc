// container::Manager's own logic without root: the OCI runtime is
// oci/testing's FakeOciRuntime (a container's init is a real /bin/sleep
// child, so pidfds, the exit watcher and signals are real) and the rootfs
// mount is a stand-in that makes the directories MountRootfs would (no
// overlayfs). What needs the real runtime, mounts and user namespaces is
// manager_privileged_test's.
#include "container/manager.h"

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "container/record_store.h"
#include "container/rootfs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/digest.h"
#include "image/image_record.h"
#include "image/images.h"
#include "image/store.h"
#include "nlohmann/json.hpp"
#include "oci/runtime_handler.h"
#include "oci/testing/fake_oci_runtime.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::container {
namespace {

using ::podsandbox::oci::testing::FakeOciRuntime;
using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using json = nlohmann::json;
using Verb = FakeOciRuntime::Verb;

constexpr char kImage[] = "docker.io/library/busybox:latest";

// A config.json with the one part the manager reads back (ExecSync's
// process); no cgroupsPath, so no cgroup is read.
absl::StatusOr<std::string> TestSpec(const SpecRequest& r) {
  json spec = {{"ociVersion", "1.0.2"},
               {"process", {{"args", r.config->command}, {"cwd", "/"}}},
               {"root", {{"path", r.rootfs}}}};
  return spec.dump();
}

std::vector<std::string> Ids(const std::vector<ContainerRecord>& records) {
  std::vector<std::string> ids;
  for (const ContainerRecord& r : records) ids.push_back(r.id);
  return ids;
}

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(store_.Init(), IsOk());
    StoreImage();
    oci::RuntimeHandler runc;
    runc.name = "runc";
    runc.type = oci::RuntimeType::kRunc;
    runc.path = "/usr/sbin/runc";
    runc.root = tmp_.Sub("runtime");
    ASSERT_OK_AND_ASSIGN(oci::HandlerRegistry handlers,
                         oci::HandlerRegistry::Create({runc}, "runc"));
    handlers_ = std::make_unique<oci::HandlerRegistry>(std::move(handlers));
    pod_ = Pod(std::string(64, 'a'));
    ASSERT_EQ(::mkdir(pod_.log_directory.c_str(), 0755), 0);
  }

  PodContext Pod(const std::string& sandbox_id) {
    PodContext pod;
    pod.sandbox_id = sandbox_id;
    pod.pod_name = "p";
    pod.pod_namespace = "default";
    pod.pod_uid = "uid";
    pod.log_directory = tmp_.Sub("logs");
    return pod;
  }

  // An image with no layers whose STOPSIGNAL is SIGUSR1 (so a stop shows
  // it used the image's signal, not SIGTERM).
  void StoreImage() {
    std::string config =
        json{{"architecture", "amd64"},
             {"os", "linux"},
             {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}},
             {"config", {{"StopSignal", "SIGUSR1"}}}}
            .dump();
    std::string manifest = "{\"manifest\":1}";
    image::ImageRecord r;
    r.id = image::Sha256Of(config);
    r.manifest_digest = image::Sha256Of(manifest);
    r.repo_tags = {kImage};
    r.blobs = {r.id, r.manifest_digest};
    ASSERT_THAT(store_.PutBlob(r.id, config), IsOk());
    ASSERT_THAT(store_.PutBlob(r.manifest_digest, manifest), IsOk());
    ASSERT_THAT(store_.PutImage(r), IsOk());
    image_id_ = r.id.String();
  }

  std::unique_ptr<Manager> MakeManager(
      size_t max_containers = ManagerOptions().max_containers) {
    ManagerOptions options;
    options.max_containers = max_containers;
    options.root_dir = tmp_.Sub("containers");
    options.state_dir = tmp_.Sub("state");
    options.make_runtime = fake_.Factory();
    options.mount_rootfs = [this](const RootfsPaths& p, const RootfsSpec&) {
      return FakeMount(p);
    };
    options.unmount_rootfs = [this](const RootfsPaths& p) {
      return FakeUnmount(p);
    };
    return std::make_unique<Manager>(real_, options, *handlers_, store_,
                                     images_, TestSpec, /*reaper=*/nullptr);
  }

  // What MountRootfs leaves, less the overlay.
  absl::Status FakeMount(const RootfsPaths& p) {
    for (const std::string& dir :
         {p.writable_dir + "/fs", p.writable_dir + "/work", p.mountpoint}) {
      RETURN_IF_ERROR(sys::MakeDirs(real_, dir, 0755));
    }
    absl::MutexLock lock(&mu_);
    mounted_.insert(p.mountpoint);
    return absl::OkStatus();
  }
  absl::Status FakeUnmount(const RootfsPaths& p) {
    if (::rmdir(p.mountpoint.c_str()) != 0 && errno != ENOENT) {
      return absl::InternalError(absl::StrCat("rmdir ", p.mountpoint));
    }
    absl::MutexLock lock(&mu_);
    mounted_.erase(p.mountpoint);
    return absl::OkStatus();
  }
  std::set<std::string> mounted() {
    absl::MutexLock lock(&mu_);
    return mounted_;
  }

  ContainerConfig Config(const std::string& name) {
    ContainerConfig config;
    config.metadata = {name, 0};
    config.image = kImage;
    config.command = {"/bin/sleep", "1000"};
    config.log_path = absl::StrCat(name, ".log");
    config.labels = {{"name", name}};
    return config;
  }

  // Entries left in the manager's directories: records, writable layers,
  // state dirs.
  std::vector<std::string> Leftovers() {
    std::vector<std::string> out;
    for (const char* dir : {"state", "containers"}) {
      for (const std::string& name :
           sys::ListDir(tmp_.Sub(dir)).value_or(std::vector<std::string>{})) {
        out.push_back(absl::StrCat(dir, "/", name));
      }
    }
    return out;
  }

  // Whether `pid` is gone (reaped): kill(pid, 0) fails with ESRCH.
  static bool Gone(pid_t pid) {
    return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
  }

  sys::RealSys real_;
  sys::TempDir tmp_;
  image::Store store_{real_, tmp_.Sub("images")};
  image::Images images_{store_};
  std::string image_id_;
  std::unique_ptr<oci::HandlerRegistry> handlers_;
  FakeOciRuntime fake_;
  PodContext pod_;
  absl::Mutex mu_;
  std::set<std::string> mounted_ ABSL_GUARDED_BY(mu_);
};

// Refusals come before the first side effect: no runtime call, no mount,
// no directory, no record; and the name stays free.
TEST_F(ManagerTest, BadRequestsAreRefusedBeforeAnySideEffect) {
  std::unique_ptr<Manager> m = MakeManager();
  ASSERT_THAT(m->Init(), IsOk());

  ContainerConfig no_image = Config("c");
  no_image.image = "docker.io/library/nothing:here";
  EXPECT_THAT(
      m->CreateContainer(pod_, no_image),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("config.image")));
  ContainerConfig no_name = Config("");
  EXPECT_THAT(m->CreateContainer(pod_, no_name),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.metadata.name")));
  PodContext unknown_handler = pod_;
  unknown_handler.runtime_handler = "kata";
  EXPECT_THAT(m->CreateContainer(unknown_handler, Config("c")),
              StatusIs(absl::StatusCode::kInvalidArgument));

  EXPECT_THAT(fake_.calls(), IsEmpty());
  EXPECT_THAT(mounted(), IsEmpty());
  EXPECT_THAT(Leftovers(), IsEmpty());
  EXPECT_THAT(m->ListContainers({}), IsEmpty());
  EXPECT_FALSE(m->ImageInUse(image_id_));
  EXPECT_THAT(m->CreateContainer(pod_, Config("c")), IsOk());
}

TEST_F(ManagerTest, ADuplicateNameIsRefusedWithoutTouchingTheFirst) {
  std::unique_ptr<Manager> m = MakeManager();
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string first,
                       m->CreateContainer(pod_, Config("c")));
  std::vector<std::string> before = Leftovers();
  int creates = fake_.count(Verb::kCreate);

  EXPECT_THAT(m->CreateContainer(pod_, Config("c")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(first)));
  EXPECT_EQ(fake_.count(Verb::kCreate), creates);
  EXPECT_EQ(Leftovers(), before);
  EXPECT_THAT(Ids(m->ListContainers({})), ElementsAre(first));
  // Another attempt, or the same name in another pod, is another container.
  ContainerConfig retry = Config("c");
  retry.metadata.attempt = 1;
  EXPECT_THAT(m->CreateContainer(pod_, retry), IsOk());
  EXPECT_THAT(m->CreateContainer(Pod(std::string(64, 'b')), Config("c")),
              IsOk());
}

// The cap counts every container of the node, in any state; the one past
// it is refused before any side effect, and a Remove frees a slot.
TEST_F(ManagerTest, CreatePastMaxContainersIsRefusedBeforeAnySideEffect) {
  std::unique_ptr<Manager> m = MakeManager(/*max_containers=*/2);
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string a, m->CreateContainer(pod_, Config("a")));
  ASSERT_OK_AND_ASSIGN(
      std::string b,
      m->CreateContainer(Pod(std::string(64, 'b')), Config("b")));
  ASSERT_THAT(m->StopContainer(a, absl::ZeroDuration()), IsOk());
  // An exited container counts too. Its record is saved after Stop
  // returns (the exit is recorded by the exit handler), so the snapshot
  // waits until the file on disk says exited: a save in flight would show
  // as a ".json.tmp" that the refused create did not leave.
  RecordStore records(real_, tmp_.Sub("containers"));
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (true) {
    absl::StatusOr<RecordStore::Loaded> loaded = records.LoadAll();
    bool saved = false;
    if (loaded.ok()) {
      for (const ContainerRecord& r : loaded->records) {
        if (r.id == a && r.state == State::kExited) saved = true;
      }
    }
    if (saved) break;
    ASSERT_LT(absl::Now(), deadline) << "a's exit never reached its record";
    absl::SleepFor(absl::Milliseconds(5));
  }
  size_t calls = fake_.calls().size();
  std::vector<std::string> before = Leftovers();
  std::set<std::string> mounts = mounted();

  EXPECT_THAT(m->CreateContainer(pod_, Config("c")),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("limits.containers")));
  EXPECT_EQ(fake_.calls().size(), calls);
  EXPECT_EQ(Leftovers(), before);
  EXPECT_EQ(mounted(), mounts);
  EXPECT_THAT(Ids(m->ListContainers({})), ElementsAre(a, b));
  ASSERT_OK_AND_ASSIGN(RecordStore::Loaded loaded, records.LoadAll());
  EXPECT_THAT(loaded.records, SizeIs(2));

  ASSERT_THAT(m->RemoveContainer(a), IsOk());
  EXPECT_THAT(m->CreateContainer(pod_, Config("c")), IsOk());
}

// The count is checked where the name is reserved: of four concurrent
// creates under a cap of two, exactly two pass.
TEST_F(ManagerTest, ConcurrentCreatesNeverPassTheCapTogether) {
  std::unique_ptr<Manager> m = MakeManager(/*max_containers=*/2);
  ASSERT_THAT(m->Init(), IsOk());
  std::vector<absl::Status> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] =
          m->CreateContainer(pod_, Config(absl::StrCat("c", i))).status();
    });
  }
  for (std::thread& t : threads) t.join();
  int ok = 0;
  for (const absl::Status& s : results) {
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted));
    }
  }
  EXPECT_EQ(ok, 2);
  EXPECT_THAT(m->ListContainers({}), SizeIs(2));
  EXPECT_EQ(fake_.count(Verb::kCreate), 2);
}

TEST_F(ManagerTest, CreatedRunningExitedRemoved) {
  std::unique_ptr<Manager> m = MakeManager();
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string id, m->CreateContainer(pod_, Config("c")));
  ASSERT_OK_AND_ASSIGN(ContainerRecord created, m->ContainerStatus(id));
  EXPECT_EQ(created.state, State::kCreated);
  EXPECT_EQ(created.image_id, image_id_);
  EXPECT_EQ(created.stop_signal, SIGUSR1);
  EXPECT_EQ(created.pid, fake_.pid(id));
  EXPECT_TRUE(m->ImageInUse(image_id_));
  EXPECT_THAT(mounted(), SizeIs(1));
  EXPECT_THAT(m->ExecSync(id, {"true"}, absl::Seconds(1)),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  ASSERT_THAT(m->StartContainer(id), IsOk());
  ASSERT_OK_AND_ASSIGN(ContainerRecord running, m->ContainerStatus(id));
  EXPECT_EQ(running.state, State::kRunning);
  EXPECT_GE(running.started_at, running.created_at);
  EXPECT_THAT(m->StartContainer(id),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  fake_.SetExecResult({/*exit_code=*/3, "out", "err"});
  ASSERT_OK_AND_ASSIGN(ExecOutcome exec,
                       m->ExecSync(id, {"probe"}, absl::Seconds(1)));
  EXPECT_EQ(exec.exit_code, 3);

  // The image's STOPSIGNAL ends it within the grace period.
  pid_t pid = running.pid;
  ASSERT_THAT(m->StopContainer(id, absl::Seconds(30)), IsOk());
  ASSERT_OK_AND_ASSIGN(ContainerRecord exited, m->ContainerStatus(id));
  EXPECT_EQ(exited.state, State::kExited);
  EXPECT_EQ(exited.exit_code, 128 + SIGUSR1);
  EXPECT_EQ(exited.reason, "Error");
  EXPECT_GE(exited.finished_at, exited.started_at);
  EXPECT_TRUE(Gone(pid));
  EXPECT_THAT(m->StopContainer(id, absl::Seconds(30)), IsOk());
  EXPECT_THAT(m->StartContainer(id),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  ASSERT_THAT(m->RemoveContainer(id), IsOk());
  EXPECT_THAT(m->ContainerStatus(id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(m->RemoveContainer(id), IsOk());
  EXPECT_THAT(fake_.containers(), IsEmpty());
  EXPECT_THAT(mounted(), IsEmpty());
  EXPECT_THAT(Leftovers(), IsEmpty());
  EXPECT_FALSE(m->ImageInUse(image_id_));
}

TEST_F(ManagerTest, ListFiltersByIdStateSandboxAndLabelsOldestFirst) {
  std::unique_ptr<Manager> m = MakeManager();
  ASSERT_THAT(m->Init(), IsOk());
  PodContext other = Pod(std::string(64, 'b'));
  ASSERT_OK_AND_ASSIGN(std::string a, m->CreateContainer(pod_, Config("a")));
  ASSERT_OK_AND_ASSIGN(std::string b, m->CreateContainer(pod_, Config("b")));
  ASSERT_OK_AND_ASSIGN(std::string c, m->CreateContainer(other, Config("c")));
  ASSERT_THAT(m->StartContainer(b), IsOk());

  EXPECT_THAT(Ids(m->ListContainers({})), ElementsAre(a, b, c));
  ListFilter by_id;
  by_id.id = c.substr(0, 12);
  EXPECT_THAT(Ids(m->ListContainers(by_id)), ElementsAre(c));
  ListFilter by_state;
  by_state.state = State::kRunning;
  EXPECT_THAT(Ids(m->ListContainers(by_state)), ElementsAre(b));
  by_state.state = State::kCreated;
  EXPECT_THAT(Ids(m->ListContainers(by_state)), ElementsAre(a, c));
  ListFilter by_pod;
  by_pod.sandbox_id = "bbbb";
  EXPECT_THAT(Ids(m->ListContainers(by_pod)), ElementsAre(c));
  ListFilter by_label;
  by_label.label_selector = {{"name", "a"}};
  EXPECT_THAT(Ids(m->ListContainers(by_label)), ElementsAre(a));
  by_label.label_selector = {{"name", "a"}, {"other", "x"}};
  EXPECT_THAT(m->ListContainers(by_label), IsEmpty());
  ListFilter all_of;
  all_of.sandbox_id = pod_.sandbox_id;
  all_of.state = State::kCreated;
  all_of.label_selector = {{"name", "a"}};
  EXPECT_THAT(Ids(m->ListContainers(all_of)), ElementsAre(a));
}

// A created container's init already runs (the runtime's init waiting for
// start): Stop kills it, and it is exited without ever having started.
TEST_F(ManagerTest, StopOfACreatedContainerKillsItsInit) {
  std::unique_ptr<Manager> m = MakeManager();
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string id, m->CreateContainer(pod_, Config("c")));
  pid_t pid = fake_.pid(id);
  ASSERT_GT(pid, 0);
  ASSERT_THAT(m->StopContainer(id, absl::ZeroDuration()), IsOk());
  ASSERT_OK_AND_ASSIGN(ContainerRecord r, m->ContainerStatus(id));
  EXPECT_EQ(r.state, State::kExited);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_TRUE(Gone(pid));
  EXPECT_EQ(fake_.count(Verb::kStart), 0);
  EXPECT_THAT(m->StartContainer(id),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(m->RemoveContainer(id), IsOk());
  EXPECT_THAT(Leftovers(), IsEmpty());
}

TEST_F(ManagerTest, RemoveOfARunningContainerKillsAndCleansUp) {
  std::unique_ptr<Manager> m = MakeManager();
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string id, m->CreateContainer(pod_, Config("c")));
  ASSERT_THAT(m->StartContainer(id), IsOk());
  pid_t pid = fake_.pid(id);
  ASSERT_THAT(m->RemoveContainer(id), IsOk());
  EXPECT_TRUE(Gone(pid));
  EXPECT_THAT(m->ContainerStatus(id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(m->ListContainers({}), IsEmpty());
  EXPECT_EQ(fake_.count(Verb::kDelete), 1);
  EXPECT_THAT(fake_.containers(), IsEmpty());
  EXPECT_THAT(mounted(), IsEmpty());
  EXPECT_THAT(Leftovers(), IsEmpty());
  // The name is free again.
  EXPECT_THAT(m->CreateContainer(pod_, Config("c")), IsOk());
}

// runtime create fails: the error comes back and every step before it is
// undone (FIFOs, state dir, rootfs, writable layer, record, name).
TEST_F(ManagerTest, RuntimeCreateFailureIsRolledBack) {
  std::unique_ptr<Manager> m = MakeManager();
  ASSERT_THAT(m->Init(), IsOk());
  fake_.FailNext(Verb::kCreate, absl::UnavailableError("injected create"));
  EXPECT_THAT(
      m->CreateContainer(pod_, Config("c")),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("injected create")));
  EXPECT_EQ(fake_.fired(Verb::kCreate), 1);
  EXPECT_TRUE(fake_.AllInjectedFired());
  EXPECT_THAT(fake_.containers(), IsEmpty());
  EXPECT_THAT(mounted(), IsEmpty());
  EXPECT_THAT(Leftovers(), IsEmpty());
  EXPECT_THAT(m->ListContainers({}), IsEmpty());
  EXPECT_FALSE(m->ImageInUse(image_id_));
  RecordStore records(real_, tmp_.Sub("containers"));
  ASSERT_OK_AND_ASSIGN(RecordStore::Loaded loaded, records.LoadAll());
  EXPECT_THAT(loaded.records, IsEmpty());
  // The name was given back.
  EXPECT_THAT(m->CreateContainer(pod_, Config("c")), IsOk());
}

// runtime start fails: the container is exited with StartError (as
// containerd reports it; it will never run), its init is gone, and Remove
// leaves nothing.
TEST_F(ManagerTest, RuntimeStartFailureLeavesAnExitedContainerToRemove) {
  std::unique_ptr<Manager> m = MakeManager();
  ASSERT_THAT(m->Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string id, m->CreateContainer(pod_, Config("c")));
  pid_t pid = fake_.pid(id);
  fake_.FailNext(Verb::kStart, absl::InternalError("injected start"));
  EXPECT_THAT(m->StartContainer(id), StatusIs(absl::StatusCode::kInternal,
                                              HasSubstr("injected start")));
  EXPECT_EQ(fake_.fired(Verb::kStart), 1);
  EXPECT_TRUE(fake_.AllInjectedFired());
  ASSERT_OK_AND_ASSIGN(ContainerRecord r, m->ContainerStatus(id));
  EXPECT_EQ(r.state, State::kExited);
  EXPECT_EQ(r.reason, "StartError");
  EXPECT_THAT(r.message, HasSubstr("injected start"));
  EXPECT_EQ(r.exit_code, 128);

  ASSERT_THAT(m->RemoveContainer(id), IsOk());
  EXPECT_TRUE(Gone(pid));
  EXPECT_THAT(fake_.containers(), IsEmpty());
  EXPECT_THAT(mounted(), IsEmpty());
  EXPECT_THAT(Leftovers(), IsEmpty());
}

}  // namespace
}  // namespace podsandbox::container
