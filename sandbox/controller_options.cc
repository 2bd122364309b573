#include "sandbox/controller_options.h"

#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "oci/runtime_type.h"
#include "sandbox/validation.h"
#include "sys/status.h"

namespace podsandbox::sandbox {
namespace {

absl::Status RequireAbsolute(absl::string_view field, absl::string_view path) {
  if (!path.empty() && path[0] == '/') return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": \"", path, "\" must be an absolute path"));
}

// The first of `candidates` that is an executable file.
std::string FirstExecutable(const std::vector<std::string>& candidates) {
  for (const std::string& path : candidates) {
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

}  // namespace

std::vector<oci::RuntimeHandler> InstalledRuntimeHandlers() {
  // Only binaries at their packaged paths: a handler is never resolved on
  // PATH (docs/design.md, "Runtime handlers").
  struct Known {
    const char* name;
    oci::RuntimeType type;
    std::vector<std::string> paths;
  };
  std::vector<oci::RuntimeHandler> out;
  oci::RuntimeHandler builtin;
  builtin.name = "builtin";
  builtin.type = oci::RuntimeType::kBuiltin;
  out.push_back(std::move(builtin));
  for (const Known& known : std::vector<Known>{
           {"runc",
            oci::RuntimeType::kRunc,
            {"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"}},
           {"crun",
            oci::RuntimeType::kCrun,
            {"/usr/bin/crun", "/usr/local/bin/crun"}}}) {
    std::string path = FirstExecutable(known.paths);
    if (path.empty()) continue;
    oci::RuntimeHandler handler;
    handler.name = known.name;
    handler.type = known.type;
    handler.path = std::move(path);
    out.push_back(std::move(handler));
  }
  return out;
}

absl::StatusOr<oci::HandlerRegistry> CompleteControllerOptions(
    ControllerOptions& options) {
  RETURN_IF_ERROR(RequireAbsolute("root_dir", options.root_dir));
  RETURN_IF_ERROR(RequireAbsolute("state_dir", options.state_dir));
  if (std::string why =
          UncleanPathReason(options.pod_limits.cgroup_parent_prefix);
      !why.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pod_limits.cgroup_parent_prefix: \"",
                     options.pod_limits.cgroup_parent_prefix, "\" ", why));
  }
  if (options.max_sandboxes == 0) {
    return absl::InvalidArgumentError("max_sandboxes: must be at least 1");
  }
  if (options.stop_grace_period < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "stop_grace_period: must not be negative");
  }
  if (options.runtime_handlers.empty()) {
    options.runtime_handlers = InstalledRuntimeHandlers();
    if (options.default_runtime.empty()) options.default_runtime = "builtin";
  }
  if (options.default_runtime.empty()) {
    options.default_runtime = options.runtime_handlers.front().name;
  }
  for (oci::RuntimeHandler& handler : options.runtime_handlers) {
    // Each handler's state under ours: a second controller with another
    // state dir never sees, or garbage-collects, this one's containers.
    if (handler.root.empty()) {
      handler.root = absl::StrCat(options.state_dir, "/runtime/", handler.name);
    }
  }
  return oci::HandlerRegistry::Create(options.runtime_handlers,
                                      options.default_runtime);
}

}  // namespace podsandbox::sandbox
