// The spec versions each plugin binary supports, asked with VERSION once per
// binary and remembered by path, inode and mtime: a Go plugin exec costs
// about 8 ms, and a replaced binary (new inode or mtime) is asked again.
//
// Thread-safe. The lock is never held while a plugin runs; two threads
// asking about the same new binary may both run VERSION, harmlessly.
#ifndef PODSANDBOX_CNI_PLUGIN_VERSIONS_H_
#define PODSANDBOX_CNI_PLUGIN_VERSIONS_H_

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "cni/plugin_exec.h"
#include "sys/sys.h"

namespace podsandbox::cni {

// The versions a VERSION reply lists. InvalidArgument when it is not a JSON
// object with a string cniVersion; a reply without supportedVersions (a
// pre-0.3 plugin) supports just its cniVersion.
absl::StatusOr<std::vector<std::string>> ParseVersionReply(
    absl::string_view reply);

class PluginVersions {
 public:
  explicit PluginVersions(sys::Sys& sys) : sys_(sys) {}

  // The versions the binary `call.path` supports. `call` supplies the path,
  // CNI_PATH, PATH and timeout; command and stdin are set here.
  // Errors: ExecPlugin's, or Unknown for a reply that does not parse.
  absl::StatusOr<std::vector<std::string>> Supported(PluginCall call)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using Identity = std::tuple<uint64_t, uint64_t, int64_t>;  // dev, ino, mtime
  struct Entry {
    Identity identity;
    std::vector<std::string> versions;
  };

  sys::Sys& sys_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podsandbox::cni

#endif  // PODSANDBOX_CNI_PLUGIN_VERSIONS_H_
