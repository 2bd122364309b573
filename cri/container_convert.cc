#include "cri/container_convert.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using container::ProfileType;
using container::SecurityProfile;

constexpr absl::string_view kSecurity = "config.linux.security_context";

absl::Status Unknown(absl::string_view field, int value) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": unknown value ", value));
}

absl::StatusOr<SecurityProfile> Profile(const v1::SecurityProfile& wire,
                                        absl::string_view field) {
  int type = wire.profile_type();
  if (type < 0 || type > 2) {
    return Unknown(absl::StrCat(field, ".profile_type"), type);
  }
  return SecurityProfile{static_cast<ProfileType>(type), wire.localhost_ref()};
}

// The deprecated string forms: "runtime/default", "docker/default",
// "unconfined", "localhost/<ref>".
absl::StatusOr<SecurityProfile> LegacyProfile(absl::string_view value,
                                              absl::string_view field) {
  if (value == "runtime/default" || value == "docker/default") {
    return SecurityProfile{ProfileType::kRuntimeDefault, ""};
  }
  if (value == "unconfined")
    return SecurityProfile{ProfileType::kUnconfined, ""};
  if (absl::ConsumePrefix(&value, "localhost/")) {
    return SecurityProfile{ProfileType::kLocalhost, std::string(value)};
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": \"", value,
                   "\" is none of runtime/default, docker/default, unconfined, "
                   "localhost/<ref>"));
}

absl::Status FromSecurity(const v1::LinuxContainerSecurityContext& wire,
                          container::SecurityContext& out) {
  auto field = [](absl::string_view name) {
    return absl::StrCat(kSecurity, ".", name);
  };
  const v1::Capability& caps = wire.capabilities();
  out.capabilities.add.assign(caps.add_capabilities().begin(),
                              caps.add_capabilities().end());
  out.capabilities.drop.assign(caps.drop_capabilities().begin(),
                               caps.drop_capabilities().end());
  if (caps.add_ambient_capabilities_size() > 0) {
    return absl::UnimplementedError(
        absl::StrCat(field("capabilities.add_ambient_capabilities"),
                     ": ambient capabilities are not supported"));
  }
  out.privileged = wire.privileged();
  if (wire.has_run_as_user()) out.run_as_user = wire.run_as_user().value();
  if (wire.has_run_as_group()) out.run_as_group = wire.run_as_group().value();
  out.run_as_username = wire.run_as_username();
  out.readonly_rootfs = wire.readonly_rootfs();
  out.supplemental_groups.assign(wire.supplemental_groups().begin(),
                                 wire.supplemental_groups().end());
  int policy = wire.supplemental_groups_policy();
  if (policy == v1::Strict) {
    return absl::UnimplementedError(absl::StrCat(
        field("supplemental_groups_policy"),
        ": Strict is not supported (groups from the image's /etc/group are "
        "always merged)"));
  }
  if (policy != v1::Merge) {
    return Unknown(field("supplemental_groups_policy"), policy);
  }
  out.no_new_privs = wire.no_new_privs();
  out.masked_paths.assign(wire.masked_paths().begin(),
                          wire.masked_paths().end());
  out.readonly_paths.assign(wire.readonly_paths().begin(),
                            wire.readonly_paths().end());
// Reading the deprecated string fields is the point: older clients still
// send them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (wire.has_seccomp()) {
    auto p = Profile(wire.seccomp(), field("seccomp"));
    if (!p.ok()) return p.status();
    out.seccomp = *p;
  } else if (!wire.seccomp_profile_path().empty()) {
    auto p = LegacyProfile(wire.seccomp_profile_path(),
                           field("seccomp_profile_path"));
    if (!p.ok()) return p.status();
    out.seccomp = *p;
  } else {
    // No profile at all is the CRI's "unconfined" (containerd 1.6 runs it
    // so; critest checks it): kubelet always sends the field, with
    // RuntimeDefault when the pod or the node default asks for it.
    out.seccomp = {ProfileType::kUnconfined, ""};
  }
  if (wire.has_apparmor()) {
    auto p = Profile(wire.apparmor(), field("apparmor"));
    if (!p.ok()) return p.status();
    out.apparmor = *p;
  } else if (!wire.apparmor_profile().empty()) {
    auto p = LegacyProfile(wire.apparmor_profile(), field("apparmor_profile"));
    if (!p.ok()) return p.status();
    out.apparmor = *p;
  }
#pragma GCC diagnostic pop
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<container::ContainerConfig> ContainerConfigFromCri(
    const v1::ContainerConfig& config) {
  container::ContainerConfig out;
  out.metadata.name = config.metadata().name();
  out.metadata.attempt = config.metadata().attempt();
  out.image = config.image().image();
  out.command.assign(config.command().begin(), config.command().end());
  out.args.assign(config.args().begin(), config.args().end());
  out.working_dir = config.working_dir();
  for (const v1::KeyValue& kv : config.envs()) {
    out.envs.push_back({kv.key(), kv.value()});
  }
  for (int i = 0; i < config.mounts_size(); ++i) {
    const v1::Mount& wire = config.mounts(i);
    std::string field = absl::StrCat("config.mounts[", i, "]");
    // Upstream's uidMappings, gidMappings, image, image_sub_path and
    // mount_options are not in our proto: arriving, they are unknown
    // fields. Dropping them would mount something else than asked.
    if (!wire.GetReflection()->GetUnknownFields(wire).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field,
          ": id-mapped mounts, image volumes and mount options are not "
          "supported"));
    }
    int propagation = wire.propagation();
    if (propagation < 0 || propagation > 2) {
      return Unknown(absl::StrCat(field, ".propagation"), propagation);
    }
    out.mounts.push_back(
        {wire.container_path(), wire.host_path(), wire.readonly(),
         wire.recursive_read_only(),
         static_cast<container::MountPropagation>(propagation)});
  }
  for (const v1::Device& d : config.devices()) {
    out.devices.push_back({d.container_path(), d.host_path(), d.permissions()});
  }
  out.labels.insert(config.labels().begin(), config.labels().end());
  out.annotations.insert(config.annotations().begin(),
                         config.annotations().end());
  out.log_path = config.log_path();
  out.stdin_ = config.stdin();
  out.stdin_once = config.stdin_once();
  out.tty = config.tty();

  const v1::LinuxContainerResources& r = config.linux().resources();
  out.resources = {r.cpu_period(),
                   r.cpu_quota(),
                   r.cpu_shares(),
                   r.memory_limit_in_bytes(),
                   r.memory_swap_limit_in_bytes(),
                   r.oom_score_adj(),
                   r.cpuset_cpus(),
                   r.cpuset_mems()};
  if (absl::Status s =
          FromSecurity(config.linux().security_context(), out.security);
      !s.ok()) {
    return s;
  }
  return out;
}

v1::ContainerConfig ContainerConfigToCri(
    const container::ContainerConfig& config) {
  v1::ContainerConfig out;
  out.mutable_metadata()->set_name(config.metadata.name);
  out.mutable_metadata()->set_attempt(config.metadata.attempt);
  out.mutable_image()->set_image(config.image);
  for (const std::string& c : config.command) out.add_command(c);
  for (const std::string& a : config.args) out.add_args(a);
  out.set_working_dir(config.working_dir);
  for (const container::KeyValue& kv : config.envs) {
    v1::KeyValue* wire = out.add_envs();
    wire->set_key(kv.key);
    wire->set_value(kv.value);
  }
  for (const container::Mount& m : config.mounts) {
    v1::Mount* wire = out.add_mounts();
    wire->set_container_path(m.container_path);
    wire->set_host_path(m.host_path);
    wire->set_readonly(m.readonly);
    wire->set_recursive_read_only(m.recursive_read_only);
    wire->set_propagation(static_cast<v1::MountPropagation>(m.propagation));
  }
  for (const container::Device& d : config.devices) {
    v1::Device* wire = out.add_devices();
    wire->set_container_path(d.container_path);
    wire->set_host_path(d.host_path);
    wire->set_permissions(d.permissions);
  }
  out.mutable_labels()->insert(config.labels.begin(), config.labels.end());
  out.mutable_annotations()->insert(config.annotations.begin(),
                                    config.annotations.end());
  out.set_log_path(config.log_path);
  out.set_stdin(config.stdin_);
  out.set_stdin_once(config.stdin_once);
  out.set_tty(config.tty);

  const container::Resources& r = config.resources;
  v1::LinuxContainerResources* res = out.mutable_linux()->mutable_resources();
  res->set_cpu_period(r.cpu_period);
  res->set_cpu_quota(r.cpu_quota);
  res->set_cpu_shares(r.cpu_shares);
  res->set_memory_limit_in_bytes(r.memory_limit_in_bytes);
  res->set_memory_swap_limit_in_bytes(r.memory_swap_limit_in_bytes);
  res->set_oom_score_adj(r.oom_score_adj);
  res->set_cpuset_cpus(r.cpuset_cpus);
  res->set_cpuset_mems(r.cpuset_mems);

  const container::SecurityContext& s = config.security;
  v1::LinuxContainerSecurityContext* sc =
      out.mutable_linux()->mutable_security_context();
  for (const std::string& c : s.capabilities.add) {
    sc->mutable_capabilities()->add_add_capabilities(c);
  }
  for (const std::string& c : s.capabilities.drop) {
    sc->mutable_capabilities()->add_drop_capabilities(c);
  }
  sc->set_privileged(s.privileged);
  if (s.run_as_user.has_value()) {
    sc->mutable_run_as_user()->set_value(*s.run_as_user);
  }
  if (s.run_as_group.has_value()) {
    sc->mutable_run_as_group()->set_value(*s.run_as_group);
  }
  sc->set_run_as_username(s.run_as_username);
  sc->set_readonly_rootfs(s.readonly_rootfs);
  for (int64_t g : s.supplemental_groups) sc->add_supplemental_groups(g);
  sc->set_no_new_privs(s.no_new_privs);
  for (const std::string& p : s.masked_paths) sc->add_masked_paths(p);
  for (const std::string& p : s.readonly_paths) sc->add_readonly_paths(p);
  sc->mutable_seccomp()->set_profile_type(
      static_cast<v1::SecurityProfile::ProfileType>(s.seccomp.type));
  sc->mutable_seccomp()->set_localhost_ref(s.seccomp.localhost_ref);
  if (s.apparmor.has_value()) {
    sc->mutable_apparmor()->set_profile_type(
        static_cast<v1::SecurityProfile::ProfileType>(s.apparmor->type));
    sc->mutable_apparmor()->set_localhost_ref(s.apparmor->localhost_ref);
  }
  return out;
}

}  // namespace podsandbox::cri
