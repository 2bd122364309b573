// userns_harness: runs the pod user-namespace checks against a CRI
// endpoint and prints one line per check (PASS, FAIL with the observed
// value, SKIP with the reason), or one JSON document with --json.
//
// Exit status: 0 when no check FAILs, 1 when one does, 2 for bad flags or
// an endpoint that does not answer Version. Needs root: the checks read the
// pause processes' /proc files and namespaces.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "harness/checks.h"
#include "harness/cri_client.h"
#include "harness/verdict.h"

ABSL_FLAG(std::string, endpoint, "", "CRI endpoint, unix:///path/to/socket");
ABSL_FLAG(bool, json, false, "print one JSON document instead of lines");
ABSL_FLAG(std::string, checks, "",
          "comma-separated check names to run, each exact or a prefix "
          "ending in '*' (default: all)");
ABSL_FLAG(bool, list, false, "list the checks and exit");
ABSL_FLAG(std::string, runtime_handler, "",
          "CRI runtime_handler for every pod (default: the runtime's)");
ABSL_FLAG(uint32_t, host_id_base, 1u << 20,
          "first host id the checks map pods onto");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(2), "deadline of each RPC");
ABSL_FLAG(std::string, pid_mode, "pod",
          "every pod's PID namespace mode: pod, or container (what kubelet "
          "sends without shareProcessNamespace; lets a runtime run the pod "
          "without a pause)");

namespace podsandbox::harness {
namespace {

int Main() {
  absl::StatusOr<std::vector<Check>> checks =
      SelectChecks(absl::GetFlag(FLAGS_checks));
  if (!checks.ok()) {
    fprintf(stderr, "userns_harness: %s\n",
            std::string(checks.status().message()).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_list)) {
    for (const Check& check : *checks) {
      printf("%-28s %s\n", check.name, check.summary);
    }
    return 0;
  }
  const std::string endpoint = absl::GetFlag(FLAGS_endpoint);
  if (endpoint.empty()) {
    fprintf(stderr, "userns_harness: --endpoint is required\n");
    return 2;
  }
  if (geteuid() != 0) {
    // Without root the /proc reads fail and every check would FAIL for a
    // reason that has nothing to do with the runtime.
    fprintf(stderr, "userns_harness: run as root\n");
    return 2;
  }
  HarnessOptions options;
  const std::string pid_mode = absl::GetFlag(FLAGS_pid_mode);
  if (pid_mode == "container") {
    options.pid_mode = runtime::v1::CONTAINER;
  } else if (pid_mode != "pod") {
    fprintf(stderr, "userns_harness: --pid_mode: must be pod or container\n");
    return 2;
  }
  options.runtime_handler = absl::GetFlag(FLAGS_runtime_handler);
  options.host_id_base = absl::GetFlag(FLAGS_host_id_base);
  options.rpc_timeout = absl::GetFlag(FLAGS_timeout);
  CriClient client(endpoint, options.rpc_timeout);
  absl::StatusOr<runtime::v1::VersionResponse> version = client.Version();
  if (!version.ok()) {
    fprintf(stderr, "userns_harness: %s: Version: %s\n", endpoint.c_str(),
            version.status().ToString().c_str());
    return 2;
  }
  const bool json = absl::GetFlag(FLAGS_json);
  if (!json) {
    printf("runtime %s %s at %s\n", version->runtime_name().c_str(),
           version->runtime_version().c_str(), endpoint.c_str());
  }
  size_t width = 0;
  for (const Check& check : *checks) {
    width = std::max(width, std::string(check.name).size());
  }
  std::vector<CheckResult> results;
  for (const Check& check : *checks) {
    results.push_back(RunCheck(check, client, options));
    if (!json) {
      printf("%s\n", FormatLine(results.back(), width).c_str());
      fflush(stdout);
    }
  }
  if (json) printf("%s\n", FormatJson(results).c_str());
  return NoFailures(results) ? 0 : 1;
}

}  // namespace
}  // namespace podsandbox::harness

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "userns_harness --endpoint unix:///path [--json] [--checks a,b*]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    fprintf(stderr, "userns_harness: unexpected argument %s\n", rest[1]);
    return 2;
  }
  return podsandbox::harness::Main();
}
