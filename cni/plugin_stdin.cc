#include "cni/plugin_stdin.h"

namespace podsandbox::cni {

using json = nlohmann::json;

std::string BuildPluginStdin(absl::string_view network_name,
                             absl::string_view cni_version,
                             const PluginConfig& plugin,
                             const json& prev_result,
                             const json& capability_args) {
  json conf = plugin.raw;
  conf["name"] = std::string(network_name);
  conf["cniVersion"] = std::string(cni_version);
  if (prev_result.is_object()) {
    conf["prevResult"] = prev_result;
  } else {
    conf.erase("prevResult");
  }
  // Only capabilities the plugin asked for: a plugin may reject keys it does
  // not know, and it must not see arguments meant for another plugin.
  json runtime_config = json::object();
  if (auto caps = plugin.raw.find("capabilities");
      caps != plugin.raw.end() && caps->is_object() &&
      capability_args.is_object()) {
    for (auto it = caps->begin(); it != caps->end(); ++it) {
      auto arg = capability_args.find(it.key());
      if (it.value() == true && arg != capability_args.end()) {
        runtime_config[it.key()] = *arg;
      }
    }
  }
  conf.erase("capabilities");
  // As libcni: a runtimeConfig written in the file survives unless the
  // runtime has capability arguments for this plugin.
  if (!runtime_config.empty())
    conf["runtimeConfig"] = std::move(runtime_config);
  return conf.dump();
}

}  // namespace podsandbox::cni
