#include "cri/ctl/cli.h"

#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cri/client/cri_client.h"
#include "cri/ctl/container_verbs.h"
#include "cri/ctl/image_verbs.h"
#include "cri/ctl/output.h"
#include "cri/ctl/pod_verbs.h"
#include "cri/version/version.h"

namespace podsandbox::cri::ctl {
namespace {

constexpr int kExitRpcError = 1;
constexpr int kExitUsage = 2;

constexpr char kIdFooter[] =
    "An id may be any unique prefix of one, as `pods` prints them.";
constexpr char kGlobalFooter[] =
    "Global flags (--endpoint, -t/--timeout) may also follow the verb.";

// CLI11 validators report a bad value as a non-empty message; CLI11 turns
// it into a usage error naming the flag.
const CLI::Validator kDuration(
    [](std::string& text) -> std::string {
      absl::Duration d;
      if (absl::ParseDuration(text, &d) && d > absl::ZeroDuration()) return "";
      return absl::StrCat("\"", text, "\" is not a duration like 30s or 4m");
    },
    "");

const CLI::Validator kKeyValue(
    [](std::string& text) -> std::string {
      const size_t eq = text.find('=');
      if (eq != std::string::npos && eq > 0) return "";
      return absl::StrCat("\"", text, "\" is not key=value");
    },
    "");

const CLI::Validator kUserPassword(
    [](std::string& text) -> std::string {
      const size_t colon = text.find(':');
      if (colon != std::string::npos && colon > 0) return "";
      return "expects USERNAME:PASSWORD";
    },
    "");

// Adds `-o/--output` with the formats a verb supports.
CLI::Option* AddOutput(CLI::App* verb, std::string* format,
                       std::vector<std::string> formats) {
  return verb->add_option("-o,--output", *format, "Output format")
      ->type_name("FORMAT")
      ->transform(CLI::IsMember(std::move(formats), CLI::ignore_case))
      ->capture_default_str();
}

// Every flag's value, filled by parsing.
struct Flags {
  std::string endpoint;
  std::string timeout = "4m";
  std::string info_output = kJson;
  RunpOptions runp;
  std::vector<std::string> ids;
  RmpOptions rmp;
  std::string inspectp_output = kJson;
  PodsOptions pods;
  std::string pods_output = kTable;
  std::string netns_path;
  PullOptions pull;
  ImagesOptions images;
  std::string images_output = kTable;
  std::vector<std::string> image_refs;
  std::string inspecti_output = kJson;
  std::string imagefsinfo_output = kJson;
  CreateOptions create;
  std::vector<std::string> container_ids;
  int64_t stop_timeout = 0;
  RmOptions rm;
  PsOptions ps;
  std::string ps_output = kTable;
  std::string inspect_output = kJson;
  LogsOptions logs;
  ExecOptions exec;
  StatsOptions stats;
  std::string stats_output = kTable;
  StatspOptions statsp;
  std::string statsp_output = kTable;
  UpdateOptions update;
  // What the process exits with after a verb that succeeded: exec -s
  // passes on its command's exit code, as crictl does.
  int exit_code = 0;
};

// A verb: its subcommand and what runs it once parsed.
struct Verb {
  CLI::App* command;
  std::function<absl::Status(CriClient&, std::ostream&)> run;
};

// Adds `--label KEY=VALUE` (repeatable) to a verb.
void AddLabelFilter(CLI::App* verb, std::vector<std::string>* labels,
                    const char* what) {
  verb->add_option("--label", *labels,
                   absl::StrCat("Filter by ", what,
                                " label; repeat for several (all must match)"))
      ->check(kKeyValue)
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
}

constexpr char kContainerIdFooter[] =
    "An id may be any unique prefix of one, as `ps` prints them.";

// The container verbs (container_verbs.h).
void AddContainerVerbs(CLI::App& app, Flags& f, std::ostream& err,
                       std::vector<Verb>& verbs) {
  CLI::App* create =
      app.add_subcommand("create", "Create a new container in a pod sandbox");
  create->add_option("POD-ID", f.create.pod_id, "The sandbox (or a prefix)")
      ->required();
  create
      ->add_option("CONTAINER-CONFIG", f.create.container_config_path,
                   "ContainerConfig as YAML or protobuf JSON (crictl's file)")
      ->required();
  create
      ->add_option(
          "POD-CONFIG", f.create.pod_config_path,
          "The sandbox's PodSandboxConfig (YAML or JSON), as given to runp")
      ->required();
  verbs.push_back({create, [&f](CriClient& c, std::ostream& out) {
                     return Create(c, f.create, out);
                   }});

  CLI::App* start =
      app.add_subcommand("start", "Start one or more created containers");
  start->add_option("CONTAINER-ID", f.container_ids, "Containers to start")
      ->required();
  start->footer(kContainerIdFooter);
  verbs.push_back({start, [&f](CriClient& c, std::ostream& out) {
                     return Start(c, f.container_ids, out);
                   }});

  CLI::App* stop =
      app.add_subcommand("stop", "Stop one or more running containers");
  stop->add_option("CONTAINER-ID", f.container_ids, "Containers to stop")
      ->required();
  stop->add_option("-t,--timeout", f.stop_timeout,
                   "Seconds between TERM and KILL")
      ->type_name("SECONDS")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  stop->footer(kContainerIdFooter);
  verbs.push_back({stop, [&f](CriClient& c, std::ostream& out) {
                     return Stop(c, f.container_ids,
                                 absl::Seconds(f.stop_timeout), out);
                   }});

  CLI::App* rm = app.add_subcommand("rm", "Remove one or more containers");
  CLI::Option* rm_ids =
      rm->add_option("CONTAINER-ID", f.rm.ids, "Containers to remove");
  CLI::Option* rm_all =
      rm->add_flag("-a,--all", f.rm.all, "Remove every container");
  rm->add_flag("-f,--force", f.rm.force,
               "Also remove running containers (stopped at once)");
  rm_ids->excludes(rm_all);
  CLI::Option_group* rm_what = rm->add_option_group("what");
  rm_what->add_option(rm_ids);
  rm_what->add_option(rm_all);
  rm_what->require_option(1);
  rm->footer(kContainerIdFooter);
  verbs.push_back(
      {rm, [&f](CriClient& c, std::ostream& out) { return Rm(c, f.rm, out); }});

  CLI::App* ps = app.add_subcommand("ps", "List containers");
  ps->add_flag("-a,--all", f.ps.all, "Show all containers, not only running");
  ps->add_flag("-q,--quiet", f.ps.quiet, "Only display container IDs");
  ps->add_option("--id", f.ps.id, "Filter by container ID (a prefix)")
      ->type_name("ID");
  ps->add_option("-p,--pod", f.ps.pod, "Filter by pod sandbox ID (a prefix)")
      ->type_name("POD-ID");
  ps->add_option("--name", f.ps.name, "Filter by container name (a substring)")
      ->type_name("NAME");
  ps->add_option("-s,--state", f.ps.state, "Filter by container state")
      ->type_name("STATE")
      ->transform(CLI::IsMember({"created", "running", "exited", "unknown"},
                                CLI::ignore_case));
  AddLabelFilter(ps, &f.ps.labels, "container");
  ps->add_option("-n,--last", f.ps.last, "Show only the N newest containers")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  ps->add_flag_function(
      "-l,--latest", [&f](int64_t) { f.ps.last = 1; },
      "Show only the newest container");
  ps->add_flag("--no-trunc", f.ps.no_trunc, "Show full IDs");
  AddOutput(ps, &f.ps_output, {kJson, kYaml, kTable});
  verbs.push_back({ps, [&f](CriClient& c, std::ostream& out) {
                     f.ps.format = ParseOutputFormat(f.ps_output);
                     return Ps(c, f.ps, out);
                   }});

  CLI::App* inspect = app.add_subcommand(
      "inspect", "Display the status of one or more containers");
  inspect->add_option("CONTAINER-ID", f.container_ids, "Containers to inspect")
      ->required();
  AddOutput(inspect, &f.inspect_output, {kJson, kYaml});
  inspect->footer(kContainerIdFooter);
  verbs.push_back({inspect, [&f](CriClient& c, std::ostream& out) {
                     return Inspect(c, f.container_ids,
                                    ParseOutputFormat(f.inspect_output), out);
                   }});

  CLI::App* logs = app.add_subcommand(
      "logs", "Print a container's log (its CRI log file, on this host)");
  logs->add_option("CONTAINER-ID", f.logs.id, "The container")->required();
  logs->add_flag("-f,--follow", f.logs.follow,
                 "Keep printing while the container runs");
  logs->add_option("--tail", f.logs.tail, "Only the last N lines")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  logs->add_flag("-t,--timestamps", f.logs.timestamps,
                 "Show each line's timestamp");
  logs->footer(kContainerIdFooter);
  verbs.push_back({logs, [&f, &err](CriClient& c, std::ostream& out) {
                     return Logs(c, f.logs, out, err);
                   }});

  CLI::App* exec = app.add_subcommand(
      "exec",
      "Run a command in a running container and wait for it:\n"
      "  exec -s [--timeout SECONDS] CONTAINER-ID COMMAND [ARG...]");
  exec->add_flag("-s,--sync", f.exec.sync,
                 "Run through ExecSync and wait (required: podsandboxd does "
                 "not implement the streaming Exec RPC)");
  exec->add_option("--timeout", f.exec.timeout_seconds,
                   "Seconds before the runtime kills the command (0: none)")
      ->type_name("SECONDS")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  // Everything from the container id on is the id and the command, with
  // the command's own flags left alone (`exec -s ID sh -c 'ls -l'`); no
  // fallthrough, or CLI11 would hand those words to the top level first.
  exec->prefix_command();
  exec->fallthrough(false);
  exec->footer(
      "Exits with the command's exit code, as crictl does.\n"
      "An id may be any unique prefix of one, as `ps` prints them.\n"
      "Global flags (--endpoint, -t/--timeout) go before the verb.");
  verbs.push_back({exec, [&f, &err](CriClient& c, std::ostream& out) {
                     return Exec(c, f.exec, out, err, &f.exit_code);
                   }});

  CLI::App* stats = app.add_subcommand(
      "stats", "Display containers' resource usage (CPU, memory, disk)");
  stats->add_flag("-a,--all", f.stats.all,
                  "Show all containers, not only running");
  stats->add_option("--id", f.stats.id, "Filter by container ID (a prefix)")
      ->type_name("ID");
  stats->add_option("-p,--pod", f.stats.pod, "Filter by pod sandbox ID")
      ->type_name("POD-ID");
  AddLabelFilter(stats, &f.stats.labels, "container");
  stats
      ->add_option("-s,--seconds", f.stats.seconds,
                   "Seconds between the two samples CPU % is taken from")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  AddOutput(stats, &f.stats_output, {kJson, kYaml, kTable});
  verbs.push_back({stats, [&f](CriClient& c, std::ostream& out) {
                     f.stats.format = ParseOutputFormat(f.stats_output);
                     return Stats(c, f.stats, out);
                   }});

  CLI::App* statsp = app.add_subcommand(
      "statsp", "Display pod sandboxes' resource usage (CPU, memory, network)");
  statsp->add_option("--id", f.statsp.id, "Filter by pod sandbox ID")
      ->type_name("POD-ID");
  AddLabelFilter(statsp, &f.statsp.labels, "pod");
  statsp
      ->add_option("-s,--seconds", f.statsp.seconds,
                   "Seconds between the two samples CPU % is taken from")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  AddOutput(statsp, &f.statsp_output, {kJson, kYaml, kTable});
  verbs.push_back({statsp, [&f](CriClient& c, std::ostream& out) {
                     f.statsp.format = ParseOutputFormat(f.statsp_output);
                     return Statsp(c, f.statsp, out);
                   }});

  CLI::App* update = app.add_subcommand(
      "update", "Update one or more running containers' resources");
  update->add_option("CONTAINER-ID", f.update.ids, "Containers to update")
      ->required();
  update
      ->add_option_function<int64_t>(
          "--memory", [&f](const int64_t& v) { f.update.memory = v; },
          "Memory limit in bytes")
      ->type_name("BYTES")
      ->check(CLI::NonNegativeNumber);
  update
      ->add_option_function<int64_t>(
          "--cpu-quota", [&f](const int64_t& v) { f.update.cpu_quota = v; },
          "CPU CFS quota in microseconds per period (-1: none)")
      ->type_name("USEC");
  update
      ->add_option_function<int64_t>(
          "--cpu-period", [&f](const int64_t& v) { f.update.cpu_period = v; },
          "CPU CFS period in microseconds")
      ->type_name("USEC")
      ->check(CLI::NonNegativeNumber);
  update
      ->add_option_function<int64_t>(
          "--cpu-shares", [&f](const int64_t& v) { f.update.cpu_shares = v; },
          "CPU shares (relative weight)")
      ->type_name("SHARES")
      ->check(CLI::NonNegativeNumber);
  update->footer(kContainerIdFooter);
  verbs.push_back({update, [&f](CriClient& c, std::ostream& out) {
                     return Update(c, f.update, out);
                   }});
}

std::vector<Verb> AddVerbs(CLI::App& app, Flags& f, std::ostream& err) {
  std::vector<Verb> verbs;

  CLI::App* version =
      app.add_subcommand("version", "Display the runtime's version");
  verbs.push_back({version, [](CriClient& c, std::ostream& out) {
                     return Version(c, out);
                   }});

  CLI::App* info = app.add_subcommand(
      "info", "Display the runtime's status, handlers and configuration");
  AddOutput(info, &f.info_output, {kJson, kYaml});
  verbs.push_back({info, [&f](CriClient& c, std::ostream& out) {
                     return Info(c, ParseOutputFormat(f.info_output), out);
                   }});

  CLI::App* runp = app.add_subcommand("runp", "Run a new pod sandbox");
  runp->add_option(
          "POD-CONFIG", f.runp.pod_config_path,
          "PodSandboxConfig as YAML or protobuf JSON (crictl's pod file)")
      ->required();
  runp->add_option("-r,--runtime", f.runp.runtime_handler,
                   "Runtime handler to use (default: the runtime's)")
      ->type_name("HANDLER");
  verbs.push_back({runp, [&f](CriClient& c, std::ostream& out) {
                     return Runp(c, f.runp, out);
                   }});

  CLI::App* stopp =
      app.add_subcommand("stopp", "Stop one or more running pod sandboxes");
  stopp->add_option("POD-ID", f.ids, "Sandboxes to stop")->required();
  stopp->footer(kIdFooter);
  verbs.push_back({stopp, [&f](CriClient& c, std::ostream& out) {
                     return Stopp(c, f.ids, out);
                   }});

  CLI::App* rmp = app.add_subcommand("rmp", "Remove one or more pod sandboxes");
  CLI::Option* rmp_ids =
      rmp->add_option("POD-ID", f.rmp.ids, "Sandboxes to remove");
  CLI::Option* rmp_all =
      rmp->add_flag("-a,--all", f.rmp.all, "Remove every pod sandbox");
  rmp_ids->excludes(rmp_all);
  // One of the two is needed: CLI11 counts the group's options.
  CLI::Option_group* rmp_what = rmp->add_option_group("what");
  rmp_what->add_option(rmp_ids);
  rmp_what->add_option(rmp_all);
  rmp_what->require_option(1);
  rmp->footer(kIdFooter);
  verbs.push_back({rmp, [&f](CriClient& c, std::ostream& out) {
                     return Rmp(c, f.rmp, out);
                   }});

  CLI::App* inspectp = app.add_subcommand(
      "inspectp", "Display the status of one or more pod sandboxes");
  inspectp->add_option("POD-ID", f.ids, "Sandboxes to inspect")->required();
  AddOutput(inspectp, &f.inspectp_output, {kJson, kYaml, kTable});
  inspectp->footer(kIdFooter);
  verbs.push_back({inspectp, [&f](CriClient& c, std::ostream& out) {
                     return Inspectp(c, f.ids,
                                     ParseOutputFormat(f.inspectp_output), out);
                   }});

  CLI::App* pods = app.add_subcommand("pods", "List pod sandboxes");
  pods->add_flag("-q,--quiet", f.pods.quiet, "Only display pod sandbox IDs");
  pods->add_option("--id", f.pods.id, "Filter by pod sandbox ID (a prefix)")
      ->type_name("ID");
  pods->add_option("--name", f.pods.name, "Filter by pod name (a substring)")
      ->type_name("NAME");
  pods->add_option("--namespace", f.pods.pod_namespace,
                   "Filter by pod namespace (a substring)")
      ->type_name("NAMESPACE");
  pods->add_option("-s,--state", f.pods.state, "Filter by pod state")
      ->type_name("STATE")
      ->transform(CLI::IsMember({"ready", "notready"}, CLI::ignore_case));
  pods->add_option("--label", f.pods.labels,
                   "Filter by label; repeat for several (all must match)")
      ->check(kKeyValue)
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
  pods->add_option("-n,--last", f.pods.last, "Show only the N newest pods")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  pods->add_flag_function(
      "-l,--latest", [&f](int64_t) { f.pods.last = 1; },
      "Show only the newest pod");
  pods->add_flag("--no-trunc", f.pods.no_trunc, "Show full pod IDs");
  AddOutput(pods, &f.pods_output, {kJson, kYaml, kTable});
  verbs.push_back({pods, [&f](CriClient& c, std::ostream& out) {
                     f.pods.format = ParseOutputFormat(f.pods_output);
                     return Pods(c, f.pods, out);
                   }});

  CLI::App* pull = app.add_subcommand("pull", "Pull an image from a registry");
  pull->add_option("IMAGE", f.pull.image, "Image reference")->required();
  CLI::Option* creds =
      pull->add_option("--creds", f.pull.creds,
                       "Registry credentials, USERNAME:PASSWORD")
          ->check(kUserPassword)
          ->type_name("USERNAME:PASSWORD");
  CLI::Option* auth =
      pull->add_option("--auth", f.pull.auth,
                       "Registry auth: base64 of USERNAME:PASSWORD")
          ->type_name("BASE64");
  creds->excludes(auth);
  pull->add_option("-p,--pod-config", f.pull.pod_config_path,
                   "The pod's PodSandboxConfig (YAML or JSON), for the runtime")
      ->type_name("FILE");
  verbs.push_back({pull, [&f](CriClient& c, std::ostream& out) {
                     return Pull(c, f.pull, out);
                   }});

  CLI::App* images = app.add_subcommand("images", "List images");
  images->alias("image");
  images->add_option("IMAGE", f.images.image,
                     "Only this image (a reference, id or digest)");
  images->add_flag("-q,--quiet", f.images.quiet, "Only display image IDs");
  images->add_flag("--digests", f.images.digests, "Show digests");
  images->add_flag("--no-trunc", f.images.no_trunc,
                   "Show full image IDs and digests");
  AddOutput(images, &f.images_output, {kJson, kYaml, kTable});
  verbs.push_back({images, [&f](CriClient& c, std::ostream& out) {
                     f.images.format = ParseOutputFormat(f.images_output);
                     return Images(c, f.images, out);
                   }});

  CLI::App* inspecti = app.add_subcommand(
      "inspecti", "Display the status of one or more images");
  inspecti->add_option("IMAGE", f.image_refs, "Images to inspect")->required();
  AddOutput(inspecti, &f.inspecti_output, {kJson, kYaml, kTable});
  verbs.push_back({inspecti, [&f](CriClient& c, std::ostream& out) {
                     return Inspecti(c, f.image_refs,
                                     ParseOutputFormat(f.inspecti_output), out);
                   }});

  CLI::App* rmi = app.add_subcommand("rmi", "Remove one or more images");
  rmi->add_option("IMAGE", f.image_refs, "Images to remove")->required();
  verbs.push_back({rmi, [&f](CriClient& c, std::ostream& out) {
                     return Rmi(c, f.image_refs, out);
                   }});

  CLI::App* imagefsinfo =
      app.add_subcommand("imagefsinfo", "Display the image filesystem's usage");
  AddOutput(imagefsinfo, &f.imagefsinfo_output, {kJson, kYaml, kTable});
  verbs.push_back({imagefsinfo, [&f](CriClient& c, std::ostream& out) {
                     return ImageFsInfo(
                         c, ParseOutputFormat(f.imagefsinfo_output), out);
                   }});

  CLI::App* nsowner = app.add_subcommand(
      "nsowner",
      "Print the user namespace owning a network namespace (NS_GET_USERNS)");
  nsowner->add_option("NETNS-PATH", f.netns_path, "A network namespace file")
      ->required();
  verbs.push_back({nsowner, [&f](CriClient&, std::ostream& out) {
                     return NsOwner(f.netns_path, out);
                   }});

  AddContainerVerbs(app, f, err, verbs);
  for (Verb& verb : verbs) {
    if (!verb.command->get_fallthrough()) continue;  // exec says its own
    const std::string footer = verb.command->get_footer();
    verb.command->footer(footer.empty()
                             ? std::string(kGlobalFooter)
                             : absl::StrCat(footer, "\n", kGlobalFooter));
  }
  return verbs;
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err) {
  CLI::App app(
      "A crictl for pod sandboxes: talks CRI v1 to podsandboxd or "
      "any CRI runtime.",
      "podsandboxctl");
  Flags f;
  app.add_option("--endpoint,--runtime-endpoint", f.endpoint,
                 absl::StrCat("CRI endpoint, unix:///path or /path (default ",
                              kDefaultEndpoint, ")"))
      ->envname("PODSANDBOX_ENDPOINT")
      ->type_name("ENDPOINT");
  app.add_option("-t,--timeout", f.timeout,
                 "Deadline of each RPC (runp waits for CNI and the runtime)")
      ->check(kDuration)
      ->type_name("DURATION")
      ->capture_default_str();
  std::string version_text = version::VersionText("podsandboxctl");
  version_text.pop_back();  // CLI11 ends the text with its own newline
  app.set_version_flag("--version", version_text);
  // At most one verb; none is handled below (help on stderr, exit 2), and
  // an unknown one is CLI11's "argument was not expected".
  app.require_subcommand(0, 1);
  // Global flags after the verb reach the app, as crictl allows.
  app.fallthrough();
  std::vector<Verb> verbs = AddVerbs(app, f, err);

  // CLI11 reports every parse outcome other than success (errors, --help,
  // --version) by throwing CLI::ParseError. This is the project's one
  // catch (STYLE.md forbids exceptions in our code): it is CLI11's only
  // interface, and app.exit() turns the exception into its message and an
  // exit code right here, so nothing else ever sees one.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? 0 : kExitUsage;
  }

  if (app.get_subcommands().empty()) {
    err << app.help();
    return kExitUsage;
  }
  absl::Duration timeout = absl::Minutes(4);
  if (!absl::ParseDuration(f.timeout, &timeout)) {
    return kExitUsage;  // kDuration accepted it during the parse
  }
  // exec's id and command come unparsed (prefix_command above).
  for (const Verb& verb : verbs) {
    if (verb.command->get_name() != "exec" || !verb.command->parsed()) {
      continue;
    }
    std::vector<std::string> rest = verb.command->remaining();
    if (rest.empty()) {
      err << "podsandboxctl exec: a CONTAINER-ID is required\n"
             "Run with --help for more information.\n";
      return kExitUsage;
    }
    if (absl::StartsWith(rest[0], "-")) {
      err << "podsandboxctl exec: unknown option " << rest[0]
          << " (exec's options go before the CONTAINER-ID)\n"
             "Run with --help for more information.\n";
      return kExitUsage;
    }
    f.exec.id = rest[0];
    rest.erase(rest.begin());
    if (!rest.empty() && rest[0] == "--") rest.erase(rest.begin());
    if (rest.empty()) {
      err << "podsandboxctl exec: a COMMAND is required\n"
             "Run with --help for more information.\n";
      return kExitUsage;
    }
    f.exec.cmd = std::move(rest);
  }
  const std::string endpoint =
      f.endpoint.empty() ? kDefaultEndpoint : f.endpoint;
  CriClient client(endpoint, timeout);
  for (const Verb& verb : verbs) {
    if (!verb.command->parsed()) continue;
    if (absl::Status s = verb.run(client, out); !s.ok()) {
      err << "podsandboxctl: " << verb.command->get_name() << ": "
          << absl::StatusCodeToString(s.code()) << ": " << s.message() << "\n";
      return kExitRpcError;
    }
    return f.exit_code;
  }
  return kExitUsage;  // not reached: every subcommand is a verb
}

}  // namespace podsandbox::cri::ctl
