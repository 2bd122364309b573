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
};

// A verb: its subcommand and what runs it once parsed.
struct Verb {
  CLI::App* command;
  std::function<absl::Status(CriClient&, std::ostream&)> run;
};

std::vector<Verb> AddVerbs(CLI::App& app, Flags& f) {
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
  runp->add_option("POD-CONFIG", f.runp.pod_config_path,
                   "PodSandboxConfig as protobuf JSON (crictl's pod file)")
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
                   "The pod's PodSandboxConfig JSON, for the runtime")
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

  for (Verb& verb : verbs) verb.command->footer(kGlobalFooter);
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
  std::vector<Verb> verbs = AddVerbs(app, f);

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
    return 0;
  }
  return kExitUsage;  // not reached: every subcommand is a verb
}

}  // namespace podsandbox::cri::ctl
