// A container's record: everything the manager knows about one container,
// persisted as JSON beside its sandbox's records (<root>/containers), and
// the one source of truth after a restart; memory holds a copy.
//
// The step journal lists, in order, every creation step whose side effect
// may have started; a step is appended and the record saved before its
// side effect. After a crash, a record still kCreating has each listed
// step undone (the undos are idempotent), then is deleted; Remove undoes
// the same steps. The step list grows only during Create.
#ifndef PODSANDBOX_CONTAINER_RECORD_H_
#define PODSANDBOX_CONTAINER_RECORD_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "container/container_config.h"

namespace podsandbox::container {

// Creation steps, in order, as journalled.
enum class Step {
  kDirs,    // state dir, FIFOs (the writable dir is kRootfs's)
  kRootfs,  // writable layer + overlay mount
  kTask,    // bundle config.json + runtime create
};

absl::string_view StepName(Step step);

// CRI's ContainerState numbering for the listed states.
enum class State {
  kCreated = 0,
  kRunning = 1,
  kExited = 2,
  kUnknown = 3,
  kCreating = 4,  // CreateContainer in progress; never listed
};

absl::string_view StateName(State state);

// The exit code and reason reported for a container whose exit happened
// while the daemon was down: its status is gone with its parent (see
// docs/design.md, "Containers").
inline constexpr int kUnknownExitCode = 255;

struct ContainerRecord {
  std::string id;
  std::string sandbox_id;
  ContainerMetadata metadata;
  // The image as requested, its id ("sha256:<hex>") and the reference the
  // status shows (a repo tag or digest of that image, else the id).
  std::string image;
  std::string image_id;
  std::string image_ref;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<Mount> mounts;
  // Absolute: the pod's log directory joined with the config's log_path;
  // empty when either is.
  std::string log_path;
  std::string runtime_handler;  // the resolved handler's name
  // cgroupfs path of the container's cgroup, for stats and updates.
  std::string cgroup_path;
  Resources resources;
  // What StopContainer sends first: the image's STOPSIGNAL, else SIGTERM.
  int stop_signal = 15;

  State state = State::kCreating;
  std::vector<Step> steps;

  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // /proc/<pid>/stat field 22

  absl::Time created_at = absl::InfinitePast();
  absl::Time started_at = absl::InfinitePast();
  absl::Time finished_at = absl::InfinitePast();
  int exit_code = 0;
  std::string reason;  // "Completed", "Error", "OOMKilled", "Unknown"
  std::string message;

  bool HasStep(Step step) const;
};

std::string RecordToJson(const ContainerRecord& record);

// InvalidArgument naming the field when `json` is not a valid record.
absl::StatusOr<ContainerRecord> RecordFromJson(absl::string_view json);

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_RECORD_H_
