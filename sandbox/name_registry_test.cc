#include "sandbox/name_registry.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Field;
using ::testing::HasSubstr;

PodConfig Config(const char* hostname) {
  PodConfig config;
  config.metadata = {"web", "uid-1", "default", 2};
  config.hostname = hostname;
  return config;
}

auto ClaimIs(const char* id, bool existing) {
  return IsOkAndHolds(AllOf(Field(&NameRegistry::Claim::id, id),
                            Field(&NameRegistry::Claim::existing, existing)));
}

TEST(NameRegistryTest, KeyJoinsNameNamespaceUidAttempt) {
  EXPECT_EQ(ReservationKey(Config("a").metadata), "web default uid-1 2");
}

TEST(NameRegistryTest, FirstReservationGetsTheNewId) {
  NameRegistry names;
  EXPECT_THAT(names.Reserve("k", Config("a"), "runc", "id1"),
              ClaimIs("id1", false));
}

TEST(NameRegistryTest, SameRequestAfterCreationGetsTheHolder) {
  NameRegistry names;
  ASSERT_OK(names.Reserve("k", Config("a"), "runc", "id1").status());
  names.MarkCreated("k", "id1");
  EXPECT_THAT(names.Reserve("k", Config("a"), "runc", "id2"),
              ClaimIs("id1", true));
}

TEST(NameRegistryTest, DifferentRequestIsRefusedNamingTheHolder) {
  NameRegistry names;
  ASSERT_OK(names.Reserve("k", Config("a"), "runc", "id1").status());
  names.MarkCreated("k", "id1");
  EXPECT_THAT(names.Reserve("k", Config("b"), "runc", "id2"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("id1")));
  EXPECT_THAT(names.Reserve("k", Config("a"), "crun", "id2"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("id1")));
}

TEST(NameRegistryTest, ReleaseFreesTheNameOnlyForItsHolder) {
  NameRegistry names;
  ASSERT_OK(names.Reserve("k", Config("a"), "runc", "id1").status());
  names.Release("k", "someone-else");
  EXPECT_THAT(names.Reserve("k", Config("b"), "runc", "id2"),
              StatusIs(absl::StatusCode::kAlreadyExists));
  names.Release("k", "id1");
  EXPECT_THAT(names.Reserve("k", Config("b"), "runc", "id2"),
              ClaimIs("id2", false));
}

TEST(NameRegistryTest, RetryWaitsForTheCreationInProgress) {
  NameRegistry names;
  ASSERT_OK(names.Reserve("k", Config("a"), "runc", "id1").status());
  absl::StatusOr<NameRegistry::Claim> retry;
  absl::Notification started;
  std::thread kubelet_retry([&] {
    started.Notify();
    retry = names.Reserve("k", Config("a"), "runc", "id2");
  });
  started.WaitForNotification();
  names.MarkCreated("k", "id1");
  kubelet_retry.join();
  EXPECT_THAT(retry, ClaimIs("id1", true));
}

TEST(NameRegistryTest, RetryTakesOverWhenTheFirstCreationFails) {
  NameRegistry names;
  ASSERT_OK(names.Reserve("k", Config("a"), "runc", "id1").status());
  absl::StatusOr<NameRegistry::Claim> retry;
  std::thread kubelet_retry(
      [&] { retry = names.Reserve("k", Config("a"), "runc", "id2"); });
  names.Release("k", "id1");
  kubelet_retry.join();
  EXPECT_THAT(retry, ClaimIs("id2", false));
}

TEST(NameRegistryTest, RestoreHoldsTheNameAsCreated) {
  NameRegistry names;
  names.Restore("k", Config("a"), "runc", "id0");
  EXPECT_THAT(names.Reserve("k", Config("a"), "runc", "id1"),
              ClaimIs("id0", true));
}

TEST(NameRegistryTest, AFullNodeRefusesNewNamesUntilARelease) {
  NameRegistry names(/*max_sandboxes=*/2);
  ASSERT_OK(names.Reserve("k1", Config("a"), "runc", "id1").status());
  ASSERT_OK(names.Reserve("k2", Config("a"), "runc", "id2").status());
  names.MarkCreated("k1", "id1");
  EXPECT_THAT(names.Reserve("k3", Config("a"), "runc", "id3"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("holds 2 pod sandboxes")));
  // A retry of a held name is no new sandbox: still answered.
  EXPECT_THAT(names.Reserve("k1", Config("a"), "runc", "id4"),
              ClaimIs("id1", true));
  names.Release("k2", "id2");
  EXPECT_THAT(names.Reserve("k3", Config("a"), "runc", "id3"),
              ClaimIs("id3", false));
}

TEST(NameRegistryTest, RestoredNamesCountTowardTheLimit) {
  NameRegistry names(/*max_sandboxes=*/1);
  names.Restore("k0", Config("a"), "runc", "id0");
  EXPECT_THAT(names.Reserve("k1", Config("a"), "runc", "id1"),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

}  // namespace
}  // namespace podsandbox::sandbox
