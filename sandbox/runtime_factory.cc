#include "sandbox/runtime_factory.h"

#include "sandbox/crun_runtime.h"
#include "sandbox/runc_runtime.h"
#include "sandbox/runsc_runtime.h"

namespace podsandbox::sandbox {

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

}  // namespace podsandbox::sandbox
