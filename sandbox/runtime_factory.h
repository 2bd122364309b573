// Makes the OciRuntime driver for a configured handler, by its type.
//
// Thread-safe.
#ifndef PODSANDBOX_SANDBOX_RUNTIME_FACTORY_H_
#define PODSANDBOX_SANDBOX_RUNTIME_FACTORY_H_

#include <memory>

#include "sandbox/oci_runtime.h"
#include "sandbox/runtime_handler.h"
#include "sys/sys.h"

namespace podsandbox::sandbox {

// `sys` must outlive the driver. Cheap: no process is started.
std::unique_ptr<OciRuntime> MakeOciRuntime(sys::Sys& sys,
                                           const RuntimeHandler& handler);

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_RUNTIME_FACTORY_H_
