#include "cni/plugin_versions.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "sys/json_fields.h"
#include "sys/status.h"

namespace podsandbox::cni {
namespace {

// What we send on VERSION's stdin: the newest version we speak. Plugins list
// all they support whatever this says.
constexpr char kProbeVersion[] = "1.1.0";

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseVersionReply(
    absl::string_view reply) {
  ASSIGN_OR_RETURN(nlohmann::json obj, sys::ParseJsonObject(reply));
  std::string version;
  RETURN_IF_ERROR(sys::OptionalString(obj, "cniVersion", "version", &version));
  if (version.empty()) {
    return absl::InvalidArgumentError("version.cniVersion: missing");
  }
  std::vector<std::string> supported = {version};
  RETURN_IF_ERROR(
      sys::OptionalStrings(obj, "supportedVersions", "version", &supported));
  return supported;
}

absl::StatusOr<std::vector<std::string>> PluginVersions::Supported(
    PluginCall call) {
  struct stat st;
  if (::stat(call.path.c_str(), &st) != 0) {
    return sys::ErrnoError(errno, "stat plugin %s", call.path);
  }
  Identity identity(st.st_dev, st.st_ino,
                    static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                        st.st_mtim.tv_nsec);
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(call.path);
    if (it != cache_.end() && it->second.identity == identity) {
      return it->second.versions;
    }
  }
  call.command = "VERSION";
  call.container_id.clear();
  call.netns.clear();
  call.ifname.clear();
  call.cni_args.clear();
  call.stdin_data = nlohmann::json{{"cniVersion", kProbeVersion}}.dump();
  ASSIGN_OR_RETURN(std::string reply, ExecPlugin(sys_, call));
  absl::StatusOr<std::vector<std::string>> versions = ParseVersionReply(reply);
  if (!versions.ok()) {
    return absl::UnknownError(
        absl::StrCat("plugin ", PluginName(call.path),
                     " VERSION: bad reply: ", versions.status().message()));
  }
  absl::MutexLock lock(&mu_);
  cache_[call.path] = Entry{identity, *versions};
  return *versions;
}

}  // namespace podsandbox::cni
