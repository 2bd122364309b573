#include "oci/runtime_cli.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "metrics/exec_ledger.h"
#include "metrics/registry.h"
#include "nlohmann/json.hpp"
#include "sys/file.h"
#include "sys/status.h"
#include "sys/subprocess.h"

namespace podsandbox::oci {
namespace {

// Keeps error messages readable when a runtime is chatty.
constexpr size_t kMaxMessage = 4096;

// The value of msg="..." in a logfmt line, unescaped; empty if none.
std::string LogfmtMessage(absl::string_view line) {
  size_t start = line.find("msg=\"");
  if (start == absl::string_view::npos) return "";
  std::string out;
  for (size_t i = start + 5; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      out.push_back(line[++i]);
    } else if (line[i] == '"') {
      break;
    } else {
      out.push_back(line[i]);
    }
  }
  return out;
}

}  // namespace

std::string ExtractRuntimeMessage(absl::string_view output) {
  std::vector<std::string> messages;
  for (absl::string_view raw : absl::StrSplit(output, '\n')) {
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty()) continue;
    if (line.front() == '{') {
      nlohmann::json entry = nlohmann::json::parse(line, nullptr, false);
      if (!entry.is_discarded() && entry.is_object() && entry.contains("msg") &&
          entry["msg"].is_string()) {
        std::string level = entry.value("level", "error");
        if (level == "error" || level == "fatal") {
          messages.push_back(entry["msg"].get<std::string>());
        }
        continue;
      }
    }
    if (std::string msg = LogfmtMessage(line); !msg.empty()) {
      messages.push_back(std::move(msg));
      continue;
    }
    messages.push_back(std::string(line));
  }
  std::string joined = absl::StrJoin(messages, "; ");
  if (joined.size() > kMaxMessage) {
    joined = absl::StrCat("...", joined.substr(joined.size() - kMaxMessage));
  }
  return joined;
}

RuntimeCli::RuntimeCli(sys::Sys& sys, RuntimeHandler handler,
                       std::vector<std::string> not_found_markers)
    : sys_(sys),
      handler_(std::move(handler)),
      not_found_markers_(std::move(not_found_markers)) {}

sys::Command RuntimeCli::CommandFor(const RuntimeCall& call) const {
  sys::Command command;
  command.path = handler_.path;
  command.args = {handler_.path, "--root", handler_.root};
  command.args.insert(command.args.end(), handler_.extra_args.begin(),
                      handler_.extra_args.end());
  command.args.insert(command.args.end(), call.global_args.begin(),
                      call.global_args.end());
  command.args.insert(command.args.end(), call.args.begin(), call.args.end());
  // Runtimes look up helpers (newuidmap, iptables for runsc) on PATH; give
  // them a fixed one rather than the daemon's.
  command.env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  command.output_file = call.output_file;
  command.stdout_fd = call.stdout_fd;
  command.stderr_fd = call.stderr_fd;
  command.stdin_data = call.stdin_data;
  command.timeout = handler_.timeout;
  return command;
}

namespace {

// sys::RunSubprocess, observed in podsandbox_runtime_command_duration_seconds
// whatever its outcome (a runtime hung until the handler's timeout is what
// it exists to show). Labels: the handler's configured name and the verb
// (RuntimeCall::op), both chosen by us, never by a request.
absl::StatusOr<sys::SubprocessResult> RunObserved(sys::Sys& sys,
                                                  const sys::Command& command,
                                                  const std::string& runtime,
                                                  const std::string& verb) {
  static metrics::HistogramFamily& command_seconds =
      metrics::DefaultRegistry().Histogram(
          "podsandbox_runtime_command_duration_seconds",
          "OCI runtime commands, by runtime handler and verb, from exec to "
          "exit.",
          {"runtime", "verb"}, metrics::LatencyBuckets());
  const absl::Time start = absl::Now();
  absl::StatusOr<sys::SubprocessResult> result =
      sys::RunSubprocess(sys, command);
  const absl::Duration took = absl::Now() - start;
  command_seconds.Observe({runtime, verb}, absl::ToDoubleSeconds(took));
  metrics::RecordExec(metrics::ExecLedger::Kind::kRuntime, took);
  return result;
}

}  // namespace

absl::StatusOr<sys::SubprocessResult> RuntimeCli::RunRaw(
    const RuntimeCall& call, size_t output_limit,
    absl::Duration timeout) const {
  sys::Command command = CommandFor(call);
  command.output_limit = output_limit;
  if (timeout > absl::ZeroDuration()) command.timeout = timeout;
  return sys::Annotate(RunObserved(sys_, command, handler_.name, call.op),
                       absl::StrCat(handler_.name, " ", call.op, " ", call.id));
}

absl::StatusOr<std::string> RuntimeCli::Run(const RuntimeCall& call) const {
  sys::Command command = CommandFor(call);
  std::string what = absl::StrCat(handler_.name, " ", call.op, " ", call.id);
  ASSIGN_OR_RETURN(
      sys::SubprocessResult result,
      sys::Annotate(RunObserved(sys_, command, handler_.name, call.op), what));
  if (result.success()) return std::move(result.stdout_data);

  // The structured log first: for runc it holds the real cause (a fatal
  // from nsexec) where stderr has only "can't get final child's PID".
  std::string message;
  if (!call.log_file.empty()) {
    if (absl::StatusOr<std::string> log = sys::ReadFile(call.log_file);
        log.ok()) {
      message = ExtractRuntimeMessage(*log);
    }
  }
  if (message.empty() && !call.output_file.empty()) {
    if (absl::StatusOr<std::string> out = sys::ReadFile(call.output_file);
        out.ok()) {
      message = ExtractRuntimeMessage(*out);
    }
  }
  if (message.empty()) {
    message = ExtractRuntimeMessage(
        absl::StrCat(result.stderr_data, "\n", result.stdout_data));
  }
  if (message.empty()) message = "no message";
  std::string text =
      absl::StrCat(what, ": ", message, " (", sys::DescribeExit(result), ")");
  // A failed create never means "no such container", whatever it says.
  for (const std::string& marker : not_found_markers_) {
    if (call.op != "create" && absl::StrContains(message, marker)) {
      return absl::NotFoundError(text);
    }
  }
  return absl::InternalError(text);
}

absl::StatusOr<RuntimeState> RuntimeCli::ParseState(
    absl::string_view json_text) {
  nlohmann::json state = nlohmann::json::parse(json_text, nullptr, false);
  if (state.is_discarded() || !state.is_object() || !state.contains("status") ||
      !state["status"].is_string()) {
    return absl::InternalError(absl::StrCat(
        "parse runtime state: not a state object: ", json_text.substr(0, 200)));
  }
  RuntimeState out;
  out.status = state["status"].get<std::string>();
  if (state.contains("pid") && state["pid"].is_number_integer()) {
    out.pid = state["pid"].get<pid_t>();
    if (out.pid < 0) out.pid = 0;  // runsc reports -1 once stopped
  }
  if (state.contains("bundle") && state["bundle"].is_string()) {
    out.bundle = state["bundle"].get<std::string>();
  }
  return out;
}

absl::Status RuntimeCli::Start(absl::string_view id) const {
  std::string name(id);
  return Run({"start", name, {}, {"start", name}}).status();
}

absl::StatusOr<RuntimeState> RuntimeCli::State(absl::string_view id) const {
  std::string name(id);
  ASSIGN_OR_RETURN(std::string out, Run({"state", name, {}, {"state", name}}));
  return ParseState(out);
}

absl::Status RuntimeCli::Kill(absl::string_view id, int signal) const {
  std::string name(id);
  return Run({"kill", name, {}, {"kill", name, absl::StrCat(signal)}}).status();
}

absl::Status RuntimeCli::Delete(absl::string_view id) const {
  std::string name(id);
  return Run({"delete", name, {}, {"delete", "--force", name}}).status();
}

}  // namespace podsandbox::oci
