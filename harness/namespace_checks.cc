#include "harness/namespace_checks.h"

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "harness/kernel_view.h"
#include "harness/userns_checks.h"
#include "sys/proc.h"

namespace podsandbox::harness {
namespace {

namespace v1 = ::runtime::v1;

// The /sys mount of `pid` (0: ours), or a FAIL-worthy description.
absl::StatusOr<MountEntry> SysMount(pid_t pid) {
  absl::StatusOr<std::vector<MountEntry>> mounts = ReadMountInfo(pid);
  if (!mounts.ok()) return mounts.status();
  const MountEntry* sys = FindMount(*mounts, "/sys");
  if (sys == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("nothing is mounted at /sys (pid ", pid, ")"));
  }
  return *sys;
}

// The first writable mount at or below /sys in `pid`'s view, if any.
absl::StatusOr<std::string> WritableUnderSys(pid_t pid) {
  absl::StatusOr<std::vector<MountEntry>> mounts = ReadMountInfo(pid);
  if (!mounts.ok()) return mounts.status();
  for (const MountEntry& m : *mounts) {
    if ((m.mount_point == "/sys" || absl::StartsWith(m.mount_point, "/sys/")) &&
        !IsReadOnly(m)) {
      return absl::StrCat(m.mount_point, " (", m.fstype, ", ", m.options, ")");
    }
  }
  return std::string();
}

}  // namespace

Verdict CheckNetnsOwnedByPodUserns(CheckEnv& env) {
  v1::PodSandboxConfig config = env.NewPod();
  SetUserNamespace(v1::POD, env.SimpleMappings(9), &config);
  absl::StatusOr<std::string> id = env.Run(config);
  if (!id.ok()) {
    return ValidRequestRefused(id.status());
  }
  absl::Cleanup remove = [&env, id = *id] { env.StopAndRemove(id); };
  absl::StatusOr<PodInfo> info = env.PauseInfo(*id);
  if (!info.ok()) return Unverified(info.status());
  const pid_t pid = *info->pid;
  const std::string net = absl::StrCat("/proc/", pid, "/ns/net");
  absl::StatusOr<netns::NamespaceId> owner = OwnerOfNetworkNamespace(net);
  absl::StatusOr<netns::NamespaceId> pod_userns = NamespaceOf(pid, "user");
  absl::StatusOr<netns::NamespaceId> host_userns = NamespaceOf(0, "user");
  for (const auto* s : {&owner, &pod_userns, &host_userns}) {
    if (!s->ok()) {
      return Verdict::Fail(absl::StrCat("inspect namespaces of pause ", pid,
                                        ": ", s->status().ToString()));
    }
  }
  if (*pod_userns == *host_userns) {
    return Verdict::Fail(absl::StrCat("accepted and not isolated: pause ", pid,
                                      " is in the host user namespace ",
                                      NamespaceName("user", *host_userns)));
  }
  if (*owner != *pod_userns) {
    return Verdict::Fail(absl::StrCat(
        "netns of pause ", pid, " is owned by ", NamespaceName("user", *owner),
        *owner == *host_userns ? " (the host's)" : "",
        ", not by the pod's user namespace ",
        NamespaceName("user", *pod_userns)));
  }
  return Verdict::Pass(absl::StrCat(
      "netns of pause ", pid, " owned by ", NamespaceName("user", *owner),
      " (the pod's; host's is ", NamespaceName("user", *host_userns), ")"));
}

Verdict JudgeSysfs(pid_t pid, const MountEntry& pod_sys,
                   absl::string_view host_device,
                   absl::string_view netns_device) {
  if (pod_sys.fstype != "sysfs") {
    return Verdict::Fail(absl::StrCat("/sys in pause ", pid, " is ",
                                      pod_sys.fstype, ", not sysfs"));
  }
  // sysfs has one superblock per network namespace: the host's device
  // means the pod sees the host's network devices (a bind, or a runtime's
  // fallback after mounting sysfs failed with EPERM).
  if (pod_sys.device == host_device) {
    return Verdict::Fail(
        absl::StrCat("/sys in pause ", pid, " is the host's sysfs (device ",
                     pod_sys.device, "), not the pod netns's"));
  }
  // Not the host's is not enough: it must be the one of the pause's own
  // netns (not, say, a sysfs of another pod's netns bound in).
  if (pod_sys.device != netns_device) {
    return Verdict::Fail(
        absl::StrCat("/sys in pause ", pid, " is sysfs ", pod_sys.device,
                     ", not the sysfs of its own netns (", netns_device, ")"));
  }
  return Verdict::Pass(absl::StrCat("/sys in pause ", pid, ": sysfs ",
                                    pod_sys.device, " of its netns (host's is ",
                                    host_device, "), ", pod_sys.options));
}

Verdict CheckSysfsMounted(CheckEnv& env) {
  v1::PodSandboxConfig config = env.NewPod();
  SetUserNamespace(v1::POD, env.SimpleMappings(10), &config);
  absl::StatusOr<std::string> id = env.Run(config);
  if (!id.ok()) {
    return ValidRequestRefused(id.status());
  }
  absl::Cleanup remove = [&env, id = *id] { env.StopAndRemove(id); };
  absl::StatusOr<pid_t> pid = env.PausePid(*id);
  if (!pid.ok()) return Unverified(pid.status());
  absl::StatusOr<MountEntry> pod = SysMount(*pid);
  if (!pod.ok()) return Verdict::Fail(std::string(pod.status().message()));
  absl::StatusOr<MountEntry> host = SysMount(0);
  if (!host.ok()) {
    return Verdict::Skip(absl::StrCat("the harness sees no host /sys: ",
                                      host.status().message()));
  }
  absl::StatusOr<std::string> own =
      SysfsDeviceOfNetns(absl::StrCat("/proc/", *pid, "/ns/net"));
  if (!own.ok()) {
    return Verdict::Fail(absl::StrCat("find the sysfs of pause ", *pid,
                                      "'s netns: ", own.status().ToString()));
  }
  return JudgeSysfs(*pid, *pod, host->device, *own);
}

Verdict CheckHostNetworkUserns(CheckEnv& env) {
  const userns::IdMappings want = env.SimpleMappings(11);
  v1::PodSandboxConfig config = env.NewPod();
  config.mutable_linux()
      ->mutable_security_context()
      ->mutable_namespace_options()
      ->set_network(v1::NODE);
  // As kubelet sends a host-network pod: no hostname, since the pod has no
  // UTS namespace of its own to set it in.
  config.clear_hostname();
  SetUserNamespace(v1::POD, want, &config);
  absl::StatusOr<std::string> id = env.Run(config);
  if (!id.ok()) {
    return Verdict::Skip(absl::StrCat(
        "runtime refused userns with host network: ", id.status().ToString()));
  }
  absl::Cleanup remove = [&env, id = *id] { env.StopAndRemove(id); };
  absl::StatusOr<pid_t> pid = env.PausePid(*id);
  if (!pid.ok()) return Unverified(pid.status());
  if (Verdict maps = CompareMaps(*pid, want); maps.outcome != Outcome::kPass) {
    return maps;
  }
  absl::StatusOr<netns::NamespaceId> pod_net = NamespaceOf(*pid, "net");
  absl::StatusOr<netns::NamespaceId> host_net = NamespaceOf(0, "net");
  if (!pod_net.ok() || !host_net.ok() || *pod_net != *host_net) {
    return Verdict::Fail(absl::StrCat("host network requested, but pause ",
                                      *pid, " is not in the host netns"));
  }
  absl::StatusOr<MountEntry> pod = SysMount(*pid);
  if (!pod.ok()) return Verdict::Fail(std::string(pod.status().message()));
  absl::StatusOr<MountEntry> host = SysMount(0);
  if (!host.ok()) {
    return Verdict::Skip(absl::StrCat("the harness sees no host /sys: ",
                                      host.status().message()));
  }
  if (pod->fstype != "sysfs" || pod->device != host->device) {
    return Verdict::Fail(absl::StrCat(
        "/sys in pause ", *pid, " is ", pod->fstype, " ", pod->device,
        ", not a bind of the host's sysfs ", host->device));
  }
  absl::StatusOr<std::string> writable = WritableUnderSys(*pid);
  if (!writable.ok()) {
    return Verdict::Fail(absl::StrCat("read mountinfo of pause ", *pid, ": ",
                                      writable.status().ToString()));
  }
  if (!writable->empty()) {
    return Verdict::Fail(
        absl::StrCat("writable under /sys in pause ", *pid, ": ", *writable));
  }
  return Verdict::Pass(absl::StrCat("pause ", *pid,
                                    ": maps held, host netns, /sys read-only "
                                    "bind of host sysfs ",
                                    host->device));
}

Verdict CheckTeardownLeavesNothing(CheckEnv& env) {
  v1::PodSandboxConfig config = env.NewPod();
  SetUserNamespace(v1::POD, env.SimpleMappings(12), &config);
  absl::StatusOr<std::string> id = env.Run(config);
  if (!id.ok()) {
    return ValidRequestRefused(id.status());
  }
  // Stays armed: if Stop or Remove below fails, this retries them.
  absl::Cleanup remove = [&env, id = *id] { env.StopAndRemove(id); };
  absl::StatusOr<PodInfo> info = env.PauseInfo(*id);
  if (!info.ok()) return Unverified(info.status());
  // A pod without a pause ("infra": "none") was read through our probe:
  // it goes first, so what holds the namespaces afterwards is the pins
  // alone, and they are what must go.
  const bool no_pause = info->infra == "none";
  const pid_t pid = *info->pid;
  if (no_pause) env.EndProbe(*id);
  absl::StatusOr<sys::ProcStat> stat = sys::ReadProcStat(pid);
  if (!no_pause && !stat.ok()) {
    return Verdict::Fail(absl::StrCat(
        "pause ", pid, " reported but not found: ", stat.status().ToString()));
  }
  std::vector<std::string> pins;
  for (const std::string& path :
       {info->netns_path, info->userns_path, info->uts_path, info->ipc_path}) {
    if (!path.empty() && IsNamespacePin(path)) pins.push_back(path);
  }
  if (absl::Status s = env.client().StopPodSandbox(*id); !s.ok()) {
    return Verdict::Fail(absl::StrCat("StopPodSandbox: ", s.ToString()));
  }
  if (absl::Status s = env.client().RemovePodSandbox(*id); !s.ok()) {
    return Verdict::Fail(absl::StrCat("RemovePodSandbox: ", s.ToString()));
  }
  // Runtimes may reap and unmount just after answering: poll, with a
  // deadline, for everything to go.
  const absl::Time deadline = absl::Now() + env.options().teardown_timeout;
  std::vector<std::string> left;
  do {
    left.clear();
    if (!no_pause && ProcessAlive(pid, stat->start_time)) {
      left.push_back(absl::StrCat("pause process ", pid));
    }
    for (const std::string& pin : pins) {
      if (IsNamespacePin(pin)) left.push_back(absl::StrCat("pinned ", pin));
    }
    if (left.empty()) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  if (!left.empty()) {
    return Verdict::Fail(absl::StrCat("after Stop and Remove, still there: ",
                                      absl::StrJoin(left, ", ")));
  }
  std::string detail =
      no_pause ? absl::StrCat("no pause (\"infra\": \"none\"), probe ", pid,
                              " reaped before Stop")
               : absl::StrCat("pause ", pid, " gone");
  if (pins.empty()) {
    absl::StrAppend(&detail, "; no pinned namespace path reported");
  } else {
    absl::StrAppend(&detail, "; unpinned ", absl::StrJoin(pins, ", "));
  }
  return Verdict::Pass(detail);
}

}  // namespace podsandbox::harness
