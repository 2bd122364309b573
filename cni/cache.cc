#include "cni/cache.h"

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sys/file.h"
#include "sys/json_fields.h"
#include "sys/status.h"

namespace podsandbox::cni {
namespace {

using json = nlohmann::json;

constexpr char kKind[] = "cniCacheV1";

absl::Status Corrupt(absl::string_view why) {
  return absl::DataLossError(absl::StrCat("CNI cache entry: ", why));
}

}  // namespace

std::string EncodeCacheEntry(const CacheEntry& entry) {
  json cni_args = json::array();
  for (const auto& [key, value] : entry.cni_args) {
    cni_args.push_back(json::array({key, value}));
  }
  json obj = {
      {"kind", kKind},
      {"containerId", entry.container_id},
      {"config", absl::Base64Escape(entry.config)},
      {"ifName", entry.ifname},
      {"networkName", entry.network_name},
      {"netns", entry.netns},
      {"cniArgs", std::move(cni_args)},
      {"capabilityArgs", entry.capability_args},
  };
  if (!entry.result.empty()) {
    json result = json::parse(entry.result, nullptr, false);
    // Results come from ParseResult, which has parsed them already.
    if (!result.is_discarded()) obj["result"] = std::move(result);
  }
  return obj.dump();
}

absl::StatusOr<CacheEntry> DecodeCacheEntry(absl::string_view text) {
  absl::StatusOr<json> parsed = sys::ParseJsonObject(text);
  if (!parsed.ok()) return Corrupt(parsed.status().message());
  const json& obj = *parsed;
  std::string kind;
  CacheEntry entry;
  std::string config_base64;
  for (const auto& [key, out] :
       {std::pair<const char*, std::string*>{"kind", &kind},
        {"containerId", &entry.container_id},
        {"config", &config_base64},
        {"ifName", &entry.ifname},
        {"networkName", &entry.network_name},
        {"netns", &entry.netns}}) {
    if (absl::Status s = sys::OptionalString(obj, key, "cache", out); !s.ok()) {
      return Corrupt(s.message());
    }
  }
  if (kind != kKind) return Corrupt(absl::StrCat("kind \"", kind, "\""));
  if (entry.container_id.empty() || entry.ifname.empty() ||
      entry.network_name.empty()) {
    return Corrupt("containerId, ifName and networkName are required");
  }
  if (!absl::Base64Unescape(config_base64, &entry.config)) {
    return Corrupt("config: not base64");
  }
  if (auto it = obj.find("cniArgs"); it != obj.end() && !it->is_null()) {
    if (!it->is_array()) return Corrupt("cniArgs: must be an array");
    for (const json& pair : *it) {
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() ||
          !pair[1].is_string()) {
        return Corrupt("cniArgs: must hold [key, value] string pairs");
      }
      entry.cni_args.emplace_back(pair[0].get<std::string>(),
                                  pair[1].get<std::string>());
    }
  }
  if (auto it = obj.find("capabilityArgs"); it != obj.end() && !it->is_null()) {
    if (!it->is_object()) return Corrupt("capabilityArgs: must be an object");
    entry.capability_args = *it;
  }
  if (auto it = obj.find("result"); it != obj.end() && !it->is_null()) {
    if (!it->is_object()) return Corrupt("result: must be an object");
    entry.result = it->dump();
  }
  return entry;
}

ResultCache::ResultCache(sys::Sys& sys, std::string cache_dir)
    : sys_(sys), results_dir_(absl::StrCat(cache_dir, "/results")) {}

absl::Status ResultCache::Init() {
  RETURN_IF_ERROR(sys::MakeDirs(sys_, results_dir_, 0700));
  return sys::RemoveTempFiles(sys_, results_dir_).status();
}

std::string ResultCache::PathFor(absl::string_view network,
                                 absl::string_view container_id,
                                 absl::string_view ifname) const {
  return absl::StrCat(results_dir_, "/", network, "-", container_id, "-",
                      ifname);
}

absl::Status ResultCache::Write(const CacheEntry& entry) {
  RETURN_IF_ERROR(sys::MakeDirs(sys_, results_dir_, 0700));
  return sys::WriteFileAtomically(
      sys_, PathFor(entry.network_name, entry.container_id, entry.ifname),
      EncodeCacheEntry(entry), 0600);
}

absl::StatusOr<CacheEntry> ResultCache::Read(absl::string_view network,
                                             absl::string_view container_id,
                                             absl::string_view ifname) const {
  std::string path = PathFor(network, container_id, ifname);
  ASSIGN_OR_RETURN(std::string text, sys::ReadFile(path));
  return sys::Annotate(DecodeCacheEntry(text), path);
}

absl::StatusOr<CacheLookup> ResultCache::Scan(
    absl::string_view name_suffix,
    absl::FunctionRef<bool(const CacheEntry&, absl::string_view)> keep) const {
  CacheLookup lookup;
  ASSIGN_OR_RETURN(std::vector<std::string> names, sys::ListDir(results_dir_));
  for (absl::string_view name : names) {
    if (name.empty() || name[0] == '.' || !absl::EndsWith(name, name_suffix) ||
        name.size() == name_suffix.size() ||
        absl::EndsWith(name, sys::kTempSuffix)) {
      continue;
    }
    std::string path = absl::StrCat(results_dir_, "/", name);
    absl::StatusOr<std::string> text = sys::ReadFile(path);
    if (!text.ok()) {
      if (absl::IsNotFound(text.status())) continue;  // removed meanwhile
      lookup.unreadable.push_back(path);
      continue;
    }
    absl::StatusOr<CacheEntry> entry = DecodeCacheEntry(*text);
    if (!entry.ok()) {
      lookup.unreadable.push_back(path);
      continue;
    }
    if (keep(*entry, name)) lookup.entries.push_back(*std::move(entry));
  }
  return lookup;
}

absl::StatusOr<CacheLookup> ResultCache::Find(absl::string_view container_id,
                                              absl::string_view ifname) const {
  // Network names may hold '-', so the name only narrows the search; the
  // fields inside decide.
  std::string suffix = absl::StrCat("-", container_id, "-", ifname);
  return Scan(suffix, [&](const CacheEntry& entry, absl::string_view name) {
    return entry.container_id == container_id && entry.ifname == ifname &&
           name == absl::StrCat(entry.network_name, suffix);
  });
}

absl::StatusOr<CacheLookup> ResultCache::All() const {
  return Scan("", [](const CacheEntry&, absl::string_view) { return true; });
}

absl::Status ResultCache::Remove(absl::string_view network,
                                 absl::string_view container_id,
                                 absl::string_view ifname) {
  return RemovePath(PathFor(network, container_id, ifname));
}

absl::Status ResultCache::RemovePath(absl::string_view path) {
  return sys::RemoveFileIfExists(sys_, path);
}

}  // namespace podsandbox::cni
