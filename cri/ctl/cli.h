// podsandboxctl's command line: crictl's verbs as CLI11 subcommands, each
// with its own --help, and crictl's flag spellings (-q/--quiet,
// -r/--runtime, -o/--output json|yaml|table, --label k=v, -s/--state,
// --name, --id). Global flags (--endpoint, -t/--timeout) go before or
// after the verb. The verbs themselves are pod_verbs.h and image_verbs.h.
//
// Exit codes, as crictl's users expect: 0 done; 1 a verb failed (an RPC's
// error, or a local one such as an unreadable pod file), printed as
// "podsandboxctl: VERB: CODE: message" with the gRPC code name; 2 a usage
// error (unknown verb or flag, bad value, missing argument), printed by
// CLI11 with a pointer to --help. --help and --version print on `out` and
// exit 0.
//
// Not thread-safe: one call per process (CLI11 reads the environment for
// PODSANDBOX_ENDPOINT).
#ifndef PODSANDBOX_CRI_CTL_CLI_H_
#define PODSANDBOX_CRI_CTL_CLI_H_

#include <ostream>

namespace podsandbox::cri::ctl {

inline constexpr char kDefaultEndpoint[] =
    "unix:///run/podsandbox/podsandboxd.sock";

// Parses `argv` (argv[0] is the program) and runs the verb, writing its
// output to `out` and errors to `err`. Returns the exit code above.
int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err);

}  // namespace podsandbox::cri::ctl

#endif  // PODSANDBOX_CRI_CTL_CLI_H_
