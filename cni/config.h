// CNI network configuration: parsing and validating one network config
// list, from a .conflist (a list) or a .conf/.json (one plugin, which
// becomes a one-plugin list, as libcni does), and finding plugin binaries.
//
// Plugin objects are kept as parsed JSON so that fields we do not know pass
// through to the plugin untouched. `bytes` is the list's JSON, kept for the
// result cache: DEL must run the configuration ADD ran, even if the file
// changed since.
#ifndef PODSANDBOX_CNI_CONFIG_H_
#define PODSANDBOX_CNI_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace podsandbox::cni {

struct PluginConfig {
  std::string type;    // a plain file name, looked up in the bin dirs
  nlohmann::json raw;  // the plugin's object as written
};

struct NetworkConfigList {
  std::string name;
  std::string cni_version;
  std::vector<std::string> cni_versions;  // 1.1.0 "cniVersions", if any
  bool disable_check = false;
  std::vector<PluginConfig> plugins;
  std::string bytes;   // the list as JSON
  std::string source;  // where it came from, for messages

  // cni_version followed by cni_versions: what version negotiation may pick.
  std::vector<std::string> WantedVersions() const;
};

// Parses a config list (`{"name","cniVersion","plugins":[...]}`).
// InvalidArgument, message starting with `source`, when: the JSON is bad
// (with line and column), name is missing or not ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$,
// cniVersion is missing, unknown or older than 0.3.0, plugins is empty, or a
// plugin has no type or a type that is not a plain file name.
absl::StatusOr<NetworkConfigList> ParseConfigList(absl::string_view bytes,
                                                  absl::string_view source);

// Parses a single-plugin config and wraps it in a list, as libcni's
// ConfListFromConf does. Same errors as ParseConfigList.
absl::StatusOr<NetworkConfigList> ParseSingleConfig(absl::string_view bytes,
                                                    absl::string_view source);

// Dispatches on the file name: *.conflist to ParseConfigList, *.conf and
// *.json to ParseSingleConfig. InvalidArgument for any other extension.
absl::StatusOr<NetworkConfigList> ParseConfigFile(absl::string_view path,
                                                  absl::string_view bytes);

// Whether libcni would load a file with this name from a conf dir.
bool IsConfigFileName(absl::string_view name);

// The absolute path of plugin `type`: the first executable regular file of
// that name in `bin_dirs`. FailedPrecondition naming the dirs when there is
// none; InvalidArgument when `type` is not a plain file name.
absl::StatusOr<std::string> FindPlugin(const std::vector<std::string>& bin_dirs,
                                       absl::string_view type);

}  // namespace podsandbox::cni

#endif  // PODSANDBOX_CNI_CONFIG_H_
