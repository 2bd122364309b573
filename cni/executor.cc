#include "cni/executor.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "cni/plugin_stdin.h"
#include "cni/version.h"
#include "sys/json_fields.h"
#include "sys/status.h"

namespace podsandbox::cni {
namespace {

using json = nlohmann::json;

// The netns to pass to DEL: the pin, or nothing when it is gone (the spec
// makes CNI_NETNS optional for DEL, and plugins then just release what they
// hold outside the netns).
std::string NetnsForDel(const std::string& netns) {
  if (netns.empty() || ::access(netns.c_str(), F_OK) == 0 || errno != ENOENT) {
    return netns;
  }
  return "";
}

// Validates one plugin's ADD output and returns it as the next prevResult.
// A plugin that says it succeeded but gives no usable result is broken, not
// the caller: Unknown.
absl::StatusOr<json> CheckAddOutput(absl::string_view what,
                                    absl::string_view out,
                                    absl::string_view version) {
  if (out.empty()) {
    return absl::UnknownError(absl::StrCat(what, " returned no result"));
  }
  absl::StatusOr<Result> parsed = ParseResult(out, version);
  if (!parsed.ok()) {
    return absl::UnknownError(absl::StrCat(
        what, " returned an invalid result: ", parsed.status().message()));
  }
  return json::parse(out, nullptr, false);
}

absl::Status WithRollback(const absl::Status& error,
                          const absl::Status& rollback) {
  if (rollback.ok()) return error;
  return absl::Status(error.code(), absl::StrCat(error.message(),
                                                 "; rollback DEL also failed: ",
                                                 rollback.message()));
}

}  // namespace

Executor::Executor(sys::Sys& sys, std::string conf_dir,
                   std::vector<std::string> bin_dirs, std::string cache_dir,
                   absl::Duration timeout)
    : sys_(sys),
      bin_dirs_(bin_dirs),
      timeout_(timeout),
      loader_(std::move(conf_dir), std::move(bin_dirs)),
      cache_(sys, std::move(cache_dir)),
      versions_(sys) {}

absl::Status Executor::Init() { return cache_.Init(); }

PluginCall Executor::Call(const std::string& path, const char* command,
                          const Invocation& inv, std::string stdin_data) const {
  PluginCall call;
  call.path = path;
  call.command = command;
  call.container_id = inv.container_id;
  call.netns = inv.netns;
  call.ifname = inv.ifname;
  call.cni_args = JoinCniArgs(inv.cni_args);
  call.bin_dirs = bin_dirs_;
  call.stdin_data = std::move(stdin_data);
  call.timeout = timeout_;
  return call;
}

absl::StatusOr<Executor::Plan> Executor::Prepare(const NetworkConfigList& list,
                                                 bool lenient) {
  Plan plan;
  std::vector<std::vector<std::string>> supported;
  absl::Status probe_error;
  for (const PluginConfig& plugin : list.plugins) {
    ASSIGN_OR_RETURN(std::string path, FindPlugin(bin_dirs_, plugin.type));
    absl::StatusOr<std::vector<std::string>> versions =
        versions_.Supported(Call(path, "VERSION", Invocation{}, ""));
    if (versions.ok()) {
      supported.push_back(*std::move(versions));
    } else if (probe_error.ok()) {
      probe_error = versions.status();
    }
    plan.paths.push_back(std::move(path));
  }
  if (!probe_error.ok()) {
    if (!lenient) return probe_error;
    plan.version = list.cni_version;
    return plan;
  }
  ASSIGN_OR_RETURN(plan.version,
                   NegotiateVersion(list.WantedVersions(), supported));
  return plan;
}

absl::Status Executor::Ready() {
  RETURN_IF_ERROR(loader_.Ready());
  ASSIGN_OR_RETURN(std::shared_ptr<const NetworkConfigList> list,
                   loader_.Default());
  bool wants_status = false;
  for (const std::string& v : list->WantedVersions()) {
    wants_status = wants_status || SupportsStatusAndGc(v);
  }
  // Probing versions costs a plugin exec each (once per binary); only worth
  // it when STATUS could be sent at all.
  if (!wants_status) return absl::OkStatus();
  absl::StatusOr<Plan> plan = Prepare(*list, /*lenient=*/false);
  if (!plan.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("network ", list->name, ": ", plan.status().message()));
  }
  if (!SupportsStatusAndGc(plan->version)) return absl::OkStatus();
  for (size_t i = 0; i < list->plugins.size(); ++i) {
    // STATUS gets the plugin's config and CNI_PATH only.
    PluginCall call =
        Call(plan->paths[i], "STATUS", Invocation{},
             BuildPluginStdin(list->name, plan->version, list->plugins[i],
                              json(), json::object()));
    if (absl::StatusOr<std::string> out = ExecPlugin(sys_, call); !out.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("network ", list->name, ": ", out.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Result> Executor::Add(const Attachment& a) {
  RETURN_IF_ERROR(ValidateAttachment(a, /*for_del=*/false));
  ASSIGN_OR_RETURN(std::shared_ptr<const NetworkConfigList> list,
                   loader_.Default());
  std::string context = absl::StrCat("CNI ADD network ", list->name,
                                     " container ", a.container_id);
  absl::StatusOr<Plan> plan = Prepare(*list, /*lenient=*/false);
  if (!plan.ok()) return sys::Annotate(plan.status(), context);

  Invocation inv{a.container_id, a.netns,           a.ifname,
                 CniArgs(a),     CapabilityArgs(a), json()};
  // On failure, the spec wants DEL over the whole list even for plugins
  // that never ran; with no prevResult, as nothing was cached.
  auto fail = [&](const absl::Status& error) {
    Invocation del = inv;
    del.netns = NetnsForDel(inv.netns);
    return WithRollback(sys::Annotate(error, context), RunDel(*list, del));
  };
  json prev;
  std::string out;
  for (size_t i = 0; i < list->plugins.size(); ++i) {
    PluginCall call =
        Call(plan->paths[i], "ADD", inv,
             BuildPluginStdin(list->name, plan->version, list->plugins[i], prev,
                              inv.capability_args));
    absl::StatusOr<std::string> output = ExecPlugin(sys_, call);
    if (!output.ok()) return fail(output.status());
    absl::StatusOr<json> next =
        CheckAddOutput(absl::StrCat("plugin ", list->plugins[i].type, " ADD"),
                       *output, plan->version);
    if (!next.ok()) return fail(next.status());
    prev = *std::move(next);
    out = *std::move(output);
  }
  absl::StatusOr<Result> result = ParseResult(out, plan->version);
  if (!result.ok()) return fail(result.status());

  CacheEntry entry;
  entry.network_name = list->name;
  entry.container_id = a.container_id;
  entry.ifname = a.ifname;
  entry.netns = a.netns;
  entry.config = list->bytes;
  entry.cni_args = inv.cni_args;
  entry.capability_args = inv.capability_args;
  entry.result = out;
  if (absl::Status s = cache_.Write(entry); !s.ok()) {
    // Without the cache a later DEL would run blind (portmap would leave
    // its rules behind), so ADD does not stand. The write may have failed
    // after its rename (syncing the directory), so the entry may exist:
    // it is this ADD's partial work and goes with it.
    cache_.Remove(entry.network_name, entry.container_id, entry.ifname)
        .IgnoreError();  // a leftover entry only makes a later DEL retry
    return fail(sys::Annotate(s, "write CNI result cache"));
  }
  return result;
}

absl::Status Executor::RunDel(const NetworkConfigList& list,
                              const Invocation& inv) {
  ASSIGN_OR_RETURN(Plan plan, Prepare(list, /*lenient=*/true));
  absl::Status first;
  int failures = 0;
  // Every plugin gets its DEL even when one fails: each releases its own
  // resources, and stopping early would leak those of the ones before it.
  for (size_t i = list.plugins.size(); i-- > 0;) {
    PluginCall call =
        Call(plan.paths[i], "DEL", inv,
             BuildPluginStdin(list.name, plan.version, list.plugins[i],
                              inv.prev_result, inv.capability_args));
    absl::StatusOr<std::string> out = ExecPlugin(sys_, call);
    if (!out.ok()) {
      if (first.ok()) first = out.status();
      ++failures;
    }
  }
  if (failures > 1) {
    return absl::Status(first.code(),
                        absl::StrCat(first.message(), " (and ", failures - 1,
                                     " more plugins failed DEL)"));
  }
  return first;
}

absl::Status Executor::DelOne(const CacheEntry& entry,
                              const std::string& netns) {
  ASSIGN_OR_RETURN(
      NetworkConfigList list,
      ParseConfigList(entry.config,
                      cache_.PathFor(entry.network_name, entry.container_id,
                                     entry.ifname)));
  Invocation inv{entry.container_id, NetnsForDel(netns),    entry.ifname,
                 entry.cni_args,     entry.capability_args, json()};
  if (!entry.result.empty()) {
    inv.prev_result = json::parse(entry.result, nullptr, false);
    // An unusable cached result is dropped, as libcni does: DEL must
    // tolerate a missing prevResult.
    if (!inv.prev_result.is_object()) inv.prev_result = json();
  }
  RETURN_IF_ERROR(RunDel(list, inv));
  return cache_.Remove(entry.network_name, entry.container_id, entry.ifname);
}

absl::Status Executor::Del(const Attachment& a) {
  RETURN_IF_ERROR(ValidateAttachment(a, /*for_del=*/true));
  std::string context = absl::StrCat("CNI DEL container ", a.container_id);
  absl::StatusOr<CacheLookup> found = cache_.Find(a.container_id, a.ifname);
  if (!found.ok()) return sys::Annotate(found.status(), context);
  if (!found->entries.empty()) {
    absl::Status status;
    for (const CacheEntry& entry : found->entries) {
      const std::string& netns = a.netns.empty() ? entry.netns : a.netns;
      status.Update(sys::Annotate(
          DelOne(entry, netns),
          absl::StrCat(context, " network ", entry.network_name)));
    }
    return status;
  }
  // Nothing cached: ADD never finished, or DEL already ran. Run DEL with
  // today's config anyway, in case a daemon died between a plugin's ADD and
  // the cache write.
  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> list =
      loader_.Default();
  if (!list.ok()) {
    // No config and no record of an ADD: there is nothing we could undo.
    // An unreadable cache file says an ADD happened, so that is an error.
    if (found->unreadable.empty()) return absl::OkStatus();
    return sys::Annotate(list.status(), context);
  }
  Invocation inv{a.container_id, NetnsForDel(a.netns), a.ifname,
                 CniArgs(a),     CapabilityArgs(a),    json()};
  RETURN_IF_ERROR(sys::Annotate(
      RunDel(**list, inv), absl::StrCat(context, " network ", (*list)->name)));
  for (const std::string& path : found->unreadable) {
    RETURN_IF_ERROR(cache_.RemovePath(path));
  }
  return absl::OkStatus();
}

absl::Status Executor::Check(const Attachment& a) {
  RETURN_IF_ERROR(ValidateAttachment(a, /*for_del=*/false));
  std::string context = absl::StrCat("CNI CHECK container ", a.container_id);
  ASSIGN_OR_RETURN(CacheLookup found, cache_.Find(a.container_id, a.ifname));
  if (found.entries.empty()) {
    return absl::NotFoundError(
        absl::StrCat(context, ": no cached ADD for ", a.ifname));
  }
  for (const CacheEntry& entry : found.entries) {
    std::string where = absl::StrCat(context, " network ", entry.network_name);
    ASSIGN_OR_RETURN(
        NetworkConfigList list,
        ParseConfigList(entry.config,
                        cache_.PathFor(entry.network_name, entry.container_id,
                                       entry.ifname)));
    if (list.disable_check) continue;
    absl::StatusOr<Plan> plan = Prepare(list, /*lenient=*/false);
    if (!plan.ok()) return sys::Annotate(plan.status(), where);
    if (!SupportsCheck(plan->version)) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": CHECK needs CNI 0.4.0 or later, not ", plan->version));
    }
    Invocation inv{a.container_id,
                   a.netns,
                   a.ifname,
                   entry.cni_args,
                   entry.capability_args,
                   json::parse(entry.result, nullptr, false)};
    if (!inv.prev_result.is_object()) inv.prev_result = json();
    for (size_t i = 0; i < list.plugins.size(); ++i) {
      PluginCall call =
          Call(plan->paths[i], "CHECK", inv,
               BuildPluginStdin(list.name, plan->version, list.plugins[i],
                                inv.prev_result, inv.capability_args));
      absl::StatusOr<std::string> out = ExecPlugin(sys_, call);
      if (!out.ok()) return sys::Annotate(out.status(), where);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Executor::CachedContainers() const {
  ASSIGN_OR_RETURN(CacheLookup all, cache_.All());
  std::vector<std::string> ids;
  for (const CacheEntry& entry : all.entries) ids.push_back(entry.container_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace podsandbox::cni
