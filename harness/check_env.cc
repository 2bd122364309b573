#include "harness/check_env.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "sys/status.h"

namespace podsandbox::harness {

namespace v1 = ::runtime::v1;

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
  return config;
}

absl::StatusOr<std::string> CheckEnv::Run(const v1::PodSandboxConfig& config) {
  return client_.RunPodSandbox(config, options_.runtime_handler);
}

void CheckEnv::StopAndRemove(const std::string& id) {
  for (absl::Status s :
       {client_.StopPodSandbox(id), client_.RemovePodSandbox(id)}) {
    if (!s.ok() && !absl::IsNotFound(s)) {
      cleanup_errors_.push_back(
          absl::StrCat("pod ", id.substr(0, 12), ": ", s.ToString()));
    }
  }
}

Verdict ValidRequestRefused(const absl::Status& status) {
  return Verdict::Fail(absl::StrCat("RunPodSandbox refused a valid request: ",
                                    status.ToString()));
}

absl::StatusOr<PodInfo> CheckEnv::Info(const std::string& id) {
  return client_.PodSandboxInfo(id);
}

absl::StatusOr<PodInfo> CheckEnv::PauseInfo(const std::string& id) {
  absl::StatusOr<PodInfo> info = Info(id);
  if (!info.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no verbose status info: ", info.status().ToString()));
  }
  if (!info->pid.has_value()) {
    return absl::FailedPreconditionError(
        "runtime reports no pause pid in PodSandboxStatus verbose info");
  }
  return info;
}

absl::StatusOr<pid_t> CheckEnv::PausePid(const std::string& id) {
  ASSIGN_OR_RETURN(PodInfo info, PauseInfo(id));
  return *info.pid;
}

}  // namespace podsandbox::harness
