// podsandboxctl's RuntimeService verbs: version, info, runp, stopp, rmp,
// inspectp, pods, and nsowner (a local check, no RPC). Each takes the
// options its subcommand parsed (cli.h validates them first: `-o` one of
// output.h's names, `--state` ready or notready, `--label` key=value) and
// writes to `out`.
//
// Ids: inspectp, stopp and rmp take an id or any unique prefix of one (as
// crictl prints them truncated): the verb lists the sandboxes and
// substitutes the one full id the prefix matches. InvalidArgument when it
// matches several; an id that matches none is passed on unchanged, so the
// runtime answers for it (Stop and Remove of an unknown id succeed, Status
// is NotFound).
//
// Errors: the RPC's status as the client returns it (cri_client.h); reading
// a pod file: NotFound, InvalidArgument when it is not PodSandboxConfig
// JSON. Not thread-safe: one verb per process.
#ifndef PODSANDBOX_CRI_CTL_POD_VERBS_H_
#define PODSANDBOX_CRI_CTL_POD_VERBS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cri/api.pb.h"
#include "cri/client/cri_client.h"
#include "cri/ctl/output.h"

namespace podsandbox::cri::ctl {

using ::podsandbox::cri::client::CriClient;

// The full id of the one sandbox `id` is a prefix of (see above); `id`
// itself when it names a sandbox or none does.
absl::StatusOr<std::string> ResolvePodId(CriClient& client,
                                         const std::string& id);

// "Version:  0.1.0\nRuntimeName:  ...": crictl's lines.
absl::Status Version(CriClient& client, std::ostream& out);

// The verbose Status: conditions, handlers, then each info entry.
absl::Status Info(CriClient& client, OutputFormat format, std::ostream& out);

// A pod file: crictl's protobuf JSON of PodSandboxConfig (original or
// lowerCamelCase field names, enums as names or numbers).
absl::StatusOr<::runtime::v1::PodSandboxConfig> ReadPodConfig(
    const std::string& path);

struct RunpOptions {
  std::string pod_config_path;
  std::string runtime_handler;  // "" for the runtime's default
};
// Prints the new sandbox's id.
absl::Status Runp(CriClient& client, const RunpOptions& options,
                  std::ostream& out);

// "Stopped sandbox ID" per id, in order; stops at the first error.
absl::Status Stopp(CriClient& client, const std::vector<std::string>& ids,
                   std::ostream& out);

struct RmpOptions {
  std::vector<std::string> ids;
  bool all = false;  // every sandbox the runtime lists
};
// "Removed sandbox ID" per id (RemovePodSandbox stops a running one).
absl::Status Rmp(CriClient& client, const RmpOptions& options,
                 std::ostream& out);

// {"status": <PodSandboxStatus>, "info": ...} per id, crictl's shape; the
// table is crictl's "ID: ..." lines.
absl::Status Inspectp(CriClient& client, const std::vector<std::string>& ids,
                      OutputFormat format, std::ostream& out);

struct PodsOptions {
  bool quiet = false;               // ids only
  std::string id;                   // id prefix
  std::string name;                 // substring of metadata.name
  std::string pod_namespace;        // substring of metadata.namespace
  std::string state;                // "", "ready" or "notready"
  std::vector<std::string> labels;  // key=value, all must match
  int last = 0;                     // newest N only; 0 for all
  bool no_trunc = false;            // full ids in the table
  OutputFormat format = OutputFormat::kTable;
};
// Newest first, as crictl lists them; JSON/YAML as {"items": [...]}.
absl::Status Pods(CriClient& client, const PodsOptions& options,
                  std::ostream& out);

// The user namespace owning a network namespace, as "user:[inode]"
// (NS_GET_USERNS on the netns file, then its /proc/self/fd link).
absl::Status NsOwner(const std::string& netns_path, std::ostream& out);

}  // namespace podsandbox::cri::ctl

#endif  // PODSANDBOX_CRI_CTL_POD_VERBS_H_
