// Where to pull a registry's images from: per registry host, mirrors tried
// in order, then the registry itself, with the TLS settings of each (in the
// spirit of containerd's hosts.toml and CRI-O's registries.conf).
//
// Immutable after Create; thread-safe to read.
#ifndef PODSANDBOX_IMAGE_REGISTRY_HOSTS_H_
#define PODSANDBOX_IMAGE_REGISTRY_HOSTS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace podsandbox::image {

struct HostConfig {
  // Endpoint URLs, "http://127.0.0.1:5000" or "https://mirror.example"
  // (scheme, host, optional port; no path).
  std::vector<std::string> mirrors;
  // PEM CA bundle that verifies this host's certificate, in place of the
  // system's; empty: the system's.
  std::string ca_file;
  // The registry itself is reached over plain http; an https endpoint of
  // this host (a mirror URL naming it) is not verified.
  bool insecure = false;
};

// One place to try, with everything the HTTP layer needs for it.
struct Endpoint {
  std::string url;  // "https://registry-1.docker.io", no trailing '/'
  std::string ca_file;
  bool verify_tls = true;
  bool mirror = false;
};

class RegistryHosts {
 public:
  // No configuration: every registry over verified https.
  RegistryHosts() = default;

  // Validates `hosts` (keyed by registry host as in a Reference, e.g.
  // "registry.k8s.io", "127.0.0.1:5000"). InvalidArgument naming the
  // field as podsandboxd's TOML spells it: "registries.\"<host>\".mirrors[i]"
  // for a mirror that is not an http(s) URL of a host, "registries" for an
  // empty host name.
  static absl::StatusOr<RegistryHosts> Create(
      std::map<std::string, HostConfig> hosts);

  // Mirrors of `registry` in order, then the registry itself: https unless
  // configured insecure; "docker.io" is https://registry-1.docker.io. A
  // mirror takes the ca_file/insecure configured for its own host.
  std::vector<Endpoint> Endpoints(absl::string_view registry) const;

 private:
  Endpoint ForUrl(absl::string_view scheme, absl::string_view host,
                  bool mirror) const;

  std::map<std::string, HostConfig> hosts_;
};

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_REGISTRY_HOSTS_H_
