// The one log line every CRI RPC writes when it finishes, shared by the
// RuntimeService and the ImageService so that both read the same:
//
//   rpc=RunPodSandbox pod=<id or ns/name> code=OK duration=1.2s
//   rpc=PullImage pod= code=UNIMPLEMENTED duration=3us error=<message>
//
// The privileged daemon test looks for "rpc=<method> pod=<pod> code=<code>";
// keep that prefix stable.
//
// `pod` and the error message are request text (a client picks pod names,
// and messages quote fields): both go through sys::LogSafe, escaped and cut
// (pod at 256 bytes, the message at 1024), so a client cannot forge or
// flood log lines.
//
// In JSON (--log-format json) the same fields are keys of the line's
// object: {"time":...,"level":"info","source":...,"rpc":"RunPodSandbox",
// "pod":...,"code":"OK","duration":"1.2s"}.
//
// Each call also observes podsandbox_rpc_duration_seconds{method,code}
// (metrics/registry.h): every RPC passes here.
//
// Thread-safe: logging and metrics are.
#ifndef PODSANDBOX_CRI_RPC_LOG_H_
#define PODSANDBOX_CRI_RPC_LOG_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace podsandbox::cri {

// Logs `method`'s line at kInfo: `pod` (empty for RPCs about no pod), the
// status code, the time since `start`, and the message when not OK.
void LogRpc(absl::string_view method, absl::string_view pod, absl::Time start,
            const absl::Status& status);

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_RPC_LOG_H_
