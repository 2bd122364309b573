#include "container/spec_builder.h"

#include <fcntl.h>

#include <string>
#include <utility>

#include "container/image_user.h"
#include "sys/file.h"
#include "sys/status.h"
#include "sys/unique_fd.h"

namespace podsandbox::container {

SpecBuilder MakeSpecBuilder(sys::Sys& sys, HostFeatures host) {
  return [&sys, host = std::move(host)](
             const SpecRequest& r) -> absl::StatusOr<std::string> {
    // The user is looked up in the image's own /etc/passwd and /etc/group,
    // inside the mounted rootfs, never following its links out of it.
    ASSIGN_OR_RETURN(
        sys::UniqueFd rootfs,
        sys::OpenFile(sys, r.rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    ASSIGN_OR_RETURN(ProcessUser user,
                     ResolveProcessUser(sys, rootfs.get(), r.config->security,
                                        r.image->user));
    ASSIGN_OR_RETURN(
        nlohmann::json spec,
        BuildContainerSpec(sys, r.container_id, *r.config, *r.image, *r.pod,
                           r.rootfs, user, host));
    return spec.dump();
  };
}

}  // namespace podsandbox::container
