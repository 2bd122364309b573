#include "oci/runtime_handler.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace podsandbox::oci {
namespace {

bool ValidName(absl::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::Status Invalid(size_t i, absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("runtime_handlers[", i, "].", field, ": ", why));
}

absl::Status ValidateHandler(size_t i, const RuntimeHandler& h) {
  if (!ValidName(h.name)) {
    return Invalid(i, "name", "must be [A-Za-z0-9._-]+, not . or ..");
  }
  if (h.type == RuntimeType::kBuiltin) {
    // The daemon itself starts the pause: there is no binary to name.
    if (!h.path.empty()) {
      return Invalid(i, "path", "must be unset on a builtin handler");
    }
  } else if (h.path.empty() || h.path[0] != '/') {
    return Invalid(i, "path", "must be absolute");
  }
  if (h.root.empty() || h.root[0] != '/') {
    return Invalid(i, "root", "must be absolute");
  }
  if ((h.no_pivot_root || h.no_new_keyring) &&
      !CapabilitiesOf(h.type).runc_options) {
    return Invalid(i, "no_pivot_root/no_new_keyring",
                   absl::StrCat("runc-only options on a ",
                                RuntimeTypeName(h.type), " handler"));
  }
  if (h.timeout <= absl::ZeroDuration()) {
    return Invalid(i, "timeout", "must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<HandlerRegistry> HandlerRegistry::Create(
    std::vector<RuntimeHandler> handlers, absl::string_view default_name) {
  if (handlers.empty()) {
    return absl::InvalidArgumentError("runtime_handlers: none configured");
  }
  absl::flat_hash_set<std::string> names;
  size_t default_index = handlers.size();
  for (size_t i = 0; i < handlers.size(); ++i) {
    if (absl::Status s = ValidateHandler(i, handlers[i]); !s.ok()) return s;
    if (!names.insert(handlers[i].name).second) {
      return Invalid(i, "name",
                     absl::StrCat("duplicate \"", handlers[i].name, "\""));
    }
    if (handlers[i].name == default_name) default_index = i;
  }
  if (default_index == handlers.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("default_runtime_handler: \"", default_name,
                     "\" is not a configured handler"));
  }
  return HandlerRegistry(std::move(handlers), default_index);
}

absl::StatusOr<const RuntimeHandler*> HandlerRegistry::Resolve(
    absl::string_view request_name) const {
  if (request_name.empty()) return &handlers_[default_index_];
  // Checked before the lookup, so the message says why a path is refused
  // rather than only that it is unknown.
  if (absl::StrContains(request_name, '/')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "runtime_handler: \"", request_name,
        "\" is a path; a handler is selected by its configured name"));
  }
  for (const RuntimeHandler& h : handlers_) {
    if (h.name == request_name) return &h;
  }
  std::vector<absl::string_view> known;
  for (const RuntimeHandler& h : handlers_) known.push_back(h.name);
  return absl::InvalidArgumentError(
      absl::StrCat("runtime_handler: unknown handler \"", request_name,
                   "\" (configured: ", absl::StrJoin(known, ", "), ")"));
}

PodNeeds PodNeedsOf(const TaskSpec& spec) {
  return {/*own_netns=*/!spec.netns_path.empty(),
          /*user_namespace=*/spec.id_mappings.has_value()};
}

absl::Status CheckHandlerSupports(const RuntimeHandler& handler,
                                  const TaskSpec& spec) {
  return CheckHandlerSupports(handler, PodNeedsOf(spec));
}

absl::Status CheckHandlerSupports(const RuntimeHandler& handler,
                                  const PodNeeds& pod) {
  // Only a pod with its own netns has a user namespace pinned by us (it
  // owns that netns); with host network the runtime creates the userns.
  if (pod.user_namespace && pod.own_netns &&
      !CapabilitiesOf(handler.type).joins_userns_by_path) {
    return absl::FailedPreconditionError(absl::StrCat(
        "runtime handler \"", handler.name, "\" (",
        RuntimeTypeName(handler.type),
        ") cannot join the pod's user namespace by path; use a runc or crun "
        "handler for pods with a user namespace"));
  }
  return absl::OkStatus();
}

}  // namespace podsandbox::oci
