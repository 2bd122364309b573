// The result of a CNI ADD: what the plugins configured. Parsed from the
// spec's result JSON for versions 0.3.0, 0.3.1, 0.4.0, 1.0.0 and 1.1.0 (the
// same shape, except that 0.3.x and 0.4.0 also tag each IP with "version");
// 0.1.0/0.2.0 results (ip4/ip6 objects) are refused.
//
// The raw JSON is kept verbatim: it is what goes into the result cache and
// what DEL and CHECK pass back to plugins as prevResult.
#ifndef PODSANDBOX_CNI_RESULT_H_
#define PODSANDBOX_CNI_RESULT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace podsandbox::cni {

struct Interface {
  std::string name;
  std::string mac;
  std::string sandbox;  // netns path; empty for host-side interfaces
};

struct IpConfig {
  std::string address;  // CIDR, "10.233.0.2/24"
  std::string gateway;  // may be empty
  int interface = -1;   // index into Result::interfaces; -1 when absent
};

struct Route {
  std::string dst;  // CIDR
  std::string gw;   // may be empty
};

struct Dns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
};

struct Result {
  std::string cni_version;
  std::vector<Interface> interfaces;
  std::vector<IpConfig> ips;
  std::vector<Route> routes;
  Dns dns;
  std::string raw_json;

  // The addresses of ips without their prefix length, IPv4 ones first, each
  // family in result order: what the pod's status reports.
  std::vector<std::string> PodIps() const;
};

// Parses a plugin's ADD output. InvalidArgument (naming what is wrong) for
// text that is not a JSON object, an unsupported cniVersion, or fields of
// the wrong type; an address that is not a CIDR or an interface index out of
// range are errors too. A result without cniVersion is taken to be
// `default_version`.
absl::StatusOr<Result> ParseResult(absl::string_view json_text,
                                   absl::string_view default_version);

}  // namespace podsandbox::cni

#endif  // PODSANDBOX_CNI_RESULT_H_
