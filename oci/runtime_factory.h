// Makes the OciRuntime driver for a configured handler, by its type.
//
// Thread-safe.
#ifndef PODSANDBOX_OCI_RUNTIME_FACTORY_H_
#define PODSANDBOX_OCI_RUNTIME_FACTORY_H_

#include <memory>

#include "oci/runtime.h"
#include "oci/runtime_handler.h"
#include "sys/sys.h"

namespace podsandbox::oci {

// `sys` must outlive the driver. Cheap: no process is started.
std::unique_ptr<OciRuntime> MakeOciRuntime(sys::Sys& sys,
                                           const RuntimeHandler& handler);

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_RUNTIME_FACTORY_H_
