#include "cni/plugin_exec.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "metrics/exec_ledger.h"
#include "metrics/registry.h"
#include "sys/json_fields.h"
#include "sys/status.h"
#include "sys/subprocess.h"

namespace podsandbox::cni {
namespace {

// CNI error code 11: "try again later".
constexpr int kTryAgainLater = 11;
// How much stderr text goes into a message.
constexpr size_t kStderrInMessage = 4096;

// The Status for a plugin that exited non-zero. Go plugins print the error
// object on stdout (skel does); stderr is the fallback, as in libcni.
absl::Status PluginFailure(absl::string_view what,
                           const sys::SubprocessResult& r) {
  absl::StatusOr<nlohmann::json> error = sys::ParseJsonObject(r.stdout_data);
  int code = 0;
  std::string msg;
  std::string details;
  if (error.ok() && sys::OptionalInt(*error, "code", "", &code).ok() &&
      sys::OptionalString(*error, "msg", "", &msg).ok() &&
      sys::OptionalString(*error, "details", "", &details).ok() &&
      (code != 0 || !msg.empty())) {
    std::string text = absl::StrCat(what, " failed: code ", code, ": ", msg);
    if (!details.empty()) absl::StrAppend(&text, "; ", details);
    return code == kTryAgainLater ? absl::UnavailableError(text)
                                  : absl::UnknownError(text);
  }
  absl::string_view stderr_text = absl::StripAsciiWhitespace(r.stderr_data);
  if (stderr_text.empty()) {
    stderr_text = absl::StripAsciiWhitespace(r.stdout_data);
  }
  return absl::UnknownError(
      absl::StrCat(what, " failed (", sys::DescribeExit(r), ")",
                   stderr_text.empty() ? "" : ": ",
                   stderr_text.substr(0, kStderrInMessage)));
}

}  // namespace

absl::string_view PluginName(absl::string_view path) {
  size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> PluginEnvironment(const PluginCall& call) {
  std::vector<std::string> env = {absl::StrCat("CNI_COMMAND=", call.command)};
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{
                                       "CNI_CONTAINERID", call.container_id},
                                   {"CNI_NETNS", call.netns},
                                   {"CNI_IFNAME", call.ifname},
                                   {"CNI_ARGS", call.cni_args}}) {
    if (!value.empty()) env.push_back(absl::StrCat(key, "=", value));
  }
  env.push_back(absl::StrCat("CNI_PATH=", absl::StrJoin(call.bin_dirs, ":")));
  env.push_back(absl::StrCat("PATH=", kPluginPath));
  return env;
}

absl::StatusOr<std::string> ExecPlugin(sys::Sys& sys, const PluginCall& call) {
  std::string what =
      absl::StrCat("plugin ", PluginName(call.path), " ", call.command);
  sys::Command command;
  command.path = call.path;
  command.args = {call.path};
  command.env = PluginEnvironment(call);
  command.stdin_data = call.stdin_data;
  command.timeout = call.timeout;
  command.output_limit = kPluginOutputLimit;
  const absl::Time start = absl::Now();
  absl::StatusOr<sys::SubprocessResult> r = RunSubprocess(sys, command);
  // Every exec, whatever its outcome: a plugin that hangs until its
  // timeout is what this histogram exists to show.
  static metrics::HistogramFamily& exec_seconds =
      metrics::DefaultRegistry().Histogram(
          "podsandbox_cni_plugin_exec_duration_seconds",
          "CNI plugin executions, by plugin binary and CNI_COMMAND, from exec "
          "to exit.",
          {"plugin", "command"}, metrics::LatencyBuckets());
  const absl::Duration took = absl::Now() - start;
  exec_seconds.Observe({std::string(PluginName(call.path)), call.command},
                       absl::ToDoubleSeconds(took));
  metrics::RecordExec(metrics::ExecLedger::Kind::kPlugin, took);
  if (!r.ok()) return sys::Annotate(r.status(), what);
  if (!r->success()) return PluginFailure(what, *r);
  if (r->output_truncated) {
    return absl::UnknownError(absl::StrCat(
        what, ": output over ", kPluginOutputLimit, " bytes; not a result"));
  }
  return std::move(r->stdout_data);
}

}  // namespace podsandbox::cni
