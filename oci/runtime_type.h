// The OCI runtimes we drive and what each can do. The pipeline adapts to
// these capabilities, never to a runtime's name (docs/design.md, "Runtime
// handlers").
//
// Thread-safe: constant data.
#ifndef PODSANDBOX_OCI_RUNTIME_TYPE_H_
#define PODSANDBOX_OCI_RUNTIME_TYPE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace podsandbox::oci {

// kBuiltin is no binary: podsandboxd starts the pause itself
// (oci/builtin_runtime.h).
enum class RuntimeType { kRunc, kCrun, kRunsc, kBuiltin };

// When the pod's network namespace must be fully configured (CNI ADD done).
enum class NetnsReadyBy { kCreate, kStart };

struct RuntimeCapabilities {
  // Joins config.json's user namespace by path. runsc cannot: its Go
  // process is multithreaded and the kernel refuses setns(CLONE_NEWUSER)
  // to such a process.
  bool joins_userns_by_path = false;
  // runc and crun join the netns at create; runsc copies the netns's
  // interfaces into its own stack at start.
  NetnsReadyBy netns_ready_by = NetnsReadyBy::kCreate;
  // Accepts the runc-only handler options (no_pivot_root, no_new_keyring).
  bool runc_options = false;
  // Keeps <root>/<id>/state.json; the others keep their own files, so a
  // missing state.json means nothing for them.
  bool writes_state_json = false;
};

const RuntimeCapabilities& CapabilitiesOf(RuntimeType type);

// "runc", "crun", "runsc" or "builtin".
absl::string_view RuntimeTypeName(RuntimeType type);

// Parses a type name. InvalidArgument naming `field` for anything else.
absl::StatusOr<RuntimeType> ParseRuntimeType(absl::string_view name,
                                             absl::string_view field);

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_RUNTIME_TYPE_H_
