// podsandboxctl's container verbs, with crictl's names, flags and output:
// create, start, stop, rm, ps, inspect, logs, exec (sync only), stats,
// statsp (pods) and update. Options come checked from cli.h (`-o` one of
// output.h's names, `--state` a container state, `--label` key=value).
//
// Ids: every verb taking a container id accepts any unique prefix of one
// (as `ps` prints them truncated); the verb lists the containers and
// substitutes the one full id the prefix matches. InvalidArgument when it
// matches several; an id that matches none is passed on unchanged, so the
// runtime answers for it (NotFound from podsandboxd). The pod id of
// `create` and `--pod` resolve the same way among the pods.
//
// Errors: the RPC's status as the client returns it (cri_client.h);
// reading a config file: NotFound, InvalidArgument when it is not the
// message's protobuf JSON; `rm` of a running container without --force:
// FailedPrecondition (crictl's rule); `logs` of a container whose log file
// is unreadable: the open's errno status; `exec` without --sync:
// Unimplemented, before any RPC (podsandboxd serves ExecSync only:
// streaming Exec is a later issue). Not thread-safe: one verb per process.
#ifndef PODSANDBOX_CRI_CTL_CONTAINER_VERBS_H_
#define PODSANDBOX_CRI_CTL_CONTAINER_VERBS_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cri/api.pb.h"
#include "cri/client/cri_client.h"
#include "cri/ctl/output.h"

namespace podsandbox::cri::ctl {

using ::podsandbox::cri::client::CriClient;

// A container file: the protobuf JSON of ContainerConfig, as crictl's
// (original or lowerCamelCase names, enums as names or numbers).
absl::StatusOr<::runtime::v1::ContainerConfig> ReadContainerConfig(
    const std::string& path);

struct CreateOptions {
  std::string pod_id;  // or a unique prefix
  std::string container_config_path;
  std::string pod_config_path;
};
// Prints the new container's id.
absl::Status Create(CriClient& client, const CreateOptions& options,
                    std::ostream& out);

// The id of each container started, in order; stops at the first error.
absl::Status Start(CriClient& client, const std::vector<std::string>& ids,
                   std::ostream& out);

// The id of each container stopped (TERM, KILL after `timeout`).
absl::Status Stop(CriClient& client, const std::vector<std::string>& ids,
                  absl::Duration timeout, std::ostream& out);

struct RmOptions {
  std::vector<std::string> ids;
  bool all = false;    // every container the runtime lists
  bool force = false;  // also running ones (stopped with no grace first)
};
// The id of each container removed. Without `force` a running container
// is refused (FailedPrecondition) before anything is removed.
absl::Status Rm(CriClient& client, const RmOptions& options, std::ostream& out);

struct PsOptions {
  bool all = false;                 // not only running containers
  bool quiet = false;               // ids only
  std::string id;                   // id prefix
  std::string pod;                  // pod id (or a prefix of one)
  std::string name;                 // substring of metadata.name
  std::string state;                // created, running, exited, unknown
  std::vector<std::string> labels;  // key=value, all must match
  int last = 0;                     // newest N only; 0 for all
  bool no_trunc = false;
  OutputFormat format = OutputFormat::kTable;
};
// Newest first. The table is crictl's: CONTAINER, IMAGE, CREATED, STATE,
// NAME, ATTEMPT, POD ID, POD; JSON and YAML as {"containers": [...]}.
absl::Status Ps(CriClient& client, const PsOptions& options, std::ostream& out);

// {"status": <ContainerStatus>, "info": ...} per id (verbose status, the
// info values parsed when they are JSON), crictl's shape.
absl::Status Inspect(CriClient& client, const std::vector<std::string>& ids,
                     OutputFormat format, std::ostream& out);

struct LogsOptions {
  std::string id;
  bool follow = false;      // keep printing while the container runs
  int64_t tail = -1;        // the last N lines only; -1 for all
  bool timestamps = false;  // keep each line's RFC 3339 time
};
// The container's CRI log file (ContainerStatus's log_path, read on this
// host as crictl does): stdout lines to `out`, stderr lines to `err`,
// partial lines ("P") joined to the next. With `follow`, polls the file
// until the container is no longer running and the file has no more.
absl::Status Logs(CriClient& client, const LogsOptions& options,
                  std::ostream& out, std::ostream& err);

struct ExecOptions {
  bool sync = false;
  int64_t timeout_seconds = 0;  // 0: no timeout
  std::string id;
  std::vector<std::string> cmd;
};
// ExecSync: the command's stdout to `out`, its stderr to `err`, and its
// exit code in `*exit_code` (podsandboxctl exits with it, as crictl).
absl::Status Exec(CriClient& client, const ExecOptions& options,
                  std::ostream& out, std::ostream& err, int* exit_code);

struct StatsOptions {
  bool all = false;  // not only running containers
  std::string id;    // id prefix
  std::string pod;   // pod id (or a prefix of one)
  std::vector<std::string> labels;
  int64_t seconds = 1;  // between the two samples CPU % is taken from
  OutputFormat format = OutputFormat::kTable;
};
// The table is crictl's: CONTAINER, NAME, CPU % (over `seconds`), MEM
// (working set), DISK (writable layer), INODES; JSON and YAML as
// {"stats": [...]} of one sample.
absl::Status Stats(CriClient& client, const StatsOptions& options,
                   std::ostream& out);

struct StatspOptions {
  std::string id;  // pod id prefix
  std::vector<std::string> labels;
  int64_t seconds = 1;
  OutputFormat format = OutputFormat::kTable;
};
// Pod stats: POD, POD ID, CPU %, MEM, and the default interface's RX and
// TX bytes; JSON and YAML as {"stats": [...]}.
absl::Status Statsp(CriClient& client, const StatspOptions& options,
                    std::ostream& out);

struct UpdateOptions {
  std::vector<std::string> ids;
  std::optional<int64_t> memory;  // bytes
  std::optional<int64_t> cpu_quota;
  std::optional<int64_t> cpu_period;
  std::optional<int64_t> cpu_shares;
};
// UpdateContainerResources with the fields given over the resources
// ContainerStatus reports (the CRI request replaces them all); the id of
// each container updated.
absl::Status Update(CriClient& client, const UpdateOptions& options,
                    std::ostream& out);

}  // namespace podsandbox::cri::ctl

#endif  // PODSANDBOX_CRI_CTL_CONTAINER_VERBS_H_
