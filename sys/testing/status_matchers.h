// gMock matchers for absl::Status and absl::StatusOr, which this abseil
// release does not ship:
//
//   EXPECT_THAT(Foo(), IsOk());
//   EXPECT_THAT(Bar(), IsOkAndHolds(Eq(3)));
//   EXPECT_THAT(Baz(), StatusIs(absl::StatusCode::kInvalidArgument,
//                               HasSubstr("uids[0].length")));
//   ASSERT_OK_AND_ASSIGN(auto ns, factory.Create(...));
#ifndef PODSANDBOX_SYS_TESTING_STATUS_MATCHERS_H_
#define PODSANDBOX_SYS_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podsandbox::sys::testing {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace internal

MATCHER(IsOk, "is OK") {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code) +
               " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

MATCHER_P(StatusIs, code, "has code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

}  // namespace podsandbox::sys::testing

#define PSB_TESTING_CONCAT_INNER_(a, b) a##b
#define PSB_TESTING_CONCAT_(a, b) PSB_TESTING_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::podsandbox::sys::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::podsandbox::sys::testing::IsOk())

// ASSERT_OK_AND_ASSIGN(T x, F()): asserts F() is OK and declares x from it.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  PSB_ASSERT_OK_AND_ASSIGN_IMPL_(       \
      PSB_TESTING_CONCAT_(psb_testing_statusor_, __LINE__), lhs, expr)
#define PSB_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  ASSERT_TRUE(statusor.ok()) << statusor.status();          \
  lhs = std::move(statusor).value()

#endif  // PODSANDBOX_SYS_TESTING_STATUS_MATCHERS_H_
