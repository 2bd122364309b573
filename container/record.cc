#include "container/record.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "sys/json_fields.h"
#include "sys/status.h"

namespace podsandbox::container {
namespace {

using json = nlohmann::json;
using sys::EnumFromName;
using sys::EnumName;
using sys::OptionalBool;
using sys::OptionalInt;
using sys::OptionalInt64;
using sys::OptionalString;
using sys::OptionalStringMap;
using sys::TimeFromUnixNanos;
using sys::TimeToUnixNanos;

constexpr sys::EnumNames<Step> kStepNames[] = {
    {Step::kDirs, "dirs"},
    {Step::kRootfs, "rootfs"},
    {Step::kTask, "task"},
};

constexpr sys::EnumNames<State> kStateNames[] = {
    {State::kCreated, "created"},   {State::kRunning, "running"},
    {State::kExited, "exited"},     {State::kUnknown, "unknown"},
    {State::kCreating, "creating"},
};

json ResourcesToJson(const Resources& r) {
  return {{"cpu_period", r.cpu_period},
          {"cpu_quota", r.cpu_quota},
          {"cpu_shares", r.cpu_shares},
          {"memory_limit_in_bytes", r.memory_limit_in_bytes},
          {"memory_swap_limit_in_bytes", r.memory_swap_limit_in_bytes},
          {"oom_score_adj", r.oom_score_adj},
          {"cpuset_cpus", r.cpuset_cpus},
          {"cpuset_mems", r.cpuset_mems}};
}

absl::Status ResourcesFromJson(const json& obj, Resources* r) {
  constexpr absl::string_view kWhere = "record.resources";
  if (!obj.is_object()) {
    return absl::InvalidArgumentError("record.resources: must be an object");
  }
  RETURN_IF_ERROR(OptionalInt64(obj, "cpu_period", kWhere, &r->cpu_period));
  RETURN_IF_ERROR(OptionalInt64(obj, "cpu_quota", kWhere, &r->cpu_quota));
  RETURN_IF_ERROR(OptionalInt64(obj, "cpu_shares", kWhere, &r->cpu_shares));
  RETURN_IF_ERROR(OptionalInt64(obj, "memory_limit_in_bytes", kWhere,
                                &r->memory_limit_in_bytes));
  RETURN_IF_ERROR(OptionalInt64(obj, "memory_swap_limit_in_bytes", kWhere,
                                &r->memory_swap_limit_in_bytes));
  RETURN_IF_ERROR(
      OptionalInt64(obj, "oom_score_adj", kWhere, &r->oom_score_adj));
  RETURN_IF_ERROR(OptionalString(obj, "cpuset_cpus", kWhere, &r->cpuset_cpus));
  RETURN_IF_ERROR(OptionalString(obj, "cpuset_mems", kWhere, &r->cpuset_mems));
  return absl::OkStatus();
}

}  // namespace

absl::string_view StepName(Step step) { return EnumName(kStepNames, step); }

absl::string_view StateName(State state) {
  return EnumName(kStateNames, state);
}

bool ContainerRecord::HasStep(Step step) const {
  return std::find(steps.begin(), steps.end(), step) != steps.end();
}

std::string RecordToJson(const ContainerRecord& r) {
  json steps = json::array();
  for (Step s : r.steps) steps.push_back(std::string(StepName(s)));
  json mounts = json::array();
  for (const Mount& m : r.mounts) {
    mounts.push_back({{"container_path", m.container_path},
                      {"host_path", m.host_path},
                      {"readonly", m.readonly},
                      {"recursive_read_only", m.recursive_read_only},
                      {"propagation", static_cast<int>(m.propagation)}});
  }
  json out = {
      {"id", r.id},
      {"sandbox_id", r.sandbox_id},
      {"name", r.metadata.name},
      {"attempt", r.metadata.attempt},
      {"image", r.image},
      {"image_id", r.image_id},
      {"image_ref", r.image_ref},
      {"labels", r.labels},
      {"annotations", r.annotations},
      {"mounts", mounts},
      {"log_path", r.log_path},
      {"runtime_handler", r.runtime_handler},
      {"cgroup_path", r.cgroup_path},
      {"resources", ResourcesToJson(r.resources)},
      {"stop_signal", r.stop_signal},
      {"state", std::string(StateName(r.state))},
      {"steps", steps},
      {"pid", r.pid},
      {"pid_start_time", r.pid_start_time},
      {"created_at", TimeToUnixNanos(r.created_at)},
      {"started_at", TimeToUnixNanos(r.started_at)},
      {"finished_at", TimeToUnixNanos(r.finished_at)},
      {"exit_code", r.exit_code},
      {"reason", r.reason},
      {"message", r.message},
  };
  return out.dump(2);
}

absl::StatusOr<ContainerRecord> RecordFromJson(absl::string_view text) {
  constexpr absl::string_view kWhere = "record";
  ASSIGN_OR_RETURN(json obj, sys::ParseJsonObject(text));
  ContainerRecord r;
  RETURN_IF_ERROR(OptionalString(obj, "id", kWhere, &r.id));
  if (r.id.empty()) return absl::InvalidArgumentError("record.id: missing");
  RETURN_IF_ERROR(OptionalString(obj, "sandbox_id", kWhere, &r.sandbox_id));
  RETURN_IF_ERROR(OptionalString(obj, "name", kWhere, &r.metadata.name));
  int64_t attempt = 0;
  RETURN_IF_ERROR(OptionalInt64(obj, "attempt", kWhere, &attempt));
  r.metadata.attempt = static_cast<uint32_t>(attempt);
  RETURN_IF_ERROR(OptionalString(obj, "image", kWhere, &r.image));
  RETURN_IF_ERROR(OptionalString(obj, "image_id", kWhere, &r.image_id));
  RETURN_IF_ERROR(OptionalString(obj, "image_ref", kWhere, &r.image_ref));
  RETURN_IF_ERROR(OptionalStringMap(obj, "labels", kWhere, &r.labels));
  RETURN_IF_ERROR(
      OptionalStringMap(obj, "annotations", kWhere, &r.annotations));
  if (auto it = obj.find("mounts"); it != obj.end()) {
    if (!it->is_array()) {
      return absl::InvalidArgumentError("record.mounts: must be an array");
    }
    for (const json& m : *it) {
      if (!m.is_object()) {
        return absl::InvalidArgumentError("record.mounts[]: must be an object");
      }
      Mount mount;
      int propagation = 0;
      RETURN_IF_ERROR(OptionalString(m, "container_path", "record.mounts[]",
                                     &mount.container_path));
      RETURN_IF_ERROR(
          OptionalString(m, "host_path", "record.mounts[]", &mount.host_path));
      RETURN_IF_ERROR(
          OptionalBool(m, "readonly", "record.mounts[]", &mount.readonly));
      RETURN_IF_ERROR(OptionalBool(m, "recursive_read_only", "record.mounts[]",
                                   &mount.recursive_read_only));
      RETURN_IF_ERROR(
          OptionalInt(m, "propagation", "record.mounts[]", &propagation));
      if (propagation < 0 || propagation > 2) {
        return absl::InvalidArgumentError(
            "record.mounts[].propagation: out of range");
      }
      mount.propagation = static_cast<MountPropagation>(propagation);
      r.mounts.push_back(std::move(mount));
    }
  }
  RETURN_IF_ERROR(OptionalString(obj, "log_path", kWhere, &r.log_path));
  RETURN_IF_ERROR(
      OptionalString(obj, "runtime_handler", kWhere, &r.runtime_handler));
  RETURN_IF_ERROR(OptionalString(obj, "cgroup_path", kWhere, &r.cgroup_path));
  if (auto it = obj.find("resources"); it != obj.end()) {
    RETURN_IF_ERROR(ResourcesFromJson(*it, &r.resources));
  }
  RETURN_IF_ERROR(OptionalInt(obj, "stop_signal", kWhere, &r.stop_signal));
  if (r.stop_signal <= 0 || r.stop_signal > 64) {
    return absl::InvalidArgumentError("record.stop_signal: out of range");
  }
  std::string state = "creating";
  RETURN_IF_ERROR(OptionalString(obj, "state", kWhere, &state));
  RETURN_IF_ERROR(EnumFromName(kStateNames, state, "record.state", &r.state));
  if (auto it = obj.find("steps"); it != obj.end()) {
    if (!it->is_array()) {
      return absl::InvalidArgumentError("record.steps: must be an array");
    }
    for (const json& s : *it) {
      if (!s.is_string()) {
        return absl::InvalidArgumentError("record.steps[]: must be a string");
      }
      Step step;
      RETURN_IF_ERROR(EnumFromName(kStepNames, s.get<std::string>(),
                                   "record.steps[]", &step));
      r.steps.push_back(step);
    }
  }
  int64_t pid = 0, start_time = 0, created = 0, started = 0, finished = 0;
  RETURN_IF_ERROR(OptionalInt64(obj, "pid", kWhere, &pid));
  RETURN_IF_ERROR(OptionalInt64(obj, "pid_start_time", kWhere, &start_time));
  RETURN_IF_ERROR(OptionalInt64(obj, "created_at", kWhere, &created));
  RETURN_IF_ERROR(OptionalInt64(obj, "started_at", kWhere, &started));
  RETURN_IF_ERROR(OptionalInt64(obj, "finished_at", kWhere, &finished));
  r.pid = static_cast<pid_t>(pid);
  r.pid_start_time = static_cast<uint64_t>(start_time);
  r.created_at = TimeFromUnixNanos(created);
  r.started_at = TimeFromUnixNanos(started);
  r.finished_at = TimeFromUnixNanos(finished);
  RETURN_IF_ERROR(OptionalInt(obj, "exit_code", kWhere, &r.exit_code));
  RETURN_IF_ERROR(OptionalString(obj, "reason", kWhere, &r.reason));
  RETURN_IF_ERROR(OptionalString(obj, "message", kWhere, &r.message));
  return r;
}

}  // namespace podsandbox::container
