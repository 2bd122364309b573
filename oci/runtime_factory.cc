#include "oci/runtime_factory.h"

#include "oci/crun_runtime.h"
#include "oci/runc_runtime.h"
#include "oci/runsc_runtime.h"

namespace podsandbox::oci {

std::unique_ptr<OciRuntime> MakeOciRuntime(sys::Sys& sys,
                                           const RuntimeHandler& handler) {
  switch (handler.type) {
    case RuntimeType::kRunc:
      return std::make_unique<RuncRuntime>(sys, handler);
    case RuntimeType::kCrun:
      return std::make_unique<CrunRuntime>(sys, handler);
    case RuntimeType::kRunsc:
      return std::make_unique<RunscRuntime>(sys, handler);
  }
  return std::make_unique<RuncRuntime>(sys, handler);  // unreachable
}

}  // namespace podsandbox::oci
