#include "harness/check_env.h"

#include <time.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "harness/kernel_view.h"
#include "harness/pin_probe.h"
#include "netns/namespace_file.h"
#include "sys/proc.h"
#include "sys/status.h"

namespace podsandbox::harness {

namespace v1 = ::runtime::v1;

namespace {

// Whether namespace `type` of `pid` is the one pinned at `path`; a reason
// to distrust the pid when not.
std::optional<std::string> NotAt(pid_t pid, absl::string_view type,
                                 const std::string& path) {
  absl::StatusOr<netns::NamespaceId> reported = netns::IdOfPath(path);
  if (!reported.ok()) {
    return absl::StrCat("the reported ", type, " namespace path ", path,
                        " cannot be read (", reported.status().ToString(), ")");
  }
  absl::StatusOr<netns::NamespaceId> actual = NamespaceOf(pid, type);
  if (!actual.ok()) {
    return absl::StrCat("its ", type, " namespace cannot be read (",
                        actual.status().ToString(), ")");
  }
  if (*actual == *reported) return std::nullopt;
  return absl::StrCat("its ", type, " namespace ", NamespaceName(type, *actual),
                      " is not the reported ", path, " (",
                      NamespaceName(type, *reported), ")");
}

}  // namespace

uint64_t MonotonicClockTicks() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t hz = static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
  return static_cast<uint64_t>(now.tv_sec) * hz +
         static_cast<uint64_t>(now.tv_nsec) / (1000000000ull / hz);
}

absl::Status VerifyPauseOfPod(const std::string& id, const PodInfo& info,
                              const v1::PodSandboxConfig* config,
                              std::optional<uint64_t> run_called_at) {
  if (!info.pid.has_value()) {
    return absl::FailedPreconditionError("no pause pid reported");
  }
  const pid_t pid = *info.pid;
  const std::string whose =
      info.infra == "none"
          ? absl::StrCat("probe ", pid, " in the pins of pod ",
                         id.substr(0, 12))
          : absl::StrCat("pid ", pid, " reported for pod ", id.substr(0, 12));
  absl::StatusOr<sys::ProcStat> stat = sys::ReadProcStat(pid);
  if (!stat.ok() || stat->state == 'Z' || stat->state == 'X') {
    return absl::DataLossError(absl::StrCat(whose, " is not a live process"));
  }
  std::vector<std::string> reasons;
  // One tick of slack for the truncation of both counts to ticks.
  if (run_called_at.has_value() && stat->start_time + 1 < *run_called_at) {
    reasons.push_back(absl::StrCat(
        "it started before RunPodSandbox was called (at tick ",
        stat->start_time, " after boot; the call at ", *run_called_at, ")"));
  }
  if (!info.netns_path.empty()) {
    if (auto why = NotAt(pid, "net", info.netns_path)) reasons.push_back(*why);
  }
  if (!info.userns_path.empty()) {
    if (auto why = NotAt(pid, "user", info.userns_path)) {
      reasons.push_back(*why);
    }
  }
  if (!info.uts_path.empty()) {
    if (auto why = NotAt(pid, "uts", info.uts_path)) reasons.push_back(*why);
  }
  if (!info.ipc_path.empty()) {
    if (auto why = NotAt(pid, "ipc", info.ipc_path)) reasons.push_back(*why);
  }
  const bool pod_network =
      config != nullptr &&
      config->linux().security_context().namespace_options().network() !=
          v1::NODE;
  if (pod_network && !config->hostname().empty()) {
    absl::StatusOr<netns::NamespaceId> uts = NamespaceOf(pid, "uts");
    absl::StatusOr<netns::NamespaceId> host_uts = NamespaceOf(0, "uts");
    absl::StatusOr<std::string> hostname = HostnameOf(pid);
    absl::Status unreadable = uts.status();
    unreadable.Update(host_uts.status());
    unreadable.Update(hostname.status());
    if (!unreadable.ok()) {
      reasons.push_back(absl::StrCat("its UTS namespace cannot be read (",
                                     unreadable.ToString(), ")"));
    } else if (*uts == *host_uts) {
      reasons.push_back(
          absl::StrCat("it is in the host's UTS namespace, not one with the "
                       "pod's hostname \"",
                       config->hostname(), "\""));
    } else if (*hostname != config->hostname()) {
      reasons.push_back(absl::StrCat("its hostname is \"", *hostname,
                                     "\", not the pod's \"", config->hostname(),
                                     "\""));
    }
  }
  for (const std::string& ip : info.ips) {
    absl::StatusOr<bool> has = HasAddress(pid, ip);
    if (!has.ok()) {
      reasons.push_back(absl::StrCat("pod IP ", ip, " cannot be looked up (",
                                     has.status().ToString(), ")"));
    } else if (!*has) {
      reasons.push_back(
          absl::StrCat("pod IP ", ip, " is on no interface of its netns"));
    }
  }
  if (reasons.empty()) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      whose, " is not that pod's pause: ", absl::StrJoin(reasons, "; ")));
}

v1::IDMapping ToCri(const userns::IdMapping& m) {
  v1::IDMapping out;
  out.set_container_id(m.container_id);
  out.set_host_id(m.host_id);
  out.set_length(m.length);
  return out;
}

void SetUserNamespace(v1::NamespaceMode mode,
                      const userns::IdMappings& mappings,
                      v1::PodSandboxConfig* config) {
  v1::UserNamespace* userns = config->mutable_linux()
                                  ->mutable_security_context()
                                  ->mutable_namespace_options()
                                  ->mutable_userns_options();
  userns->Clear();
  userns->set_mode(mode);
  for (const userns::IdMapping& m : mappings.uids) {
    *userns->add_uids() = ToCri(m);
  }
  for (const userns::IdMapping& m : mappings.gids) {
    *userns->add_gids() = ToCri(m);
  }
}

CheckEnv::CheckEnv(CriClient& client, const HarnessOptions& options,
                   absl::string_view check_name)
    : client_(client),
      options_(options),
      // Pod names must be DNS labels: no underscores.
      check_name_(absl::StrReplaceAll(check_name, {{"_", "-"}})) {}

uint32_t CheckEnv::HostBase(int slot) const {
  return options_.host_id_base + static_cast<uint32_t>(slot) * kSlotSize;
}

userns::IdMappings CheckEnv::SimpleMappings(int slot) const {
  const userns::IdMapping range{0, HostBase(slot), 65536};
  return {{range}, {range}};
}

v1::PodSandboxConfig CheckEnv::NewPod() {
  // Unique across checks, runs and concurrent harnesses on one runtime:
  // runtimes refuse a second pod with the same name, namespace, uid and
  // attempt.
  const std::string name =
      absl::StrCat(options_.name_prefix, "-", check_name_, "-", getpid(), "-",
                   ++pods_, "-", absl::ToUnixMicros(absl::Now()) % 1000000);
  v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_metadata()->set_namespace_("userns-harness");
  config.mutable_metadata()->set_uid(absl::StrCat(name, "-uid"));
  config.mutable_metadata()->set_attempt(0);
  config.set_hostname(check_name_.substr(0, 63));
  (*config.mutable_labels())["userns-harness"] = check_name_;
  config.mutable_linux()
      ->mutable_security_context()
      ->mutable_namespace_options()
      ->set_network(v1::POD);
  config.mutable_linux()
      ->mutable_security_context()
      ->mutable_namespace_options()
      ->set_pid(options_.pid_mode);
  return config;
}

absl::StatusOr<std::string> CheckEnv::Run(const v1::PodSandboxConfig& config) {
  const uint64_t called_at = MonotonicClockTicks();
  absl::StatusOr<std::string> id =
      client_.RunPodSandbox(config, options_.runtime_handler);
  if (id.ok()) {
    configs_[*id] = config;
    run_called_at_[*id] = called_at;
  }
  return id;
}

const v1::PodSandboxConfig* CheckEnv::ConfigOf(const std::string& id) const {
  auto it = configs_.find(id);
  return it == configs_.end() ? nullptr : &it->second;
}

void CheckEnv::StopAndRemove(const std::string& id) {
  EndProbe(id);
  for (absl::Status s :
       {client_.StopPodSandbox(id), client_.RemovePodSandbox(id)}) {
    if (!s.ok() && !absl::IsNotFound(s)) {
      cleanup_errors_.push_back(
          absl::StrCat("pod ", id.substr(0, 12), ": ", s.ToString()));
    }
  }
}

Verdict Unverified(const absl::Status& status) {
  if (absl::IsFailedPrecondition(status)) {
    return Verdict::Skip(std::string(status.message()));
  }
  return Verdict::Fail(std::string(status.message()));
}

Verdict ValidRequestRefused(const absl::Status& status) {
  return Verdict::Fail(absl::StrCat("RunPodSandbox refused a valid request: ",
                                    status.ToString()));
}

absl::StatusOr<PodInfo> CheckEnv::Info(const std::string& id) {
  return PodSandboxInfo(client_, id);
}

absl::StatusOr<PodInfo> CheckEnv::PauseInfo(const std::string& id) {
  const v1::PodSandboxConfig* config = ConfigOf(id);
  const bool userns_requested = config != nullptr && config->linux()
                                                         .security_context()
                                                         .namespace_options()
                                                         .has_userns_options();
  absl::StatusOr<PodInfo> info = Info(id);
  if (info.ok() && !info->pid.has_value() && info->infra == "none") {
    ASSIGN_OR_RETURN(pid_t probe, ProbePins(id, *info));
    info->pid = probe;
  } else if (!info.ok() || !info->pid.has_value()) {
    const std::string why =
        info.ok() ? "runtime reports no pause pid in PodSandboxStatus "
                    "verbose info"
                  : absl::StrCat("no verbose status info: ",
                                 info.status().ToString());
    std::vector<std::string> pins;
    if (info.ok()) {
      for (const std::string& path : {info->netns_path, info->userns_path}) {
        if (!path.empty() && IsNamespacePin(path)) pins.push_back(path);
      }
    }
    // Accepting a user namespace request and showing nothing of what came
    // of it is how a runtime that ignores the request would look.
    if (userns_requested && pins.empty()) {
      return absl::DataLossError(absl::StrCat(
          "accepted a user namespace request but reports nothing checkable (",
          why, "; no pinned namespace path)"));
    }
    return absl::FailedPreconditionError(
        pins.empty()
            ? why
            : absl::StrCat(why, " (only pins: ", absl::StrJoin(pins, ", "),
                           ")"));
  }
  auto called_at = run_called_at_.find(id);
  RETURN_IF_ERROR(
      VerifyPauseOfPod(id, *info, config,
                       called_at == run_called_at_.end()
                           ? std::nullopt
                           : std::optional<uint64_t>(called_at->second)));
  return info;
}

absl::StatusOr<pid_t> CheckEnv::ProbePins(const std::string& id,
                                          const PodInfo& info) {
  if (auto it = probes_.find(id); it != probes_.end()) {
    return it->second->pid();
  }
  const v1::PodSandboxConfig* config = ConfigOf(id);
  const bool userns_requested = config != nullptr && config->linux()
                                                         .security_context()
                                                         .namespace_options()
                                                         .has_userns_options();
  std::vector<std::string> missing;
  if (userns_requested && info.userns_path.empty()) {
    missing.push_back("userNamespace.path");
  }
  for (const auto& [key, path] :
       {std::pair{"netNamespacePath", &info.netns_path},
        {"utsNamespacePath", &info.uts_path},
        {"ipcNamespacePath", &info.ipc_path}}) {
    if (path->empty()) missing.push_back(key);
  }
  const std::string pod = id.substr(0, 12);
  if (!missing.empty()) {
    return absl::DataLossError(absl::StrCat(
        "pod ", pod, " reports \"infra\": \"none\" (no pause) but not ",
        absl::StrJoin(missing, ", ")));
  }
  absl::StatusOr<std::unique_ptr<PinProbe>> probe = PinProbe::Start(
      {info.userns_path, info.netns_path, info.uts_path, info.ipc_path});
  if (!probe.ok()) {
    return absl::DataLossError(absl::StrCat(
        "pod ", pod,
        " has no pause (\"infra\": \"none\") and its pins cannot be "
        "joined from inside its user namespace: ",
        probe.status().ToString()));
  }
  const pid_t pid = (*probe)->pid();
  std::vector<std::string> pins;
  for (const std::string* path :
       {&info.userns_path, &info.netns_path, &info.uts_path, &info.ipc_path}) {
    if (!path->empty()) pins.push_back(*path);
  }
  notes_.push_back(absl::StrCat(
      "pins (no pause): pod ", pod, " read through probe ", pid,
      ", which joined ", absl::StrJoin(pins, ", "),
      " (each but the first from inside the first) and mounted the sysfs "
      "of the pinned netns"));
  probes_[id] = *std::move(probe);
  return pid;
}

void CheckEnv::EndProbe(const std::string& id) {
  auto it = probes_.find(id);
  if (it == probes_.end()) return;
  if (absl::Status s = it->second->Stop(); !s.ok()) {
    cleanup_errors_.push_back(
        absl::StrCat("pod ", id.substr(0, 12), ": ", s.ToString()));
  }
  probes_.erase(it);
}

absl::StatusOr<pid_t> CheckEnv::PausePid(const std::string& id) {
  ASSIGN_OR_RETURN(PodInfo info, PauseInfo(id));
  return *info.pid;
}

}  // namespace podsandbox::harness
