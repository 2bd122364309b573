#include "cri/rpc_log.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "metrics/registry.h"
#include "sys/log.h"

namespace podsandbox::cri {

namespace {

// Enough for any message of ours; a longer one quotes a client's text.
constexpr size_t kMaxLoggedMessage = 1024;

}  // namespace

void LogRpc(absl::string_view method, absl::string_view pod, absl::Time start,
            const absl::Status& status) {
  const absl::Duration took = absl::Now() - start;
  const std::string code = absl::StatusCodeToString(status.code());
  // Labels are the method (one of the services' names) and the code (one
  // of 17): never the pod, which a client picks.
  static metrics::HistogramFamily& rpc_seconds =
      metrics::DefaultRegistry().Histogram(
          "podsandbox_rpc_duration_seconds",
          "CRI RPCs served, by method and gRPC status code, from receipt to "
          "answer.",
          {"method", "code"}, metrics::LatencyBuckets());
  rpc_seconds.Observe({std::string(method), code}, absl::ToDoubleSeconds(took));
  std::vector<sys::LogField> fields = {
      {"rpc", std::string(method)},
      {"pod", sys::LogSafe(pod)},
      {"code", code},
      {"duration", absl::FormatDuration(took)},
  };
  if (!status.ok()) {
    fields.emplace_back("error",
                        sys::LogSafe(status.message(), kMaxLoggedMessage));
  }
  PSB_LOG_FIELDS(kInfo, fields);
}

}  // namespace podsandbox::cri
