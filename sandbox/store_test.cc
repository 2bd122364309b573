#include "sandbox/store.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/kill_at_rename.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

SandboxRecord FullRecord() {
  SandboxRecord r;
  r.id = std::string(64, 'a');
  r.config.metadata = {"web", "uid-1", "default", 3};
  r.config.hostname = "web";
  r.config.log_directory = "/var/log/pods/x";
  r.config.dns = {{"10.96.0.10"}, {"svc.cluster.local"}, {"ndots:5"}};
  r.config.port_mappings = {{Protocol::kUdp, 53, 5353, "127.0.0.1"}};
  r.config.labels = {{"app", "web"}};
  r.config.annotations = {{"a", "b"}};
  r.config.cgroup_parent = "/kubepods";
  r.config.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"}};
  r.config.namespaces.pid = NamespaceMode::kContainer;
  r.config.namespaces.userns.mode = NamespaceMode::kPod;
  r.config.namespaces.userns.mappings = {
      {{0, 100000, 65536}}, {{0, 100000, 1000}, {1000, 4294000000u, 5}}};
  r.config.privileged = true;
  r.runtime_handler = "crun";
  r.phase = Phase::kReady;
  r.steps = {Step::kNamespaces, Step::kNetwork, Step::kPodFiles, Step::kTask};
  r.netns_pin = "/run/podsandbox/netns/x";
  r.userns_pin = "/run/podsandbox/userns/x";
  r.cni_result = R"({"cniVersion":"1.0.0"})";
  r.ips = {"10.233.0.5", "fd00::5"};
  r.pid = 4242;
  r.pid_start_time = 123456789012ull;
  r.created_at = absl::FromUnixNanos(1700000000123456789);
  r.ready_at = absl::FromUnixNanos(1700000000223456789);
  r.exit_status = 137;
  r.failed_cni_deletes = 2;
  return r;
}

void ExpectSameRecord(const SandboxRecord& a, const SandboxRecord& b) {
  EXPECT_EQ(RecordToJson(a), RecordToJson(b));
  EXPECT_TRUE(a.config == b.config);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.exited_at, b.exited_at);
}

TEST(RecordTest, RoundTripsEveryField) {
  SandboxRecord original = FullRecord();
  ASSERT_OK_AND_ASSIGN(SandboxRecord back,
                       RecordFromJson(RecordToJson(original)));
  ExpectSameRecord(original, back);
}

TEST(RecordTest, BadRecordsNameTheField) {
  EXPECT_THAT(RecordFromJson("{"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("invalid JSON")));
  EXPECT_THAT(
      RecordFromJson(R"({"id":"x"})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record.config")));
  std::string json = RecordToJson(FullRecord());
  std::string bad_phase = json;
  bad_phase.replace(bad_phase.find("\"ready\""), 7, "\"dancing\"");
  EXPECT_THAT(
      RecordFromJson(bad_phase),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record.phase")));
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(store_.Init()); }

  sys::RealSys real_;
  sys::FaultySys sys_{real_};
  sys::TempDir dir_;
  Store store_{sys_, dir_.Sub("sandboxes")};
};

TEST_F(StoreTest, SaveLoadRemove) {
  SandboxRecord record = FullRecord();
  ASSERT_OK(store_.Save(record, /*durable=*/true));
  ASSERT_OK_AND_ASSIGN(Store::Loaded loaded, store_.LoadAll());
  ASSERT_THAT(loaded.records, SizeIs(1));
  ExpectSameRecord(loaded.records[0], record);
  ASSERT_OK(store_.Remove(record.id));
  ASSERT_OK(store_.Remove(record.id));
  ASSERT_OK_AND_ASSIGN(loaded, store_.LoadAll());
  EXPECT_THAT(loaded.records, IsEmpty());
}

// A crash between writing the temp file and the rename, simulated by a
// failing rename: the old record is what a restart finds.
TEST_F(StoreTest, FailedReplaceLeavesTheOldRecord) {
  SandboxRecord record = FullRecord();
  ASSERT_OK(store_.Save(record, /*durable=*/true));
  SandboxRecord changed = record;
  changed.phase = Phase::kNotReady;
  sys_.FailNth(sys::SysCall::kRename, 1, EIO);
  EXPECT_THAT(store_.Save(changed, /*durable=*/true),
              StatusIs(absl::StatusCode::kUnknown, HasSubstr("rename")));
  sys_.Reset();
  ASSERT_OK_AND_ASSIGN(Store::Loaded loaded, store_.LoadAll());
  ASSERT_THAT(loaded.records, SizeIs(1));
  EXPECT_EQ(loaded.records[0].phase, Phase::kReady);
  EXPECT_THAT(loaded.quarantined, IsEmpty());
}

// A real SIGKILL between write and rename leaves "<id>.json.tmp"; the next
// start's Init removes it, and the record it was replacing is what loads.
TEST_F(StoreTest, KillBetweenWriteAndRenameLeavesATempThatInitRemoves) {
  SandboxRecord record = FullRecord();
  ASSERT_OK(store_.Save(record, /*durable=*/true));
  ASSERT_OK(sys::testing::KillAtRename(real_, [&](sys::Sys& killed) {
    SandboxRecord changed = record;
    changed.phase = Phase::kNotReady;
    (void)Store(killed, dir_.Sub("sandboxes")).Save(changed, true);
  }));
  std::string temp = store_.PathFor(record.id) + ".tmp";
  ASSERT_TRUE(sys::ReadFile(temp).ok()) << "the kill left no temp file";

  Store restarted(sys_, dir_.Sub("sandboxes"));
  ASSERT_OK(restarted.Init());
  EXPECT_THAT(sys::ReadFile(temp), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Store::Loaded loaded, restarted.LoadAll());
  ASSERT_THAT(loaded.records, SizeIs(1));
  EXPECT_EQ(loaded.records[0].phase, Phase::kReady);
  EXPECT_THAT(loaded.quarantined, IsEmpty());
}

TEST_F(StoreTest, CorruptRecordIsQuarantinedNotFatal) {
  ASSERT_OK(store_.Save(FullRecord(), /*durable=*/false));
  std::string corrupt = store_.PathFor(std::string(64, 'b'));
  ASSERT_OK(sys::WriteFileAtomically(real_, corrupt, "{\"id\": 7", 0600));
  ASSERT_OK_AND_ASSIGN(Store::Loaded loaded, store_.LoadAll());
  EXPECT_THAT(loaded.records, SizeIs(1));
  ASSERT_THAT(loaded.quarantined, ElementsAre(HasSubstr(corrupt)));
  EXPECT_THAT(sys::ReadFile(corrupt + ".corrupt"), sys::testing::IsOk());
  // Quarantined once: the next load does not see it again.
  ASSERT_OK_AND_ASSIGN(loaded, store_.LoadAll());
  EXPECT_THAT(loaded.quarantined, IsEmpty());
}

TEST_F(StoreTest, RecordUnderAnotherNameIsQuarantined) {
  SandboxRecord record = FullRecord();
  ASSERT_OK(sys::WriteFileAtomically(
      real_, store_.PathFor(std::string(64, 'c')), RecordToJson(record), 0600));
  ASSERT_OK_AND_ASSIGN(Store::Loaded loaded, store_.LoadAll());
  EXPECT_THAT(loaded.records, IsEmpty());
  EXPECT_THAT(loaded.quarantined, ElementsAre(HasSubstr("does not match")));
}

}  // namespace
}  // namespace podsandbox::sandbox
