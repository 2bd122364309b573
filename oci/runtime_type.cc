#include "oci/runtime_type.h"

#include "absl/strings/str_cat.h"

namespace podsandbox::oci {

const RuntimeCapabilities& CapabilitiesOf(RuntimeType type) {
  static constexpr RuntimeCapabilities kRunc = {
      /*joins_userns_by_path=*/true, NetnsReadyBy::kCreate,
      /*runc_options=*/true, /*writes_state_json=*/true};
  static constexpr RuntimeCapabilities kCrun = {
      /*joins_userns_by_path=*/true, NetnsReadyBy::kCreate,
      /*runc_options=*/false, /*writes_state_json=*/false};
  // The built-in launcher joins the pinned namespaces itself, like runc,
  // and writes the pod's sysctls before the pause runs.
  static constexpr RuntimeCapabilities kBuiltin = {
      /*joins_userns_by_path=*/true, NetnsReadyBy::kCreate,
      /*runc_options=*/false, /*writes_state_json=*/false};
  static constexpr RuntimeCapabilities kRunsc = {
      /*joins_userns_by_path=*/false, NetnsReadyBy::kStart,
      /*runc_options=*/false, /*writes_state_json=*/false};
  switch (type) {
    case RuntimeType::kRunc:
      return kRunc;
    case RuntimeType::kCrun:
      return kCrun;
    case RuntimeType::kRunsc:
      return kRunsc;
    case RuntimeType::kBuiltin:
      return kBuiltin;
  }
  return kRunc;  // unreachable: the switch covers every enumerator
}

absl::string_view RuntimeTypeName(RuntimeType type) {
  switch (type) {
    case RuntimeType::kRunc:
      return "runc";
    case RuntimeType::kCrun:
      return "crun";
    case RuntimeType::kRunsc:
      return "runsc";
    case RuntimeType::kBuiltin:
      return "builtin";
  }
  return "unknown";
}

absl::StatusOr<RuntimeType> ParseRuntimeType(absl::string_view name,
                                             absl::string_view field) {
  if (name == "runc") return RuntimeType::kRunc;
  if (name == "crun") return RuntimeType::kCrun;
  if (name == "runsc") return RuntimeType::kRunsc;
  if (name == "builtin") return RuntimeType::kBuiltin;
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": unknown runtime type \"", name,
                   "\" (runc, crun, runsc or builtin)"));
}

}  // namespace podsandbox::oci
