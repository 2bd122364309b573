#include "oci/runtime_factory.h"

#include "oci/builtin_runtime.h"
#include "oci/runc_family_runtime.h"
#include "oci/runsc_runtime.h"

namespace podsandbox::oci {

std::unique_ptr<OciRuntime> MakeOciRuntime(sys::Sys& sys,
                                           const RuntimeHandler& handler) {
  switch (handler.type) {
    case RuntimeType::kRunc:
    case RuntimeType::kCrun:
      return std::make_unique<RuncFamilyRuntime>(sys, handler);
    case RuntimeType::kRunsc:
      return std::make_unique<RunscRuntime>(sys, handler);
    case RuntimeType::kBuiltin:
      return std::make_unique<BuiltinRuntime>(sys, handler);
  }
  return std::make_unique<RuncFamilyRuntime>(sys, handler);  // unreachable
}

absl::Status CheckCanRun(sys::Sys& sys, const RuntimeHandler& handler,
                         const PodNeeds& pod) {
  return MakeOciRuntime(sys, handler)->CheckCanRun(pod);
}

}  // namespace podsandbox::oci
