#include "harness/userns_checks.h"

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "harness/kernel_view.h"
#include "sys/status.h"
#include "userns/proc_maps.h"

namespace podsandbox::harness {
namespace {

namespace v1 = ::runtime::v1;
using userns::DescribeMappings;
using userns::IdMapping;
using userns::IdMappings;

bool MapsHostZero(const std::vector<IdMapping>& maps) {
  for (const IdMapping& m : maps) {
    if (m.host_id == 0 && m.length > 0) return true;
  }
  return false;
}

std::string DescribeMaps(const IdMappings& maps) {
  return absl::StrCat("uid_map \"", DescribeMappings(maps.uids),
                      "\", gid_map \"", DescribeMappings(maps.gids), "\"");
}

// Whether `pid` shares our user namespace, which the harness, run as root
// on the host, takes for the host's.
absl::StatusOr<bool> InHostUserNamespace(pid_t pid) {
  ASSIGN_OR_RETURN(netns::NamespaceId pod, NamespaceOf(pid, "user"));
  ASSIGN_OR_RETURN(netns::NamespaceId host, NamespaceOf(0, "user"));
  return pod == host;
}

// Runs a valid pod with `want` and returns CompareMaps' verdict. A refusal
// is a FAIL, or a SKIP where the request goes beyond what every runtime
// must support (`refusal_skips`).
Verdict RunAndCompare(CheckEnv& env, const IdMappings& want,
                      bool refusal_skips) {
  v1::PodSandboxConfig config = env.NewPod();
  SetUserNamespace(v1::POD, want, &config);
  absl::StatusOr<std::string> id = env.Run(config);
  if (!id.ok()) {
    const std::string what =
        absl::StrCat("RunPodSandbox refused ", DescribeMaps(want), ": ",
                     id.status().ToString());
    return refusal_skips ? Verdict::Skip(what) : Verdict::Fail(what);
  }
  absl::Cleanup remove = [&env, id = *id] { env.StopAndRemove(id); };
  absl::StatusOr<pid_t> pid = env.PausePid(*id);
  if (!pid.ok()) return Unverified(pid.status());
  return CompareMaps(*pid, want);
}

// Runs a request that must be refused.
Verdict ExpectRefused(CheckEnv& env, const v1::PodSandboxConfig& config) {
  absl::StatusOr<std::string> id = env.Run(config);
  if (!id.ok()) {
    return Verdict::Pass(absl::StrCat("refused: ", id.status().ToString()));
  }
  absl::Cleanup remove = [&env, id = *id] { env.StopAndRemove(id); };
  absl::StatusOr<pid_t> pid = env.PausePid(*id);
  if (!pid.ok()) {
    return Verdict::Fail(absl::StrCat("accepted (pod ", id->substr(0, 12),
                                      "); ", pid.status().message()));
  }
  return Verdict::Fail(DescribeAcceptedPod(*pid));
}

}  // namespace

Verdict CompareMaps(pid_t pid, const IdMappings& want) {
  absl::StatusOr<IdMappings> seen = userns::ReadProcessMaps(pid);
  if (!seen.ok()) {
    return Verdict::Fail(absl::StrCat("read maps of pause ", pid, ": ",
                                      seen.status().ToString()));
  }
  if (*seen == want) {
    return Verdict::Pass(
        absl::StrCat("pause ", pid, ": ", DescribeMaps(*seen)));
  }
  absl::StatusOr<bool> host = InHostUserNamespace(pid);
  std::string why = "maps differ";
  if (host.ok() && *host) {
    why = "accepted and ignored (pause in the host user namespace)";
  } else if (MapsHostZero(seen->uids) || MapsHostZero(seen->gids)) {
    why = "accepted and not isolated (host id 0 mapped)";
  }
  return Verdict::Fail(absl::StrCat(why, ": pause ", pid, " has ",
                                    DescribeMaps(*seen), ", want ",
                                    DescribeMaps(want)));
}

std::string DescribeAcceptedPod(pid_t pid) {
  absl::StatusOr<IdMappings> seen = userns::ReadProcessMaps(pid);
  if (!seen.ok()) {
    return absl::StrCat("accepted; reading the maps of pause ", pid,
                        " failed: ", seen.status().ToString());
  }
  absl::StatusOr<bool> host = InHostUserNamespace(pid);
  if (host.ok() && *host) {
    return absl::StrCat("accepted and ignored: pause ", pid,
                        " runs in the host user namespace, ",
                        DescribeMaps(*seen));
  }
  if (MapsHostZero(seen->uids) || MapsHostZero(seen->gids)) {
    return absl::StrCat("accepted and not isolated: pause ", pid,
                        " maps host id 0, ", DescribeMaps(*seen));
  }
  return absl::StrCat("accepted: pause ", pid, " runs with ",
                      DescribeMaps(*seen));
}

Verdict CheckMapsOneRange(CheckEnv& env) {
  return RunAndCompare(env, env.SimpleMappings(0), /*refusal_skips=*/false);
}

Verdict CheckMapsSeveralRanges(CheckEnv& env) {
  // Container ids 0 and 1..65535 from two separate host ranges, so the
  // kernel must keep two lines per map.
  const uint32_t base = env.HostBase(1);
  const std::vector<IdMapping> split = {{0, base, 1}, {1, base + 65536, 65535}};
  return RunAndCompare(env, {split, split}, /*refusal_skips=*/true);
}

Verdict CheckHostRootNotMapped(CheckEnv& env) {
  const IdMappings want = env.SimpleMappings(2);
  v1::PodSandboxConfig config = env.NewPod();
  SetUserNamespace(v1::POD, want, &config);
  absl::StatusOr<std::string> id = env.Run(config);
  if (!id.ok()) {
    return ValidRequestRefused(id.status());
  }
  absl::Cleanup remove = [&env, id = *id] { env.StopAndRemove(id); };
  absl::StatusOr<pid_t> pid = env.PausePid(*id);
  if (!pid.ok()) return Unverified(pid.status());
  absl::StatusOr<IdMappings> seen = userns::ReadProcessMaps(*pid);
  if (!seen.ok()) {
    return Verdict::Fail(absl::StrCat("read maps of pause ", *pid, ": ",
                                      seen.status().ToString()));
  }
  if (MapsHostZero(seen->uids) || MapsHostZero(seen->gids)) {
    return Verdict::Fail(absl::StrCat("host id 0 is mapped into pause ", *pid,
                                      ": ", DescribeMaps(*seen)));
  }
  return Verdict::Pass(
      absl::StrCat("host uid/gid 0 unmapped: ", DescribeMaps(*seen)));
}

Verdict CheckDisjointPodsApart(CheckEnv& env) {
  pid_t pids[2];
  std::vector<std::string> ids;
  // Declared after `ids`, so it runs while they still exist.
  absl::Cleanup remove = [&env, &ids] {
    for (const std::string& id : ids) env.StopAndRemove(id);
  };
  for (int i = 0; i < 2; ++i) {
    v1::PodSandboxConfig config = env.NewPod();
    SetUserNamespace(v1::POD, env.SimpleMappings(3 + i), &config);
    absl::StatusOr<std::string> id = env.Run(config);
    if (!id.ok()) {
      return Verdict::Fail(absl::StrCat("RunPodSandbox refused pod ", i + 1,
                                        ": ", id.status().ToString()));
    }
    ids.push_back(*id);
    absl::StatusOr<pid_t> pid = env.PausePid(*id);
    if (!pid.ok()) return Unverified(pid.status());
    pids[i] = *pid;
  }
  absl::StatusOr<netns::NamespaceId> host = NamespaceOf(0, "user");
  absl::StatusOr<netns::NamespaceId> a = NamespaceOf(pids[0], "user");
  absl::StatusOr<netns::NamespaceId> b = NamespaceOf(pids[1], "user");
  for (const auto* s : {&host, &a, &b}) {
    if (!s->ok()) {
      return Verdict::Fail(
          absl::StrCat("read user namespaces: ", s->status().ToString()));
    }
  }
  if (*a == *b) {
    return Verdict::Fail(absl::StrCat(
        "accepted and not isolated: both pods in user namespace ",
        NamespaceName("user", *a), *a == *host ? " (the host's)" : ""));
  }
  if (*a == *host || *b == *host) {
    return Verdict::Fail(absl::StrCat(
        "accepted and ignored: a pod is in the host user namespace ",
        NamespaceName("user", *host)));
  }
  return Verdict::Pass(absl::StrCat("user namespaces ",
                                    NamespaceName("user", *a), " and ",
                                    NamespaceName("user", *b)));
}

Verdict CheckRefusesModeContainer(CheckEnv& env) {
  v1::PodSandboxConfig config = env.NewPod();
  SetUserNamespace(v1::CONTAINER, env.SimpleMappings(5), &config);
  return ExpectRefused(env, config);
}

Verdict CheckRefusesOverlappingRanges(CheckEnv& env) {
  // Container ids 1000..1009 twice, from different host ids.
  const uint32_t base = env.HostBase(6);
  const std::vector<IdMapping> overlapping = {{0, base, 65536},
                                              {1000, base + 65536, 10}};
  v1::PodSandboxConfig config = env.NewPod();
  SetUserNamespace(v1::POD, {overlapping, overlapping}, &config);
  return ExpectRefused(env, config);
}

Verdict CheckRefusesZeroLength(CheckEnv& env) {
  const std::vector<IdMapping> empty = {{0, env.HostBase(7), 0}};
  v1::PodSandboxConfig config = env.NewPod();
  SetUserNamespace(v1::POD, {empty, empty}, &config);
  return ExpectRefused(env, config);
}

Verdict CheckRefusesUidsWithoutGids(CheckEnv& env) {
  v1::PodSandboxConfig config = env.NewPod();
  SetUserNamespace(v1::POD, {env.SimpleMappings(8).uids, {}}, &config);
  return ExpectRefused(env, config);
}

}  // namespace podsandbox::harness
