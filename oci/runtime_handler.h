// Runtime handlers: the configured OCI runtimes a request may select by
// name, and the rule that a name only ever selects configured entries.
//
// A handler name in a request is never a path and never looked up on PATH:
// a request must not be able to name a binary (the lesson of moby's
// alternative-runtimes review). Empty selects the default handler; a name
// holding '/' or one not configured is InvalidArgument naming the request
// field `runtime_handler`, before anything happens.
//
// Thread-safe after construction: a registry is immutable.
#ifndef PODSANDBOX_OCI_RUNTIME_HANDLER_H_
#define PODSANDBOX_OCI_RUNTIME_HANDLER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "oci/runtime_type.h"
#include "oci/task_spec.h"

namespace podsandbox::oci {

struct RuntimeHandler {
  // What requests call it ("runc", "gvisor"): [A-Za-z0-9._-]+.
  std::string name;
  RuntimeType type = RuntimeType::kRunc;
  // The runtime binary, absolute.
  std::string path;
  // The runtime's state directory (its --root), absolute; on tmpfs.
  std::string root;
  // Global arguments before the command, as "--ignore-cgroups".
  std::vector<std::string> extra_args;
  // runc-only create options (capability runc_options).
  bool no_pivot_root = false;
  bool no_new_keyring = false;
  // infra = "none": pods of this handler that need no pause process get
  // none, only pinned namespaces (docs/design.md, "Pods without a pause").
  bool infra_none = false;
  // Deadline of each runtime command.
  absl::Duration timeout = absl::Seconds(30);
};

class HandlerRegistry {
 public:
  // Validates every entry: unique well-formed names, absolute path and
  // root, no runc-only options on other types, a positive timeout, and a
  // `default_name` that is configured. InvalidArgument naming the field
  // ("runtime_handlers[1].path: must be absolute").
  static absl::StatusOr<HandlerRegistry> Create(
      std::vector<RuntimeHandler> handlers, absl::string_view default_name);

  // The handler a request's `runtime_handler` selects. InvalidArgument for
  // a name with '/' or one not configured.
  absl::StatusOr<const RuntimeHandler*> Resolve(
      absl::string_view request_name) const;

  const RuntimeHandler& default_handler() const {
    return handlers_[default_index_];
  }
  const std::vector<RuntimeHandler>& handlers() const { return handlers_; }

 private:
  HandlerRegistry(std::vector<RuntimeHandler> handlers, size_t default_index)
      : handlers_(std::move(handlers)), default_index_(default_index) {}

  std::vector<RuntimeHandler> handlers_;
  size_t default_index_;
};

// What a pod asks of its runtime, known from its config alone, before any
// namespace, pin or path exists.
struct PodNeeds {
  // A network namespace of its own; false means the host's network.
  bool own_netns = false;
  // A user namespace (ID mappings). With own_netns the runtime joins the
  // one we pin, by path; with host network it creates one itself.
  bool user_namespace = false;
};

// The needs a TaskSpec states (netns_path set, id_mappings present).
PodNeeds PodNeedsOf(const TaskSpec& spec);

// Whether `handler`'s runtime type can run such a pod at all, from the
// capability table: FailedPrecondition for a pod that joins a user
// namespace by path on a runtime that cannot. Pure; call before any side
// effect. A driver's own refusals come on top: see CheckCanRun
// (runtime_factory.h).
absl::Status CheckHandlerSupports(const RuntimeHandler& handler,
                                  const PodNeeds& pod);
absl::Status CheckHandlerSupports(const RuntimeHandler& handler,
                                  const TaskSpec& spec);

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_RUNTIME_HANDLER_H_
