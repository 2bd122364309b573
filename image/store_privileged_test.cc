// The image store on a real filesystem: atomic writes, temp collection at
// Init, GC of unshared layers and blobs, leases, lookups and usage.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/digest.h"
#include "image/image_record.h"
#include "image/store.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/testing/dir_names.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::sys::testing::DirNames;
using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// A layer fill that writes one file of `size` bytes.
auto WriteFile(std::string name, size_t size) {
  return [name, size](int dir_fd) -> absl::Status {
    int fd =
        ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return absl::InternalError("openat");
    std::string data(size, 'l');
    bool ok = ::write(fd, data.data(), data.size()) ==
              static_cast<ssize_t>(data.size());
    ::close(fd);
    return ok ? absl::OkStatus() : absl::InternalError("write");
  };
}

class StoreTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    sys::LeakCheckedTest::SetUp();
    fds_before_ = DirNames("/proc/self/fd");
    ASSERT_THAT(store_.Init(), IsOk());
  }

  std::string FindLeftovers() override {
    std::string out;
    if (!DirNames(root_ + "/tmp").empty()) out += "temp files left in tmp/\n";
    if (DirNames("/proc/self/fd") != fds_before_) out += "fds leaked\n";
    return out;
  }

  // Stores a config and manifest blob and the layers, then the record.
  absl::StatusOr<ImageRecord> AddImage(Store& store, const std::string& name,
                                       const std::vector<Digest>& layers,
                                       std::vector<std::string> tags) {
    std::string config = absl::StrCat("{\"config\":\"", name, "\"}");
    std::string manifest = absl::StrCat("{\"manifest\":\"", name, "\"}");
    ImageRecord r;
    r.id = Sha256Of(config);
    r.manifest_digest = Sha256Of(manifest);
    r.repo_tags = std::move(tags);
    r.repo_digests = {absl::StrCat("docker.io/library/", name, "@",
                                   r.manifest_digest.String())};
    r.layers = layers;
    r.blobs = {r.id, r.manifest_digest};
    r.size = 1000;
    for (const Digest& l : layers) {
      absl::Status s = store.CommitLayer(l, WriteFile("f-" + l.hex, 5000));
      if (!s.ok()) return s;
    }
    absl::Status s = store.PutBlob(r.id, config);
    if (s.ok()) s = store.PutBlob(r.manifest_digest, manifest);
    if (s.ok()) s = store.PutImage(r);
    if (!s.ok()) return s;
    return r;
  }
  absl::StatusOr<ImageRecord> AddImage(const std::string& name,
                                       const std::vector<Digest>& layers,
                                       std::vector<std::string> tags = {}) {
    return AddImage(store_, name, layers, std::move(tags));
  }

  std::set<std::string> fds_before_;
  sys::RealSys real_;
  sys::TempDir tmp_;
  std::string root_ = tmp_.Sub("images");
  Store store_{real_, root_};
  Digest base_ = Sha256Of("base layer");
  Digest top_a_ = Sha256Of("top a");
  Digest top_b_ = Sha256Of("top b");
};

TEST_F(StoreTest, PutBlobRefusesContentThatDoesNotMatchItsDigest) {
  EXPECT_THAT(store_.PutBlob(Sha256Of("expected"), "tampered"),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DirNames(root_ + "/blobs/sha256"), IsEmpty());
  ASSERT_THAT(store_.PutBlob(Sha256Of("ok"), "ok"), IsOk());
  EXPECT_THAT(store_.ReadBlob(Sha256Of("ok")), IsOkAndHolds("ok"));
  EXPECT_THAT(store_.ReadBlob(Sha256Of("absent")),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(StoreTest, LookupsByIdPrefixTagAndDigest) {
  ASSERT_OK_AND_ASSIGN(
      ImageRecord a, AddImage("a", {base_, top_a_}, {"docker.io/library/a:1"}));
  ASSERT_OK_AND_ASSIGN(ImageRecord b, AddImage("b", {base_, top_b_}));
  auto id_of = [&](absl::string_view ref) -> std::string {
    absl::StatusOr<ImageRecord> r = store_.Resolve(ref);
    return r.ok() ? r->id.hex : std::string(r.status().message());
  };
  EXPECT_EQ(id_of(a.id.String()), a.id.hex);
  EXPECT_EQ(id_of(a.id.hex), a.id.hex);
  EXPECT_EQ(id_of(a.id.hex.substr(0, 12)), a.id.hex);
  EXPECT_EQ(id_of("sha256:" + b.id.hex.substr(0, 12)), b.id.hex);
  EXPECT_EQ(id_of("docker.io/library/a:1"), a.id.hex);
  EXPECT_EQ(id_of(b.repo_digests[0]), b.id.hex);
  EXPECT_THAT(store_.Resolve("docker.io/library/a:2"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_.Resolve(""), StatusIs(absl::StatusCode::kNotFound));
  // The digests' first hex digits differ: "" is no prefix match, and a
  // common prefix of both would be ambiguous.
  size_t common = 0;
  while (a.id.hex[common] == b.id.hex[common]) ++common;
  if (common > 0) {
    EXPECT_THAT(store_.Resolve(a.id.hex.substr(0, common)),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_EQ(store_.List().size(), 2u);
}

TEST_F(StoreTest, TagMovesToTheNewestImage) {
  ASSERT_OK_AND_ASSIGN(
      ImageRecord old,
      AddImage("old", {base_}, {"docker.io/library/x:latest"}));
  ASSERT_OK_AND_ASSIGN(
      ImageRecord now,
      AddImage("new", {base_}, {"docker.io/library/x:latest"}));
  ASSERT_OK_AND_ASSIGN(ImageRecord found,
                       store_.Resolve("docker.io/library/x:latest"));
  EXPECT_EQ(found.id, now.id);
  ASSERT_OK_AND_ASSIGN(ImageRecord untagged, store_.Resolve(old.id.String()));
  EXPECT_THAT(untagged.repo_tags, IsEmpty());
  // The same on disk: a fresh store reads the records back.
  Store again(real_, root_);
  ASSERT_THAT(again.Init(), IsOk());
  ASSERT_OK_AND_ASSIGN(found, again.Resolve("docker.io/library/x:latest"));
  EXPECT_EQ(found.id, now.id);
  EXPECT_EQ(found.layers, std::vector<Digest>{base_});
}

TEST_F(StoreTest, SameImageByAnotherNameKeepsBothNames) {
  ASSERT_OK_AND_ASSIGN(ImageRecord first,
                       AddImage("same", {base_}, {"docker.io/library/x:1"}));
  ASSERT_OK_AND_ASSIGN(ImageRecord stored, store_.Resolve(first.id.String()));
  ImageRecord again = first;
  again.repo_tags = {"docker.io/library/x:2"};
  again.repo_digests = {"docker.io/library/x@sha256:" + std::string(64, 'b')};
  ASSERT_THAT(store_.PutImage(again), IsOk());
  ASSERT_OK_AND_ASSIGN(ImageRecord found, store_.Resolve(first.id.String()));
  EXPECT_EQ(found.repo_tags,
            (std::vector<std::string>{"docker.io/library/x:1",
                                      "docker.io/library/x:2"}));
  EXPECT_EQ(found.repo_digests.size(), first.repo_digests.size() + 1);
  EXPECT_EQ(found.created, stored.created);
  ASSERT_THAT(store_.Resolve("docker.io/library/x:1").status(), IsOk());
}

TEST_F(StoreTest, PutImageRefusesMissingLayersAndBlobs) {
  ImageRecord r;
  r.id = Sha256Of("config");
  r.layers = {base_};
  EXPECT_THAT(store_.PutImage(r),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  r.layers = {};
  r.blobs = {r.id};
  EXPECT_THAT(store_.PutImage(r),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  r.id = Digest{};
  EXPECT_THAT(store_.PutImage(r), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DirNames(root_ + "/images"), IsEmpty());
}

TEST_F(StoreTest, RemoveImageCollectsOnlyWhatNoOtherImageUses) {
  ASSERT_OK_AND_ASSIGN(ImageRecord a, AddImage("a", {base_, top_a_}));
  ASSERT_OK_AND_ASSIGN(ImageRecord b, AddImage("b", {base_, top_b_}));
  ASSERT_THAT(store_.RemoveImage(a.id), IsOk());
  EXPECT_TRUE(store_.HasLayer(base_));
  EXPECT_TRUE(Exists(store_.LayerPath(base_) + "/f-" + base_.hex));
  EXPECT_FALSE(store_.HasLayer(top_a_));
  EXPECT_FALSE(Exists(root_ + "/layers/" + top_a_.hex));
  EXPECT_FALSE(store_.HasBlob(a.id));
  EXPECT_FALSE(store_.HasBlob(a.manifest_digest));
  EXPECT_TRUE(store_.HasBlob(b.id));
  EXPECT_THAT(store_.Resolve(a.id.String()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_.RemoveImage(a.id), StatusIs(absl::StatusCode::kNotFound));

  ASSERT_THAT(store_.RemoveImage(b.id), IsOk());
  EXPECT_THAT(DirNames(root_ + "/layers"), IsEmpty());
  EXPECT_THAT(DirNames(root_ + "/blobs/sha256"), IsEmpty());
  EXPECT_THAT(DirNames(root_ + "/images"), IsEmpty());
}

TEST_F(StoreTest, LeaseKeepsLayersAndBlobsFromGc) {
  ASSERT_OK_AND_ASSIGN(ImageRecord a, AddImage("a", {base_, top_a_}));
  {
    Store::Lease lease = store_.HoldDigests({base_, a.id});
    ASSERT_THAT(store_.RemoveImage(a.id), IsOk());
    EXPECT_TRUE(store_.HasLayer(base_));
    EXPECT_TRUE(store_.HasBlob(a.id));
    EXPECT_FALSE(store_.HasLayer(top_a_));
  }
  // Released: the next GC (here, Init's) takes them.
  Store again(real_, root_);
  ASSERT_THAT(again.Init(), IsOk());
  EXPECT_FALSE(again.HasLayer(base_));
  EXPECT_FALSE(again.HasBlob(a.id));
}

TEST_F(StoreTest, FailedFillLeavesNothingAndExistingLayerIsNotRefilled) {
  EXPECT_THAT(
      store_.CommitLayer(base_,
                         [](int dir_fd) {
                           WriteFile("partial", 10)(dir_fd).IgnoreError();
                           return absl::ResourceExhaustedError("bomb");
                         }),
      StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_FALSE(store_.HasLayer(base_));
  EXPECT_THAT(DirNames(root_ + "/layers"), IsEmpty());
  ASSERT_THAT(store_.CommitLayer(base_, WriteFile("f", 10)), IsOk());
  bool called = false;
  ASSERT_THAT(store_.CommitLayer(base_,
                                 [&](int) {
                                   called = true;
                                   return absl::OkStatus();
                                 }),
              IsOk());
  EXPECT_FALSE(called);
  EXPECT_TRUE(Exists(store_.LayerPath(base_) + "/f"));
}

TEST_F(StoreTest, ConcurrentCommitsOfOneLayerLeaveOne) {
  std::atomic<int> filled{0};
  auto fill = [&](int dir_fd) {
    ++filled;
    return WriteFile("f", 100000)(dir_fd);
  };
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = store_.CommitLayer(base_, fill); });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_THAT(s, IsOk());
  EXPECT_GE(filled.load(), 1);
  EXPECT_THAT(DirNames(root_ + "/layers"), ElementsAre(base_.hex));
  EXPECT_THAT(DirNames(store_.LayerPath(base_)), ElementsAre("f"));
}

// What a SIGKILL at any point of a pull leaves: temp files and directories
// in tmp/, and layers and blobs committed before the record was written.
// Init removes all of it, and keeps complete images.
TEST_F(StoreTest, InitCollectsWhatAKilledPullLeft) {
  ASSERT_OK_AND_ASSIGN(ImageRecord kept, AddImage("kept", {base_}));
  ASSERT_EQ(::mkdir((root_ + "/tmp/layer-1-0").c_str(), 0700), 0);
  ASSERT_THAT(
      sys::WriteFileAtomically(real_, root_ + "/tmp/layer-1-0/half", "x", 0644),
      IsOk());
  ASSERT_THAT(
      sys::WriteFileAtomically(real_, root_ + "/tmp/file-1-1", "{", 0644),
      IsOk());
  ASSERT_THAT(store_.CommitLayer(top_a_, WriteFile("f", 10)), IsOk());
  ASSERT_THAT(store_.PutBlob(Sha256Of("orphan"), "orphan"), IsOk());

  Store restarted(real_, root_);
  ASSERT_THAT(restarted.Init(), IsOk());
  EXPECT_THAT(DirNames(root_ + "/tmp"), IsEmpty());
  EXPECT_FALSE(restarted.HasLayer(top_a_));
  EXPECT_FALSE(restarted.HasBlob(Sha256Of("orphan")));
  EXPECT_THAT(DirNames(root_ + "/layers"), ElementsAre(base_.hex));
  EXPECT_THAT(restarted.List(), ElementsAre(Field(&ImageRecord::id, kept.id)));
}

// Storing an image with each of its write syscalls failed in turn: the
// error comes back, the fault fired, no record is visible (here or after a
// restart) and no temp file is left.
TEST_F(StoreTest, FailedWriteLeavesNoImageVisible) {
  ASSERT_THAT(store_.CommitLayer(base_, WriteFile("f", 10)), IsOk());
  for (sys::SysCall call : {sys::SysCall::kOpen, sys::SysCall::kWrite,
                            sys::SysCall::kFsync, sys::SysCall::kRename}) {
    int count = 0;
    {
      sys::FaultySys probe(real_);
      Store store(probe, root_);
      ASSERT_THAT(store.Init(), IsOk());
      probe.Reset();
      ASSERT_OK_AND_ASSIGN(ImageRecord r, AddImage(store, "img", {base_}, {}));
      count = probe.count(call);
      // Keep base_ for the next run: remove the record only.
      Store::Lease keep = store.HoldDigests({base_});
      ASSERT_THAT(store.RemoveImage(r.id), IsOk());
    }
    EXPECT_GT(count, 0) << sys::SysCallName(call);
    for (int n = 1; n <= count; ++n) {
      sys::FaultySys faulty(real_);
      Store store(faulty, root_);
      ASSERT_THAT(store.Init(), IsOk());
      faulty.Reset();
      faulty.FailNth(call, n, EIO);
      EXPECT_FALSE(AddImage(store, "img", {base_}, {}).ok())
          << sys::SysCallName(call) << " #" << n;
      EXPECT_EQ(faulty.fired(call), 1) << sys::SysCallName(call) << " #" << n;
      EXPECT_THAT(store.List(), IsEmpty());
      EXPECT_THAT(DirNames(root_ + "/images"), IsEmpty())
          << sys::SysCallName(call) << " #" << n;
      EXPECT_THAT(DirNames(root_ + "/tmp"), IsEmpty())
          << sys::SysCallName(call) << " #" << n;
    }
  }
}

TEST_F(StoreTest, UsageCountsLayersBlobsAndRecords) {
  ASSERT_OK_AND_ASSIGN(StoreUsage empty, store_.Usage());
  ASSERT_OK_AND_ASSIGN(ImageRecord a, AddImage("a", {base_, top_a_}));
  ASSERT_OK_AND_ASSIGN(StoreUsage used, store_.Usage());
  EXPECT_EQ(used.mountpoint, root_);
  // Two layer dirs with one 5000-byte file each (at least 2 blocks of 4K),
  // two blobs, one record.
  EXPECT_GE(used.used_bytes - empty.used_bytes, 2u * 8192);
  EXPECT_EQ(used.inodes_used - empty.inodes_used, 2u * 2 + 2 + 1);
  EXPECT_GT(used.fs_capacity_bytes, used.fs_available_bytes);
  EXPECT_GT(used.fs_inodes, 0u);
  ASSERT_THAT(store_.RemoveImage(a.id), IsOk());
  ASSERT_OK_AND_ASSIGN(StoreUsage after, store_.Usage());
  EXPECT_EQ(after.inodes_used, empty.inodes_used);
}

TEST_F(StoreTest, UsageCountsAHardlinkedFileOnce) {
  ASSERT_THAT(
      store_.CommitLayer(base_,
                         [](int dir_fd) -> absl::Status {
                           RETURN_IF_ERROR(WriteFile("a", 10000)(dir_fd));
                           if (::linkat(dir_fd, "a", dir_fd, "b", 0) != 0) {
                             return absl::InternalError("linkat");
                           }
                           return absl::OkStatus();
                         }),
      IsOk());
  ASSERT_OK_AND_ASSIGN(std::string usage, sys::ReadFile(root_ + "/layers/" +
                                                        base_.hex + "/usage"));
  // diff itself and one inode for a and b.
  EXPECT_THAT(usage, ::testing::EndsWith(" 2"));
}

}  // namespace
}  // namespace podsandbox::image
