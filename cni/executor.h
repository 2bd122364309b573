// The CNI executor: runs the default network config list of a conf dir
// against a pinned network namespace, per the CNI spec (1.0.0; results of
// 0.3.x and 0.4.0 are read too).
//
//   Executor cni(sys, "/etc/cni/net.d", {"/usr/lib/cni"}, "/var/lib/cni",
//                absl::Seconds(30));
//   RETURN_IF_ERROR(cni.Ready());
//   ASSIGN_OR_RETURN(cni::Result r, cni.Add(attachment));  // cached
//   ...
//   RETURN_IF_ERROR(cni.Del(attachment));  // idempotent
//
// ADD runs the plugins in order, chaining prevResult; if one fails, DEL runs
// over the whole list in reverse (the spec requires DEL after a failed ADD)
// and ADD's error is returned. The final result is written to the result
// cache before ADD returns success. DEL runs in reverse with the cached
// config, arguments and result, so it undoes what ADD did even after the
// conf dir changed. CHECK is available but nothing calls it by default:
// portmap 1.1.1's CHECK fails on IPv4-only hosts.
//
// Plugin errors come back as Unknown (Unavailable for CNI code 11, "try
// again later"), naming the network, plugin, command, CNI code and message;
// a plugin that outlives the per-call timeout is killed with its whole
// process group and the call returns DeadlineExceeded.
//
// Thread-safe: operations on different containers may run in parallel (the
// plugins do their own locking). The caller must serialise the operations on
// one container (ADD, CHECK and DEL of one container id never overlap); the
// spec forbids concurrent operations on one container.
#ifndef PODSANDBOX_CNI_EXECUTOR_H_
#define PODSANDBOX_CNI_EXECUTOR_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cni/attachment.h"
#include "cni/cache.h"
#include "cni/config.h"
#include "cni/config_loader.h"
#include "cni/plugin_exec.h"
#include "cni/plugin_versions.h"
#include "cni/result.h"
#include "nlohmann/json.hpp"
#include "sys/sys.h"

namespace podsandbox::cni {

class Executor {
 public:
  // `conf_dir` is read on every call (cheaply; see ConfigLoader), plugins
  // are looked up in `bin_dirs` in order, results are cached under
  // `cache_dir`/results, and each plugin exec may take `timeout`.
  Executor(sys::Sys& sys, std::string conf_dir,
           std::vector<std::string> bin_dirs, std::string cache_dir,
           absl::Duration timeout);

  // Prepares the result cache (ResultCache::Init: removes temp files a
  // kill left). Call once at start, before any Add or Del.
  absl::Status Init();

  // OK when the conf dir has a valid default network whose plugins are all
  // installed; FailedPrecondition saying why not (naming the file). When
  // the network and every plugin speak 1.1.0, each plugin's STATUS must
  // succeed too (never sent to older plugins).
  absl::Status Ready();

  // Attaches `a` to the default network. InvalidArgument for a bad
  // attachment; FailedPrecondition when not Ready() or no common version;
  // plugin errors as above. On error nothing is cached and the rollback
  // DEL has run (its failure, if any, is appended to the message).
  absl::StatusOr<Result> Add(const Attachment& a);

  // Detaches `a` from every network its cached ADD used, or from the
  // default network when nothing is cached. Idempotent: a missing netns
  // (CNI_NETNS is then left empty, as the spec allows), a missing cache, or
  // no config at all with no cache, all succeed. The cache entry is removed
  // only after every plugin's DEL succeeded; a failed DEL keeps it for the
  // retry. Only container_id, ifname and netns of `a` are used when a cache
  // entry exists (its arguments are the ones ADD used).
  absl::Status Del(const Attachment& a);

  // The container ids that have a cached ADD: after a restart, those with
  // no sandbox are orphans to DEL.
  absl::StatusOr<std::vector<std::string>> CachedContainers() const;

  // Runs CHECK with the cached ADD's config, arguments and result. NotFound
  // without a cached ADD; OK without running anything when the list sets
  // disableCheck; FailedPrecondition below version 0.4.0.
  absl::Status Check(const Attachment& a);

 private:
  // A list ready to run: the binary of each plugin and the version to send.
  struct Plan {
    std::vector<std::string> paths;
    std::string version;
  };
  // What a DEL or CHECK run needs besides the list.
  struct Invocation {
    std::string container_id;
    std::string netns;
    std::string ifname;
    std::vector<std::pair<std::string, std::string>> cni_args;
    nlohmann::json capability_args;
    nlohmann::json prev_result;  // null for none
  };

  // Finds the binaries and negotiates the version. With `lenient` (DEL), a
  // failed VERSION probe falls back to the list's cniVersion rather than
  // stopping a cleanup.
  absl::StatusOr<Plan> Prepare(const NetworkConfigList& list, bool lenient);
  PluginCall Call(const std::string& path, const char* command,
                  const Invocation& inv, std::string stdin_data) const;
  // DEL over the list in reverse; runs every plugin and returns the first
  // error (with the count of others).
  absl::Status RunDel(const NetworkConfigList& list, const Invocation& inv);
  absl::Status DelOne(const CacheEntry& entry, const std::string& netns);

  sys::Sys& sys_;
  const std::vector<std::string> bin_dirs_;
  const absl::Duration timeout_;
  ConfigLoader loader_;
  ResultCache cache_;
  PluginVersions versions_;
};

}  // namespace podsandbox::cni

#endif  // PODSANDBOX_CNI_EXECUTOR_H_
