#include "cni/config_loader.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::cni {

ConfigLoader::ConfigLoader(std::string conf_dir,
                           std::vector<std::string> bin_dirs)
    : conf_dir_(std::move(conf_dir)), bin_dirs_(std::move(bin_dirs)) {}

ConfigLoader::Signature ConfigLoader::Scan() const {
  Signature signature;
  // An unreadable dir is no config: Ready() says so.
  absl::StatusOr<std::vector<std::string>> names = sys::ListDir(conf_dir_);
  if (!names.ok()) return signature;
  for (const std::string& name : *names) {
    if (!IsConfigFileName(name)) continue;
    struct stat st;
    // Follows symlinks: a config may be a link into a managed location.
    if (::stat(absl::StrCat(conf_dir_, "/", name).c_str(), &st) != 0 ||
        !S_ISREG(st.st_mode)) {
      continue;
    }
    signature.emplace_back(
        name, st.st_ino, st.st_size,
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
            st.st_mtim.tv_nsec);
  }
  std::sort(signature.begin(), signature.end());
  return signature;
}

ConfigLoader::Loaded ConfigLoader::Load(const Signature& signature) const {
  Loaded loaded;
  for (const auto& entry : signature) {
    std::string path = absl::StrCat(conf_dir_, "/", std::get<0>(entry));
    absl::StatusOr<std::string> bytes = sys::ReadFile(path);
    if (!bytes.ok()) {
      loaded.problems.push_back(bytes.status().ToString());
      continue;
    }
    absl::StatusOr<NetworkConfigList> list = ParseConfigFile(path, *bytes);
    if (!list.ok()) {
      loaded.problems.push_back(std::string(list.status().message()));
      continue;
    }
    loaded.network = std::make_shared<const NetworkConfigList>(*list);
    break;
  }
  return loaded;
}

absl::StatusOr<std::shared_ptr<const NetworkConfigList>>
ConfigLoader::Default() {
  Signature signature = Scan();
  Loaded loaded;
  bool changed;
  {
    absl::MutexLock lock(&mu_);
    changed = !loaded_ || signature != signature_;
    if (!changed) loaded = current_;
  }
  if (changed) {
    loaded = Load(signature);
    absl::MutexLock lock(&mu_);
    loaded_ = true;
    signature_ = signature;
    current_ = loaded;
  }
  if (loaded.network != nullptr) return loaded.network;
  std::string why = loaded.problems.empty()
                        ? "no *.conflist, *.conf or *.json file"
                        : absl::StrCat("no valid config: ",
                                       absl::StrJoin(loaded.problems, "; "));
  return absl::FailedPreconditionError(
      absl::StrCat("CNI conf dir ", conf_dir_, ": ", why));
}

absl::Status ConfigLoader::Ready() {
  ASSIGN_OR_RETURN(std::shared_ptr<const NetworkConfigList> network, Default());
  for (const PluginConfig& plugin : network->plugins) {
    absl::StatusOr<std::string> path = FindPlugin(bin_dirs_, plugin.type);
    if (!path.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("network ", network->name, " (", network->source,
                       "): ", path.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace podsandbox::cni
