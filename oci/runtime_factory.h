// Makes the OciRuntime driver for a configured handler, by its type.
//
// Thread-safe.
#ifndef PODSANDBOX_OCI_RUNTIME_FACTORY_H_
#define PODSANDBOX_OCI_RUNTIME_FACTORY_H_

#include <functional>
#include <memory>

#include "oci/runtime.h"
#include "oci/runtime_handler.h"
#include "sys/sys.h"

namespace podsandbox::oci {

// `sys` must outlive the driver. Cheap: no process is started.
std::unique_ptr<OciRuntime> MakeOciRuntime(sys::Sys& sys,
                                           const RuntimeHandler& handler);

// Makes the driver for a handler: MakeOciRuntime bound to a Sys, or a test's
// fake (oci/testing/fake_oci_runtime.h).
using OciRuntimeMaker =
    std::function<std::unique_ptr<OciRuntime>(const RuntimeHandler& handler)>;

// Whether `handler` can run a pod with these needs, from the pod's config
// alone: every refusal of the handler's driver (OciRuntime::CheckCanRun).
// FailedPrecondition naming the handler. Makes no pin and needs no path;
// the only syscalls are runsc's probe of a throwaway network namespace
// (runsc_runtime.h), made once per process and for a runsc handler with a
// pod network only. Call while validating a request.
absl::Status CheckCanRun(sys::Sys& sys, const RuntimeHandler& handler,
                         const PodNeeds& pod);

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_RUNTIME_FACTORY_H_
