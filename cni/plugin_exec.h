// Running one CNI plugin binary once, per the spec's exec protocol: an
// explicit environment (CNI_* plus PATH, which portmap needs for iptables),
// the config on stdin, the result or error object on stdout.
//
// PATH is fixed (kPluginPath), never the daemon's: plugins run as root and
// exec helpers by name, so whoever set the daemon's environment would
// otherwise choose what they run. Runtimes get the same (runtime_cli.cc),
// as runc's and CRI-O's callers do.
//
// The process handling is sys::RunSubprocess's: own process group, stdin
// written then closed, stdout and stderr polled together with a 1 MiB cap,
// SIGKILL to the whole group at the deadline, ETXTBSY retried.
//
// Thread-safe.
#ifndef PODSANDBOX_CNI_PLUGIN_EXEC_H_
#define PODSANDBOX_CNI_PLUGIN_EXEC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sys/sys.h"

namespace podsandbox::cni {

// Bytes kept of a plugin's stdout and of its stderr.
inline constexpr size_t kPluginOutputLimit = 1 << 20;

// Every plugin's PATH.
inline constexpr char kPluginPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct PluginCall {
  std::string path;     // absolute path of the binary
  std::string command;  // CNI_COMMAND: ADD, DEL, CHECK, VERSION, STATUS, GC
  // Each of the next four is left out of the environment when empty (the
  // spec: VERSION and STATUS take none of them; DEL may omit CNI_NETNS).
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::string cni_args;
  std::vector<std::string> bin_dirs;  // CNI_PATH, for delegated plugins
  std::string stdin_data;
  absl::Duration timeout = absl::Minutes(1);
};

// Runs the plugin and returns its stdout when it exits 0 (possibly empty).
// Errors, each naming the plugin and command:
// - the plugin's error object ("code 7: msg; details"), or its stderr text
//   when stdout holds none, with code Unavailable for CNI code 11 ("try
//   again later") and Unknown otherwise;
// - Unknown when it succeeded but its output went over kPluginOutputLimit;
// - DeadlineExceeded when it ran past `timeout` (its group was killed);
// - FailedPrecondition when it cannot be executed.
absl::StatusOr<std::string> ExecPlugin(sys::Sys& sys, const PluginCall& call);

// The environment ExecPlugin gives the plugin, "KEY=value" each.
std::vector<std::string> PluginEnvironment(const PluginCall& call);

// The base name of `path`, for messages ("/usr/lib/cni/bridge" -> "bridge").
absl::string_view PluginName(absl::string_view path);

}  // namespace podsandbox::cni

#endif  // PODSANDBOX_CNI_PLUGIN_EXEC_H_
