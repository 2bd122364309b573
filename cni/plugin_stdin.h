// What one plugin of a list reads on stdin, derived as libcni does: the
// plugin's own object, with the list's name and the negotiated cniVersion
// injected, prevResult set (or removed), runtimeConfig holding exactly the
// capabilities the plugin declares true and the runtime has arguments for,
// and capabilities removed. Every other field passes through untouched.
#ifndef PODSANDBOX_CNI_PLUGIN_STDIN_H_
#define PODSANDBOX_CNI_PLUGIN_STDIN_H_

#include <string>

#include "absl/strings/string_view.h"
#include "cni/config.h"
#include "nlohmann/json.hpp"

namespace podsandbox::cni {

// `prev_result` is a JSON object, or null for none (the first ADD plugin;
// DEL without a cached result). `capability_args` maps capability names to
// their arguments (see CapabilityArgs in attachment.h).
std::string BuildPluginStdin(absl::string_view network_name,
                             absl::string_view cni_version,
                             const PluginConfig& plugin,
                             const nlohmann::json& prev_result,
                             const nlohmann::json& capability_args);

}  // namespace podsandbox::cni

#endif  // PODSANDBOX_CNI_PLUGIN_STDIN_H_
