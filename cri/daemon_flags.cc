#include "cri/daemon_flags.h"

#include <optional>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "cri/version/version.h"

namespace podsandbox::cri {
namespace {

constexpr int kExitUsage = 2;

// A flag that overrides the file's value only when given.
void AddOverride(CLI::App& app, const std::string& name,
                 const std::string& value_name,
                 std::optional<std::string>* field,
                 const std::string& description) {
  app.add_option_function<std::string>(
         name, [field](const std::string& value) { *field = value; },
         description)
      ->type_name(value_name);
}

}  // namespace

DaemonCommandLine ParseDaemonFlags(int argc, const char* const* argv,
                                   std::ostream& out, std::ostream& err) {
  CLI::App app(
      "Serves the CRI v1 RuntimeService and ImageService for pod sandboxes "
      "on a unix socket.\nEvery flag but --config overrides the "
      "configuration file's value.",
      "podsandboxd");
  DaemonFlags flags;
  ConfigOverrides& o = flags.overrides;
  app.add_option("--config", flags.config_path, "TOML configuration file")
      ->type_name("FILE");
  AddOverride(app, "--root", "DIR", &o.root,
              "Persistent state directory (default /var/lib/podsandbox)");
  AddOverride(app, "--state", "DIR", &o.state,
              "Volatile state directory, on tmpfs (default /run/podsandbox)");
  AddOverride(app, "--listen", "SOCKET", &o.listen,
              "Unix socket to serve on (default "
              "/run/podsandbox/podsandboxd.sock)");
  AddOverride(app, "--socket-group", "GROUP", &o.socket_group,
              "Group (name or gid) owning the socket (default root)");
  AddOverride(app, "--cni-conf-dir", "DIR", &o.cni_conf_dir,
              "CNI network configuration directory (default /etc/cni/net.d)");
  AddOverride(app, "--cni-bin-dir", "DIRS", &o.cni_bin_dirs,
              "Colon-separated CNI plugin directories (default "
              "/opt/cni/bin:/usr/lib/cni)");
  AddOverride(app, "--default-runtime", "HANDLER", &o.default_runtime,
              "Runtime handler for requests that name none (default runc)");
  AddOverride(app, "--pause-binary", "FILE", &o.pause_binary,
              "The static pause binary (default: the one built beside us)");
  AddOverride(app, "--keeper-binary", "FILE", &o.keeper_binary,
              "podsandbox-keeper, which holds containers' pidfds and pipes "
              "across our restarts (default: the one beside us)");
  app.add_option_function<std::string>(
         "--log-level", [&o](const std::string& value) { o.log_level = value; },
         "Least severe level logged (default info)")
      ->type_name("LEVEL")
      ->transform(CLI::IsMember({"debug", "info", "warning", "error"},
                                CLI::ignore_case));
  app.add_option_function<std::string>(
         "--log-format",
         [&o](const std::string& value) { o.log_format = value; },
         "Log lines as text, or as JSON lines for log shippers (default text)")
      ->type_name("FORMAT")
      ->transform(CLI::IsMember({"text", "json"}, CLI::ignore_case));
  std::string version_text = version::VersionText("podsandboxd");
  version_text.pop_back();  // CLI11 ends the text with its own newline
  app.set_version_flag("--version", version_text);

  // CLI11 reports every parse outcome but success (errors, --help,
  // --version) only by throwing CLI::ParseError; as in cri/ctl/cli.cc, the
  // exception is caught here, where CLI11 raised it, and becomes its
  // message and an exit code.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, app.exit(e, out, err) == 0 ? 0 : kExitUsage};
  }
  return {std::move(flags), 0};
}

}  // namespace podsandbox::cri
