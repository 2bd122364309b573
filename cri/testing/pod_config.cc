#include "cri/testing/pod_config.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace podsandbox::cri {

namespace v1 = ::runtime::v1;

v1::PodSandboxConfig NamedPodConfig(absl::string_view name) {
  v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name(std::string(name));
  config.mutable_metadata()->set_namespace_("test");
  config.mutable_metadata()->set_uid(absl::StrCat("uid-", name));
  config.set_hostname(std::string(name));
  return config;
}

v1::PodSandboxConfig UsernsPodConfig(absl::string_view name,
                                     uint32_t host_base) {
  v1::PodSandboxConfig config = NamedPodConfig(name);
  v1::UserNamespace* u = config.mutable_linux()
                             ->mutable_security_context()
                             ->mutable_namespace_options()
                             ->mutable_userns_options();
  u->set_mode(v1::POD);
  for (auto* list : {u->mutable_uids(), u->mutable_gids()}) {
    v1::IDMapping* m = list->Add();
    m->set_container_id(0);
    m->set_host_id(host_base);
    m->set_length(65536);
  }
  return config;
}

}  // namespace podsandbox::cri
