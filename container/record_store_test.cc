// Container records: JSON round trip, refusal of bad records, and the
// store's atomic writes, temp-file collection and quarantine.
#include "container/record_store.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::container {
namespace {

using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

ContainerRecord Sample() {
  ContainerRecord r;
  r.id = std::string(64, 'a');
  r.sandbox_id = std::string(64, 'b');
  r.metadata = {"web", 2};
  r.image = "busybox";
  r.image_id = "sha256:" + std::string(64, 'c');
  r.image_ref = "docker.io/library/busybox@sha256:" + std::string(64, 'd');
  r.labels = {{"app", "web"}};
  r.annotations = {{"a", "b"}};
  r.mounts = {
      {"/data", "/srv/data", true, false, MountPropagation::kHostToContainer}};
  r.log_path = "/var/log/pods/x/web/2.log";
  r.runtime_handler = "runc";
  r.cgroup_path = "/kubepods/podx/" + r.id;
  r.resources.memory_limit_in_bytes = 1 << 20;
  r.resources.cpuset_cpus = "0-1";
  r.stop_signal = 3;
  r.state = State::kExited;
  r.steps = {Step::kDirs, Step::kRootfs, Step::kTask};
  r.pid = 1234;
  r.pid_start_time = 987654321;
  r.created_at = absl::FromUnixNanos(1700000000000000001);
  r.started_at = absl::FromUnixNanos(1700000000000000002);
  r.finished_at = absl::FromUnixNanos(1700000000000000003);
  r.exit_code = 137;
  r.reason = "OOMKilled";
  r.message = "m";
  return r;
}

TEST(RecordTest, RoundTripsEveryField) {
  ContainerRecord r = Sample();
  ASSERT_OK_AND_ASSIGN(ContainerRecord back, RecordFromJson(RecordToJson(r)));
  EXPECT_EQ(RecordToJson(back), RecordToJson(r));
  EXPECT_EQ(back.metadata, r.metadata);
  EXPECT_EQ(back.mounts, r.mounts);
  EXPECT_EQ(back.resources, r.resources);
  EXPECT_EQ(back.created_at, r.created_at);
  EXPECT_EQ(back.state, State::kExited);
  EXPECT_TRUE(back.HasStep(Step::kTask));
}

TEST(RecordTest, BadRecordsNameTheField) {
  EXPECT_THAT(RecordFromJson("{}"), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("record.id")));
  EXPECT_THAT(
      RecordFromJson(R"({"id":"x","state":"dancing"})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record.state")));
  EXPECT_THAT(
      RecordFromJson(R"({"id":"x","steps":["fly"]})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record.steps")));
  EXPECT_THAT(RecordFromJson(R"({"id":"x","labels":{"a":1}})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("record.labels.a")));
  EXPECT_THAT(RecordFromJson("not json"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RecordStoreTest, SavesLoadsRemovesAndQuarantines) {
  sys::RealSys sys;
  sys::TempDir tmp;
  std::string dir = tmp.Sub("containers");
  RecordStore store(sys, dir);
  ASSERT_THAT(store.Init(), IsOk());
  ContainerRecord r = Sample();
  ASSERT_THAT(store.Save(r, false), IsOk());
  // A write cut short, and a corrupt record.
  ASSERT_THAT(sys::WriteFileAtomically(sys, store.PathFor("x") + ".tmp", "{",
                                       0600, false),
              IsOk());
  ASSERT_THAT(sys::WriteFileAtomically(sys, store.PathFor(std::string(64, 'e')),
                                       "{", 0600, false),
              IsOk());
  RecordStore again(sys, dir);
  ASSERT_THAT(again.Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(RecordStore::Loaded loaded, again.LoadAll());
  ASSERT_THAT(loaded.records, SizeIs(1));
  EXPECT_EQ(RecordToJson(loaded.records[0]), RecordToJson(r));
  ASSERT_THAT(loaded.quarantined, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, sys::ListDir(dir));
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre(r.id + ".json",
                                 std::string(64, 'e') + ".json.corrupt"));
  ASSERT_THAT(again.Remove(r.id), IsOk());
  ASSERT_THAT(again.Remove(r.id), IsOk());
  ASSERT_OK_AND_ASSIGN(loaded, again.LoadAll());
  EXPECT_THAT(loaded.records, SizeIs(0));
}

}  // namespace
}  // namespace podsandbox::container
