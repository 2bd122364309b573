#include "sys/status.h"

#include "absl/strings/str_cat.h"

namespace podsandbox::sys {

absl::Status ErrnoErrorMessage(int err, absl::string_view message) {
  absl::Status status = absl::ErrnoToStatus(err, message);
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    return absl::InternalError(status.message());
  }
  return status;
}

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(context, ": ", status.message()));
}

}  // namespace podsandbox::sys
