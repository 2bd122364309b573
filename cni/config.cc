#include "cni/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cni/attachment.h"
#include "cni/version.h"
#include "sys/json_fields.h"
#include "sys/status.h"

namespace podsandbox::cni {
namespace {

using json = nlohmann::json;

absl::Status Invalid(absl::string_view source, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", why));
}

// A type is run as <bin_dir>/<type>: anything but a plain name could reach
// outside the bin dirs.
absl::Status ValidatePluginType(absl::string_view type) {
  if (type.empty() || type == "." || type == ".." ||
      absl::StrContains(type, '/') || absl::StrContains(type, '\0')) {
    return absl::InvalidArgumentError(
        absl::StrCat("plugin type \"", type, "\": must be a plain file name"));
  }
  return absl::OkStatus();
}

absl::Status ValidateVersion(absl::string_view field, absl::string_view v) {
  if (!IsKnownVersion(v)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", v, "\": unknown CNI version"));
  }
  if (!IsSupportedVersion(v)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", v, "\": not supported (0.3.0 or later is)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PluginConfig> ParsePlugin(const json& raw,
                                         absl::string_view where) {
  if (!raw.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": must be an object"));
  }
  PluginConfig plugin;
  RETURN_IF_ERROR(sys::OptionalString(raw, "type", where, &plugin.type));
  if (plugin.type.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".type: missing"));
  }
  RETURN_IF_ERROR(sys::Annotate(ValidatePluginType(plugin.type), where));
  plugin.raw = raw;
  return plugin;
}

// The fields a list and a single config share: name and versions.
absl::Status ParseHeader(const json& obj, NetworkConfigList& list) {
  RETURN_IF_ERROR(sys::OptionalString(obj, "name", "", &list.name));
  if (list.name.empty()) return absl::InvalidArgumentError("name: missing");
  if (!IsValidCniIdentifier(list.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "name \"", list.name, "\": must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$"));
  }
  RETURN_IF_ERROR(
      sys::OptionalString(obj, "cniVersion", "", &list.cni_version));
  if (list.cni_version.empty()) {
    return absl::InvalidArgumentError("cniVersion: missing");
  }
  RETURN_IF_ERROR(ValidateVersion("cniVersion", list.cni_version));
  RETURN_IF_ERROR(
      sys::OptionalStrings(obj, "cniVersions", "", &list.cni_versions));
  for (const std::string& v : list.cni_versions) {
    RETURN_IF_ERROR(ValidateVersion("cniVersions", v));
  }
  return sys::OptionalBool(obj, "disableCheck", "", &list.disable_check);
}

absl::StatusOr<NetworkConfigList> ParseList(const json& obj,
                                            absl::string_view bytes,
                                            absl::string_view source) {
  NetworkConfigList list;
  list.source = std::string(source);
  list.bytes = std::string(bytes);
  RETURN_IF_ERROR(ParseHeader(obj, list));
  auto plugins = obj.find("plugins");
  if (plugins == obj.end() || !plugins->is_array() || plugins->empty()) {
    return absl::InvalidArgumentError("plugins: must be a non-empty array");
  }
  for (size_t i = 0; i < plugins->size(); ++i) {
    ASSIGN_OR_RETURN(
        PluginConfig plugin,
        ParsePlugin((*plugins)[i], absl::StrCat("plugins[", i, "]")));
    list.plugins.push_back(std::move(plugin));
  }
  return list;
}

}  // namespace

std::vector<std::string> NetworkConfigList::WantedVersions() const {
  std::vector<std::string> out = {cni_version};
  out.insert(out.end(), cni_versions.begin(), cni_versions.end());
  return out;
}

absl::StatusOr<NetworkConfigList> ParseConfigList(absl::string_view bytes,
                                                  absl::string_view source) {
  absl::StatusOr<json> obj = sys::ParseJsonObject(bytes);
  if (!obj.ok()) return Invalid(source, obj.status().message());
  absl::StatusOr<NetworkConfigList> list = ParseList(*obj, bytes, source);
  if (!list.ok()) return Invalid(source, list.status().message());
  return list;
}

absl::StatusOr<NetworkConfigList> ParseSingleConfig(absl::string_view bytes,
                                                    absl::string_view source) {
  absl::StatusOr<json> obj = sys::ParseJsonObject(bytes);
  if (!obj.ok()) return Invalid(source, obj.status().message());
  // libcni's ConfListFromConf: the list takes the plugin's name and version
  // and holds the plugin object as it is.
  json list = json::object();
  for (const char* key : {"name", "cniVersion"}) {
    if (auto it = obj->find(key); it != obj->end()) list[key] = *it;
  }
  list["plugins"] = json::array({*obj});
  std::string list_bytes = list.dump();
  absl::StatusOr<NetworkConfigList> parsed =
      ParseList(list, list_bytes, source);
  if (!parsed.ok()) return Invalid(source, parsed.status().message());
  return parsed;
}

absl::StatusOr<NetworkConfigList> ParseConfigFile(absl::string_view path,
                                                  absl::string_view bytes) {
  if (absl::EndsWith(path, ".conflist")) return ParseConfigList(bytes, path);
  if (absl::EndsWith(path, ".conf") || absl::EndsWith(path, ".json")) {
    return ParseSingleConfig(bytes, path);
  }
  return Invalid(path, "not a .conflist, .conf or .json file");
}

bool IsConfigFileName(absl::string_view name) {
  return absl::EndsWith(name, ".conflist") || absl::EndsWith(name, ".conf") ||
         absl::EndsWith(name, ".json");
}

absl::StatusOr<std::string> FindPlugin(const std::vector<std::string>& bin_dirs,
                                       absl::string_view type) {
  RETURN_IF_ERROR(ValidatePluginType(type));
  for (const std::string& dir : bin_dirs) {
    std::string path = absl::StrCat(dir, "/", type);
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("plugin \"", type, "\" not found in [",
                   absl::StrJoin(bin_dirs, ", "), "]"));
}

}  // namespace podsandbox::cni
