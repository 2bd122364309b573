// The SpecBuilder the daemon gives the Manager: resolves the process user
// in the mounted rootfs (image_user.h), then writes config.json with
// BuildContainerSpec (spec.h). Kept apart from the Manager so its tests can
// run containers with a spec of their own.
#ifndef PODSANDBOX_CONTAINER_SPEC_BUILDER_H_
#define PODSANDBOX_CONTAINER_SPEC_BUILDER_H_

#include "container/manager.h"
#include "container/spec.h"
#include "sys/sys.h"

namespace podsandbox::container {

// `sys` must outlive the builder. Thread-safe.
SpecBuilder MakeSpecBuilder(sys::Sys& sys, HostFeatures host);

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_SPEC_BUILDER_H_
