// The default network of a CNI conf dir, as libcni picks it: files named
// *.conflist, *.conf or *.json, sorted by name; the first one that parses
// and validates is the default network. Files that fail are skipped and
// reported.
//
// Cheap to call often: each call lists the dir and stats the candidate files
// (no reads) and re-parses only when a name, size, inode or mtime changed, so
// a daemon picks up config changes without a restart.
//
// Thread-safe. No lock is held while files are read.
#ifndef PODSANDBOX_CNI_CONFIG_LOADER_H_
#define PODSANDBOX_CNI_CONFIG_LOADER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cni/config.h"

namespace podsandbox::cni {

class ConfigLoader {
 public:
  ConfigLoader(std::string conf_dir, std::vector<std::string> bin_dirs);

  // The default network, reloaded first if the dir changed.
  // FailedPrecondition when there is none, naming the dir and, for every
  // file skipped, the file and why (bad JSON with line and column, missing
  // type, unknown cniVersion, ...).
  absl::StatusOr<std::shared_ptr<const NetworkConfigList>> Default()
      ABSL_LOCKS_EXCLUDED(mu_);

  // OK when there is a default network and every plugin it names is an
  // executable in the bin dirs; else FailedPrecondition saying why. The
  // binaries are looked up on every call, so installing one fixes it.
  absl::Status Ready() ABSL_LOCKS_EXCLUDED(mu_);

  const std::vector<std::string>& bin_dirs() const { return bin_dirs_; }

 private:
  // What identifies a version of the dir: per candidate file, name, inode,
  // size and mtime.
  using Signature =
      std::vector<std::tuple<std::string, uint64_t, int64_t, int64_t>>;

  struct Loaded {
    std::shared_ptr<const NetworkConfigList> network;  // null: none valid
    std::vector<std::string> problems;                 // one per skipped file
  };

  Signature Scan() const;
  Loaded Load(const Signature& signature) const;

  const std::string conf_dir_;
  const std::vector<std::string> bin_dirs_;
  absl::Mutex mu_;
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  Signature signature_ ABSL_GUARDED_BY(mu_);
  Loaded current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podsandbox::cni

#endif  // PODSANDBOX_CNI_CONFIG_LOADER_H_
