#include "image/registry_hosts.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace podsandbox::image {
namespace {

// Splits "scheme://host[:port]" into scheme and host; false when it is not
// that shape (a path, a user, an empty host).
bool SplitUrl(absl::string_view url, absl::string_view* scheme,
              absl::string_view* host) {
  absl::string_view rest = absl::StripSuffix(url, "/");
  if (absl::ConsumePrefix(&rest, "https://")) {
    *scheme = "https";
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    *scheme = "http";
  } else {
    return false;
  }
  *host = rest;
  return !rest.empty() && rest.find_first_of("/@?# ") == rest.npos;
}

}  // namespace

absl::StatusOr<RegistryHosts> RegistryHosts::Create(
    std::map<std::string, HostConfig> hosts) {
  for (const auto& [host, config] : hosts) {
    if (host.empty()) {
      return absl::InvalidArgumentError(
          "registries: a registry's host name must not be empty");
    }
    for (size_t i = 0; i < config.mirrors.size(); ++i) {
      absl::string_view scheme, mirror_host;
      if (!SplitUrl(config.mirrors[i], &scheme, &mirror_host)) {
        return absl::InvalidArgumentError(
            absl::StrCat("registries.\"", host, "\".mirrors[", i, "]: \"",
                         config.mirrors[i], "\" is not http(s)://host[:port]"));
      }
    }
  }
  RegistryHosts result;
  result.hosts_ = std::move(hosts);
  return result;
}

Endpoint RegistryHosts::ForUrl(absl::string_view scheme, absl::string_view host,
                               bool mirror) const {
  Endpoint e;
  e.url = absl::StrCat(scheme, "://", host);
  e.mirror = mirror;
  if (auto it = hosts_.find(std::string(host)); it != hosts_.end()) {
    e.ca_file = it->second.ca_file;
    e.verify_tls = !it->second.insecure;
  }
  return e;
}

std::vector<Endpoint> RegistryHosts::Endpoints(
    absl::string_view registry) const {
  std::vector<Endpoint> out;
  bool insecure = false;
  if (auto it = hosts_.find(std::string(registry)); it != hosts_.end()) {
    for (const std::string& url : it->second.mirrors) {
      absl::string_view scheme, host;
      // Create validated every mirror.
      if (SplitUrl(url, &scheme, &host)) {
        out.push_back(ForUrl(scheme, host, /*mirror=*/true));
      }
    }
    insecure = it->second.insecure;
  }
  // docker.io's API lives on another host than its name (docker's default).
  absl::string_view host =
      registry == "docker.io" ? "registry-1.docker.io" : registry;
  Endpoint self = ForUrl(insecure ? "http" : "https", host, false);
  if (registry == "docker.io") {
    if (auto it = hosts_.find("docker.io"); it != hosts_.end()) {
      self.ca_file = it->second.ca_file;
    }
  }
  out.push_back(std::move(self));
  return out;
}

}  // namespace podsandbox::image
