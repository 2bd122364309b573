// podsandboxd's command line, parsed with CLI11: the flags as the README
// spells them (--cni-bin-dir, --log-level, ...), --help listing them that
// way, and --version (version, commit, build type; cri/version). Every
// flag but --config overrides the file's value when given; a flag not
// given leaves the file's value (ConfigOverrides' unset fields).
//
// Thread-safety: ParseDaemonFlags is not reentrant (CLI11 reads the
// environment); call it once from main.
#ifndef PODSANDBOX_CRI_DAEMON_FLAGS_H_
#define PODSANDBOX_CRI_DAEMON_FLAGS_H_

#include <optional>
#include <ostream>
#include <string>

#include "cri/daemon_config.h"

namespace podsandbox::cri {

struct DaemonFlags {
  std::string config_path;  // --config; "" for none
  ConfigOverrides overrides;
};

// What the command line asks for: run with `flags`, or exit with
// `exit_code` at once (0 after --help or --version, printed on `out`; 2
// after a usage error, printed on `err`: unknown flag, missing value,
// stray argument, --log-level not one of its names).
struct DaemonCommandLine {
  std::optional<DaemonFlags> flags;
  int exit_code = 0;
};

DaemonCommandLine ParseDaemonFlags(int argc, const char* const* argv,
                                   std::ostream& out, std::ostream& err);

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_DAEMON_FLAGS_H_
