#include "cri/rpc_log.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "sys/log.h"

namespace podsandbox::cri {

namespace {

// Enough for any message of ours; a longer one quotes a client's text.
constexpr size_t kMaxLoggedMessage = 1024;

}  // namespace

void LogRpc(absl::string_view method, absl::string_view pod, absl::Time start,
            const absl::Status& status) {
  const absl::Duration took = absl::Now() - start;
  const std::string safe_pod = sys::LogSafe(pod);
  if (status.ok()) {
    PSB_LOG(kInfo, "rpc=%s pod=%s code=OK duration=%s", method, safe_pod,
            absl::FormatDuration(took));
  } else {
    PSB_LOG(kInfo, "rpc=%s pod=%s code=%s duration=%s error=%s", method,
            safe_pod, absl::StatusCodeToString(status.code()),
            absl::FormatDuration(took),
            sys::LogSafe(status.message(), kMaxLoggedMessage));
  }
}

}  // namespace podsandbox::cri
