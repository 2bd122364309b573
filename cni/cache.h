// The result cache: what ADD did, per network + container + interface, so
// that DEL and CHECK can run later with the same config, arguments and
// prevResult, even across daemon restarts and config changes. portmap's DEL
// removes nothing without the portMappings it was given on ADD, so the
// capability arguments are kept too.
//
// Files are <cache_dir>/results/<network>-<container>-<ifname> (dir 0700,
// files 0600), in libcni's cniCacheV1 layout: {"kind":"cniCacheV1",
// "containerId","config"(base64 of the list JSON),"ifName","networkName",
// "netns","cniArgs":[[k,v]...],"capabilityArgs":{...},"result":{...}}.
// Writes are atomic and durable: temp file, fsync, rename, fsync the dir.
//
// Thread-safe for different containers; callers serialise operations on one
// container.
#ifndef PODSANDBOX_CNI_CACHE_H_
#define PODSANDBOX_CNI_CACHE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "sys/sys.h"

namespace podsandbox::cni {

struct CacheEntry {
  std::string network_name;
  std::string container_id;
  std::string ifname;
  std::string netns;
  std::string config;  // the network config list JSON ADD ran
  std::vector<std::pair<std::string, std::string>> cni_args;
  nlohmann::json capability_args = nlohmann::json::object();
  std::string result;  // the final ADD result JSON; empty for none
};

// What Find saw for one container and interface.
struct CacheLookup {
  std::vector<CacheEntry> entries;      // one per network, usually one
  std::vector<std::string> unreadable;  // paths of files that do not parse
};

class ResultCache {
 public:
  ResultCache(sys::Sys& sys, std::string cache_dir);

  // Creates the results dir if needed and removes the temp files of writes
  // that a kill cut short between write and rename
  // ("<network>-<container>-<ifname>.tmp"). Call once at start, before any
  // Write, while nothing else writes the cache.
  absl::Status Init();

  // Writes `entry` atomically, creating the results dir if needed.
  absl::Status Write(const CacheEntry& entry);

  // NotFound when there is no entry; DataLoss when the file does not parse.
  absl::StatusOr<CacheEntry> Read(absl::string_view network,
                                  absl::string_view container_id,
                                  absl::string_view ifname) const;

  // Every entry for this container and interface, whatever the network: a
  // DEL must find what ADD cached even if the default network was renamed.
  // A missing results dir is an empty lookup.
  absl::StatusOr<CacheLookup> Find(absl::string_view container_id,
                                   absl::string_view ifname) const;

  // Every entry, for garbage collection after a restart.
  absl::StatusOr<CacheLookup> All() const;

  // Removes one entry; a missing one counts as removed.
  absl::Status Remove(absl::string_view network, absl::string_view container_id,
                      absl::string_view ifname);
  absl::Status RemovePath(absl::string_view path);

  std::string PathFor(absl::string_view network, absl::string_view container_id,
                      absl::string_view ifname) const;

 private:
  // Entries whose file name ends in `name_suffix` and that `keep` accepts.
  absl::StatusOr<CacheLookup> Scan(
      absl::string_view name_suffix,
      absl::FunctionRef<bool(const CacheEntry&, absl::string_view)> keep) const;

  sys::Sys& sys_;
  const std::string results_dir_;
};

// The cniCacheV1 JSON for `entry`, and back. Decode: DataLoss naming the
// field that is missing or of the wrong type.
std::string EncodeCacheEntry(const CacheEntry& entry);
absl::StatusOr<CacheEntry> DecodeCacheEntry(absl::string_view text);

}  // namespace podsandbox::cni

#endif  // PODSANDBOX_CNI_CACHE_H_
