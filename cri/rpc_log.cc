#include "cri/rpc_log.h"

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "sys/log.h"

namespace podsandbox::cri {

void LogRpc(absl::string_view method, absl::string_view pod, absl::Time start,
            const absl::Status& status) {
  const absl::Duration took = absl::Now() - start;
  if (status.ok()) {
    PSB_LOG(kInfo, "rpc=%s pod=%s code=OK duration=%s", method, pod,
            absl::FormatDuration(took));
  } else {
    PSB_LOG(kInfo, "rpc=%s pod=%s code=%s duration=%s error=%s", method, pod,
            absl::StatusCodeToString(status.code()), absl::FormatDuration(took),
            status.message());
  }
}

}  // namespace podsandbox::cri
