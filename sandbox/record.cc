#include "sandbox/record.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "sys/json_fields.h"
#include "sys/status.h"

namespace podsandbox::sandbox {
namespace {

using json = nlohmann::json;
using sys::EnumFromName;
using sys::EnumName;
using sys::OptionalBool;
using sys::OptionalInt;
using sys::OptionalInt64;
using sys::OptionalString;
using sys::OptionalStringMap;
using sys::OptionalStrings;
using sys::TimeFromUnixNanos;
using sys::TimeToUnixNanos;

constexpr sys::EnumNames<Step> kStepNames[] = {
    {Step::kNamespaces, "namespaces"},
    {Step::kNetwork, "network"},
    {Step::kPodFiles, "pod_files"},
    {Step::kTask, "task"},
    {Step::kShm, "shm"},
};

constexpr sys::EnumNames<Phase> kPhaseNames[] = {
    {Phase::kCreating, "creating"},
    {Phase::kReady, "ready"},
    {Phase::kNotReady, "not_ready"},
    {Phase::kStopped, "stopped"},
};

json MappingsToJson(const std::vector<userns::IdMapping>& list) {
  json out = json::array();
  for (const userns::IdMapping& m : list) {
    out.push_back({{"container_id", m.container_id},
                   {"host_id", m.host_id},
                   {"length", m.length}});
  }
  return out;
}

absl::Status MappingsFromJson(const json& obj, absl::string_view key,
                              absl::string_view where,
                              std::vector<userns::IdMapping>* out) {
  auto it = obj.find(std::string(key));
  if (it == obj.end()) return absl::OkStatus();
  std::string field = absl::StrCat(where, ".", key);
  if (!it->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be a list"));
  }
  for (const json& entry : *it) {
    int64_t container_id = -1, host_id = -1, length = -1;
    if (entry.is_object()) {
      RETURN_IF_ERROR(
          OptionalInt64(entry, "container_id", field, &container_id));
      RETURN_IF_ERROR(OptionalInt64(entry, "host_id", field, &host_id));
      RETURN_IF_ERROR(OptionalInt64(entry, "length", field, &length));
    }
    auto in_range = [](int64_t v) { return v >= 0 && v <= 0xFFFFFFFFll; };
    if (!in_range(container_id) || !in_range(host_id) || !in_range(length)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field,
                       ": each entry needs 32-bit container_id, "
                       "host_id and length"));
    }
    out->push_back({static_cast<uint32_t>(container_id),
                    static_cast<uint32_t>(host_id),
                    static_cast<uint32_t>(length)});
  }
  return absl::OkStatus();
}

absl::Status EnumIntFromJson(const json& obj, absl::string_view key,
                             absl::string_view where, int max, int* out) {
  RETURN_IF_ERROR(OptionalInt(obj, key, where, out));
  if (*out < 0 || *out > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".", key, ": ", *out, " is out of range"));
  }
  return absl::OkStatus();
}

json ConfigToJson(const PodConfig& c) {
  json ports = json::array();
  for (const PortMapping& p : c.port_mappings) {
    ports.push_back({{"protocol", static_cast<int>(p.protocol)},
                     {"container_port", p.container_port},
                     {"host_port", p.host_port},
                     {"host_ip", p.host_ip}});
  }
  const NamespaceOptions& ns = c.namespaces;
  return {
      {"metadata",
       {{"name", c.metadata.name},
        {"uid", c.metadata.uid},
        {"namespace", c.metadata.namespace_},
        {"attempt", c.metadata.attempt}}},
      {"hostname", c.hostname},
      {"log_directory", c.log_directory},
      {"dns",
       {{"servers", c.dns.servers},
        {"searches", c.dns.searches},
        {"options", c.dns.options}}},
      {"port_mappings", ports},
      {"labels", c.labels},
      {"annotations", c.annotations},
      {"cgroup_parent", c.cgroup_parent},
      {"sysctls", c.sysctls},
      {"namespaces",
       {{"network", static_cast<int>(ns.network)},
        {"pid", static_cast<int>(ns.pid)},
        {"ipc", static_cast<int>(ns.ipc)},
        {"userns_mode", static_cast<int>(ns.userns.mode)},
        {"uids", MappingsToJson(ns.userns.mappings.uids)},
        {"gids", MappingsToJson(ns.userns.mappings.gids)}}},
      {"privileged", c.privileged},
  };
}

absl::Status ObjectField(const json& obj, absl::string_view key,
                         absl::string_view where, const json** out) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || !it->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".", key, ": must be an object"));
  }
  *out = &*it;
  return absl::OkStatus();
}

absl::Status ConfigFromJson(const json& obj, PodConfig* c) {
  const json* metadata;
  RETURN_IF_ERROR(ObjectField(obj, "metadata", "config", &metadata));
  RETURN_IF_ERROR(
      OptionalString(*metadata, "name", "config.metadata", &c->metadata.name));
  RETURN_IF_ERROR(
      OptionalString(*metadata, "uid", "config.metadata", &c->metadata.uid));
  RETURN_IF_ERROR(OptionalString(*metadata, "namespace", "config.metadata",
                                 &c->metadata.namespace_));
  int64_t attempt = 0;
  RETURN_IF_ERROR(
      OptionalInt64(*metadata, "attempt", "config.metadata", &attempt));
  c->metadata.attempt = static_cast<uint32_t>(attempt);
  RETURN_IF_ERROR(OptionalString(obj, "hostname", "config", &c->hostname));
  RETURN_IF_ERROR(
      OptionalString(obj, "log_directory", "config", &c->log_directory));
  const json* dns;
  RETURN_IF_ERROR(ObjectField(obj, "dns", "config", &dns));
  RETURN_IF_ERROR(
      OptionalStrings(*dns, "servers", "config.dns", &c->dns.servers));
  RETURN_IF_ERROR(
      OptionalStrings(*dns, "searches", "config.dns", &c->dns.searches));
  RETURN_IF_ERROR(
      OptionalStrings(*dns, "options", "config.dns", &c->dns.options));
  if (auto it = obj.find("port_mappings"); it != obj.end()) {
    if (!it->is_array()) {
      return absl::InvalidArgumentError("config.port_mappings: must be a list");
    }
    for (const json& p : *it) {
      PortMapping port;
      int protocol = 0;
      RETURN_IF_ERROR(EnumIntFromJson(p, "protocol", "config.port_mappings",
                                      static_cast<int>(Protocol::kSctp),
                                      &protocol));
      port.protocol = static_cast<Protocol>(protocol);
      RETURN_IF_ERROR(OptionalInt(p, "container_port", "config.port_mappings",
                                  &port.container_port));
      RETURN_IF_ERROR(
          OptionalInt(p, "host_port", "config.port_mappings", &port.host_port));
      RETURN_IF_ERROR(
          OptionalString(p, "host_ip", "config.port_mappings", &port.host_ip));
      c->port_mappings.push_back(port);
    }
  }
  RETURN_IF_ERROR(OptionalStringMap(obj, "labels", "config", &c->labels));
  RETURN_IF_ERROR(
      OptionalStringMap(obj, "annotations", "config", &c->annotations));
  RETURN_IF_ERROR(
      OptionalString(obj, "cgroup_parent", "config", &c->cgroup_parent));
  RETURN_IF_ERROR(OptionalStringMap(obj, "sysctls", "config", &c->sysctls));
  const json* ns;
  RETURN_IF_ERROR(ObjectField(obj, "namespaces", "config", &ns));
  constexpr int kMaxMode = static_cast<int>(NamespaceMode::kTarget);
  int network = 0, pid = 0, ipc = 0, userns_mode = 0;
  RETURN_IF_ERROR(
      EnumIntFromJson(*ns, "network", "config.namespaces", kMaxMode, &network));
  RETURN_IF_ERROR(
      EnumIntFromJson(*ns, "pid", "config.namespaces", kMaxMode, &pid));
  RETURN_IF_ERROR(
      EnumIntFromJson(*ns, "ipc", "config.namespaces", kMaxMode, &ipc));
  RETURN_IF_ERROR(EnumIntFromJson(*ns, "userns_mode", "config.namespaces",
                                  kMaxMode, &userns_mode));
  c->namespaces.network = static_cast<NamespaceMode>(network);
  c->namespaces.pid = static_cast<NamespaceMode>(pid);
  c->namespaces.ipc = static_cast<NamespaceMode>(ipc);
  c->namespaces.userns.mode = static_cast<NamespaceMode>(userns_mode);
  RETURN_IF_ERROR(MappingsFromJson(*ns, "uids", "config.namespaces",
                                   &c->namespaces.userns.mappings.uids));
  RETURN_IF_ERROR(MappingsFromJson(*ns, "gids", "config.namespaces",
                                   &c->namespaces.userns.mappings.gids));
  return OptionalBool(obj, "privileged", "config", &c->privileged);
}

}  // namespace

absl::string_view StepName(Step step) { return EnumName(kStepNames, step); }

absl::string_view PhaseName(Phase phase) {
  return EnumName(kPhaseNames, phase);
}

bool SandboxRecord::HasStep(Step step) const {
  return std::find(steps.begin(), steps.end(), step) != steps.end();
}

std::string RecordToJson(const SandboxRecord& r) {
  json steps = json::array();
  for (Step step : r.steps) steps.push_back(StepName(step));
  json out = {
      {"version", 1},
      {"id", r.id},
      {"config", ConfigToJson(r.config)},
      {"runtime_handler", r.runtime_handler},
      {"phase", PhaseName(r.phase)},
      {"steps", steps},
      {"netns_pin", r.netns_pin},
      {"userns_pin", r.userns_pin},
      {"cni_result", r.cni_result},
      {"ips", r.ips},
      {"pid", r.pid},
      {"pid_start_time", r.pid_start_time},
      {"created_at", TimeToUnixNanos(r.created_at)},
      {"ready_at", TimeToUnixNanos(r.ready_at)},
      {"exited_at", TimeToUnixNanos(r.exited_at)},
      {"exit_status", r.exit_status},
      {"failed_cni_deletes", r.failed_cni_deletes},
  };
  // Only for a pod without a pause, so other records read as before.
  if (!r.uts_pin.empty()) out["uts_pin"] = r.uts_pin;
  if (!r.ipc_pin.empty()) out["ipc_pin"] = r.ipc_pin;
  if (!r.shm_path.empty()) out["shm_path"] = r.shm_path;
  return out.dump();
}

absl::StatusOr<SandboxRecord> RecordFromJson(absl::string_view text) {
  ASSIGN_OR_RETURN(json obj, sys::ParseJsonObject(text));
  SandboxRecord r;
  RETURN_IF_ERROR(OptionalString(obj, "id", "record", &r.id));
  if (r.id.empty()) return absl::InvalidArgumentError("record.id: missing");
  const json* config;
  RETURN_IF_ERROR(ObjectField(obj, "config", "record", &config));
  RETURN_IF_ERROR(ConfigFromJson(*config, &r.config));
  RETURN_IF_ERROR(
      OptionalString(obj, "runtime_handler", "record", &r.runtime_handler));
  std::string phase;
  RETURN_IF_ERROR(OptionalString(obj, "phase", "record", &phase));
  RETURN_IF_ERROR(EnumFromName(kPhaseNames, phase, "record.phase", &r.phase));
  std::vector<std::string> steps;
  RETURN_IF_ERROR(OptionalStrings(obj, "steps", "record", &steps));
  for (const std::string& name : steps) {
    Step step;
    RETURN_IF_ERROR(EnumFromName(kStepNames, name, "record.steps", &step));
    r.steps.push_back(step);
  }
  RETURN_IF_ERROR(OptionalString(obj, "netns_pin", "record", &r.netns_pin));
  RETURN_IF_ERROR(OptionalString(obj, "userns_pin", "record", &r.userns_pin));
  RETURN_IF_ERROR(OptionalString(obj, "uts_pin", "record", &r.uts_pin));
  RETURN_IF_ERROR(OptionalString(obj, "ipc_pin", "record", &r.ipc_pin));
  RETURN_IF_ERROR(OptionalString(obj, "shm_path", "record", &r.shm_path));
  RETURN_IF_ERROR(OptionalString(obj, "cni_result", "record", &r.cni_result));
  RETURN_IF_ERROR(OptionalStrings(obj, "ips", "record", &r.ips));
  int64_t pid = 0, start_time = 0, created = 0, ready = 0, exited = 0;
  RETURN_IF_ERROR(OptionalInt64(obj, "pid", "record", &pid));
  RETURN_IF_ERROR(OptionalInt64(obj, "pid_start_time", "record", &start_time));
  RETURN_IF_ERROR(OptionalInt64(obj, "created_at", "record", &created));
  RETURN_IF_ERROR(OptionalInt64(obj, "ready_at", "record", &ready));
  RETURN_IF_ERROR(OptionalInt64(obj, "exited_at", "record", &exited));
  r.pid = static_cast<pid_t>(pid);
  r.pid_start_time = static_cast<uint64_t>(start_time);
  r.created_at = TimeFromUnixNanos(created);
  r.ready_at = TimeFromUnixNanos(ready);
  r.exited_at = TimeFromUnixNanos(exited);
  RETURN_IF_ERROR(OptionalInt(obj, "exit_status", "record", &r.exit_status));
  RETURN_IF_ERROR(
      OptionalInt(obj, "failed_cni_deletes", "record", &r.failed_cni_deletes));
  return r;
}

}  // namespace podsandbox::sandbox
