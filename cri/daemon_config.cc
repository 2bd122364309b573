#include "cri/daemon_config.h"

// toml++ is used header-only with exceptions off, so a parse error comes
// back as a value (STYLE: never throw or catch). Debian's shared library is
// built with exceptions; its symbols live in toml++'s `ex` ABI namespace
// and these in `noex`, so the two never collide.
#undef TOML_HEADER_ONLY
#undef TOML_SHARED_LIB
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "image/puller.h"
#include "image/registry_hosts.h"
#include "metrics/http_server.h"
#include "nlohmann/json.hpp"
#include "oci/runtime_handler.h"
#include "oci/runtime_type.h"
#include "sys/log.h"
#include "sys/status.h"
#include "toml++/toml.h"

namespace podsandbox::cri {
namespace {

// toml++ speaks std::string_view; this absl does not convert from it.
std::string Str(std::string_view text) { return std::string(text); }
std::string Str(const toml::key& key) { return Str(key.str()); }

// Builds "<source>:<line>: <key>: <why>" errors.
class Reader {
 public:
  explicit Reader(absl::string_view source) : source_(source) {}

  absl::Status Error(const toml::node& node, absl::string_view key,
                     absl::string_view why) const {
    return absl::InvalidArgumentError(absl::StrCat(
        source_, ":", node.source().begin.line, ": ", key, ": ", why));
  }

  absl::StatusOr<std::string> String(const toml::node& node,
                                     absl::string_view key) const {
    if (const toml::value<std::string>* v = node.as_string()) return v->get();
    return Error(node, key, "must be a string");
  }

  absl::StatusOr<bool> Bool(const toml::node& node,
                            absl::string_view key) const {
    if (const toml::value<bool>* v = node.as_boolean()) return v->get();
    return Error(node, key, "must be true or false");
  }

  absl::StatusOr<int64_t> Integer(const toml::node& node,
                                  absl::string_view key) const {
    if (const toml::value<int64_t>* v = node.as_integer()) return v->get();
    return Error(node, key, "must be an integer");
  }

  absl::StatusOr<absl::Duration> Duration(const toml::node& node,
                                          absl::string_view key) const {
    absl::StatusOr<std::string> text = String(node, key);
    if (!text.ok()) return text.status();
    absl::Duration d;
    if (!absl::ParseDuration(*text, &d) || d < absl::ZeroDuration()) {
      return Error(node, key,
                   absl::StrCat("\"", *text,
                                "\" is not a duration (as \"10s\", \"1m\")"));
    }
    return d;
  }

  absl::StatusOr<std::vector<std::string>> Strings(
      const toml::node& node, absl::string_view key) const {
    const toml::array* array = node.as_array();
    if (array == nullptr)
      return Error(node, key, "must be an array of strings");
    std::vector<std::string> out;
    for (size_t i = 0; i < array->size(); ++i) {
      absl::StatusOr<std::string> s =
          String(*array->get(i), absl::StrCat(key, "[", i, "]"));
      if (!s.ok()) return s.status();
      out.push_back(*std::move(s));
    }
    return out;
  }

  absl::StatusOr<const toml::table*> Table(const toml::node& node,
                                           absl::string_view key) const {
    if (const toml::table* t = node.as_table()) return t;
    return Error(node, key, "must be a table");
  }

  absl::Status Unknown(const toml::node& node, absl::string_view key) const {
    return Error(node, key, "unknown key");
  }

 private:
  std::string source_;
};

// Assigns a parsed value or returns its error from the enclosing function.
template <typename T, typename U>
absl::Status Set(absl::StatusOr<U> value, T* out) {
  if (!value.ok()) return value.status();
  *out = *std::move(value);
  return absl::OkStatus();
}

absl::Status ParseCni(const Reader& r, const toml::table& table,
                      sandbox::ControllerOptions* out) {
  for (auto&& [k, node] : table) {
    const std::string key = absl::StrCat("cni.", Str(k));
    absl::Status s;
    if (k == "conf_dir") {
      s = Set(r.String(node, key), &out->cni_conf_dir);
    } else if (k == "bin_dirs") {
      s = Set(r.Strings(node, key), &out->cni_bin_dirs);
    } else if (k == "timeout") {
      s = Set(r.Duration(node, key), &out->cni_timeout);
    } else {
      s = r.Unknown(node, key);
    }
    RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

absl::Status ParseUserns(const Reader& r, const toml::table& table,
                         userns::MappingPolicy* out) {
  for (auto&& [k, node] : table) {
    const std::string key = absl::StrCat("userns.", Str(k));
    absl::Status s;
    if (k == "allow_host_root") {
      s = Set(r.Bool(node, key), &out->allow_host_root);
    } else if (k == "allow_different_uid_gid_maps") {
      s = Set(r.Bool(node, key), &out->allow_different_uid_gid_maps);
    } else if (k == "allow_overlapping_ranges") {
      s = Set(r.Bool(node, key), &out->allow_overlapping_ranges);
    } else {
      s = r.Unknown(node, key);
    }
    RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

// An integer in [min, max] into `out`.
template <typename T>
absl::Status IntegerIn(const Reader& r, const toml::node& node,
                       absl::string_view key, int64_t min, int64_t max,
                       T* out) {
  absl::StatusOr<int64_t> n = r.Integer(node, key);
  if (!n.ok()) return n.status();
  if (*n < min || *n > max) {
    return r.Error(node, key,
                   absl::StrCat("must be in [", min, ", ", max, "]"));
  }
  *out = static_cast<T>(*n);
  return absl::OkStatus();
}

absl::Status ParseLimits(const Reader& r, const toml::table& table,
                         DaemonConfig* out) {
  // Upper bounds keep a typo from disabling a limit; each is far above
  // the default.
  constexpr int64_t kMaxCount = 1 << 20;
  // 0 would refuse every call that finds its workers busy; past 65536
  // queued gRPC calls (a few KiB each) the bound no longer bounds anything.
  constexpr int64_t kMaxQueue = 1 << 16;
  sandbox::PodLimits& limits = out->controller.pod_limits;
  for (auto&& [k, node] : table) {
    const std::string key = absl::StrCat("limits.", Str(k));
    absl::Status s;
    if (k == "sandboxes") {
      s = IntegerIn(r, node, key, 1, kMaxCount, &out->controller.max_sandboxes);
    } else if (k == "containers") {
      s = IntegerIn(r, node, key, 1, kMaxCount, &out->max_containers);
    } else if (k == "request_bytes") {
      // gRPC takes an int; below 64 KiB no real request fits.
      s = IntegerIn(r, node, key, 64 << 10, INT32_MAX, &out->max_request_bytes);
    } else if (k == "label_annotation_bytes") {
      s = IntegerIn(r, node, key, 1, INT32_MAX,
                    &limits.max_label_annotation_bytes);
    } else if (k == "port_mappings") {
      s = IntegerIn(r, node, key, 0, kMaxCount, &limits.max_port_mappings);
    } else if (k == "sysctls") {
      s = IntegerIn(r, node, key, 0, kMaxCount, &limits.max_sysctls);
    } else if (k == "dns_entries") {
      s = IntegerIn(r, node, key, 0, kMaxCount, &limits.max_dns_entries);
    } else if (k == "stop_remove_queue") {
      s = IntegerIn(r, node, key, 1, kMaxQueue, &out->queues.stop_remove);
    } else if (k == "container_queue") {
      s = IntegerIn(r, node, key, 1, kMaxQueue, &out->queues.container);
    } else if (k == "stats_queue") {
      s = IntegerIn(r, node, key, 1, kMaxQueue, &out->queues.stats);
    } else if (k == "pull_queue") {
      s = IntegerIn(r, node, key, 1, kMaxQueue, &out->queues.pull);
    } else if (k == "image_remove_queue") {
      s = IntegerIn(r, node, key, 1, kMaxQueue, &out->queues.image_remove);
    } else {
      s = r.Unknown(node, key);
    }
    RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

absl::Status ParseImages(const Reader& r, const toml::table& table,
                         image::PullOptions* out) {
  // Lower bounds keep a typo from making every pull fail; upper bounds
  // from making a limit meaningless.
  constexpr int64_t kKiB = 1024;
  constexpr int64_t kTiB = int64_t{1} << 40;
  for (auto&& [k, node] : table) {
    const std::string key = absl::StrCat("images.", Str(k));
    absl::Status s;
    if (k == "max_manifest_bytes") {
      s = IntegerIn(r, node, key, 4 * kKiB, int64_t{1} << 30,
                    &out->max_manifest_bytes);
    } else if (k == "max_config_bytes") {
      s = IntegerIn(r, node, key, 4 * kKiB, int64_t{1} << 30,
                    &out->max_config_bytes);
    } else if (k == "max_image_bytes") {
      s = IntegerIn(r, node, key, kKiB * kKiB, kTiB, &out->max_image_bytes);
    } else if (k == "max_layer_bytes") {
      s = IntegerIn(r, node, key, kKiB * kKiB, kTiB, &out->unpack.max_bytes);
    } else if (k == "max_layer_entries") {
      s = IntegerIn(r, node, key, 1, int64_t{1} << 32,
                    &out->unpack.max_entries);
    } else if (k == "connect_timeout") {
      s = Set(r.Duration(node, key), &out->http.connect_timeout);
    } else if (k == "stall_timeout") {
      s = Set(r.Duration(node, key), &out->http.low_speed_time);
    } else {
      s = r.Unknown(node, key);
    }
    RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

absl::Status ParseRegistries(const Reader& r, const toml::table& table,
                             std::map<std::string, image::HostConfig>* out) {
  for (auto&& [host_key, host_node] : table) {
    const std::string host = Str(host_key);
    const std::string prefix = absl::StrCat("registries.\"", host, "\"");
    ASSIGN_OR_RETURN(const toml::table* host_table, r.Table(host_node, prefix));
    image::HostConfig config;
    for (auto&& [k, node] : *host_table) {
      const std::string key = absl::StrCat(prefix, ".", Str(k));
      absl::Status s;
      if (k == "mirrors") {
        s = Set(r.Strings(node, key), &config.mirrors);
      } else if (k == "ca_file") {
        s = Set(r.String(node, key), &config.ca_file);
      } else if (k == "insecure") {
        s = Set(r.Bool(node, key), &config.insecure);
      } else {
        s = r.Unknown(node, key);
      }
      RETURN_IF_ERROR(s);
    }
    (*out)[host] = std::move(config);
  }
  return absl::OkStatus();
}

// infra = "pause" (the default) or "none" (docs/design.md, "Pods without a
// pause").
absl::Status ParseInfra(const Reader& r, const toml::node& node,
                        const std::string& key, bool* none) {
  absl::StatusOr<std::string> value = r.String(node, key);
  if (!value.ok()) return value.status();
  if (*value != "pause" && *value != "none") {
    return r.Error(node, key, "must be \"pause\" or \"none\"");
  }
  *none = *value == "none";
  return absl::OkStatus();
}

absl::Status ParseHandler(const Reader& r, const toml::table& table,
                          const std::string& prefix, oci::RuntimeHandler* out) {
  for (auto&& [k, node] : table) {
    const std::string key = absl::StrCat(prefix, ".", Str(k));
    absl::Status s;
    if (k == "name") {
      s = Set(r.String(node, key), &out->name);
    } else if (k == "type") {
      absl::StatusOr<std::string> name = r.String(node, key);
      if (!name.ok()) return name.status();
      absl::StatusOr<oci::RuntimeType> type = oci::ParseRuntimeType(*name, key);
      if (!type.ok())
        return r.Error(node, key, "must be runc, crun, runsc or builtin");
      out->type = *type;
    } else if (k == "path") {
      s = Set(r.String(node, key), &out->path);
    } else if (k == "root") {
      s = Set(r.String(node, key), &out->root);
    } else if (k == "extra_args") {
      s = Set(r.Strings(node, key), &out->extra_args);
    } else if (k == "no_pivot_root") {
      s = Set(r.Bool(node, key), &out->no_pivot_root);
    } else if (k == "no_new_keyring") {
      s = Set(r.Bool(node, key), &out->no_new_keyring);
    } else if (k == "infra") {
      s = ParseInfra(r, node, key, &out->infra_none);
    } else if (k == "timeout") {
      s = Set(r.Duration(node, key), &out->timeout);
    } else {
      s = r.Unknown(node, key);
    }
    RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

absl::Status ParseHandlers(const Reader& r, const toml::node& node,
                           std::vector<oci::RuntimeHandler>* out) {
  const toml::array* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return r.Error(node, "runtime_handlers",
                   "must be an array of tables ([[runtime_handlers]])");
  }
  for (size_t i = 0; i < array->size(); ++i) {
    oci::RuntimeHandler handler;
    RETURN_IF_ERROR(ParseHandler(r, *array->get(i)->as_table(),
                                 absl::StrCat("runtime_handlers[", i, "]"),
                                 &handler));
    out->push_back(std::move(handler));
  }
  return absl::OkStatus();
}

absl::Status ParseLogLevel(absl::string_view text, absl::string_view field,
                           sys::LogLevel* out) {
  if (!sys::ParseLogLevel(text, out)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", text, "\" is not one of debug, info, warning, error"));
  }
  return absl::OkStatus();
}

absl::Status ParseLogFormat(absl::string_view text, absl::string_view field,
                            sys::LogFormat* out) {
  if (!sys::ParseLogFormat(text, out)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text, "\" is not one of text, json"));
  }
  return absl::OkStatus();
}

absl::Status ParseMetrics(const Reader& r, const toml::table& table,
                          DaemonConfig* out) {
  for (auto&& [k, node] : table) {
    const std::string key = absl::StrCat("metrics.", Str(k));
    absl::Status s;
    if (k == "address") {
      s = Set(r.String(node, key), &out->metrics_address);
      if (s.ok() && !out->metrics_address.empty()) {
        s = metrics::ParseMetricsAddress(out->metrics_address, key).status();
      }
    } else {
      s = r.Unknown(node, key);
    }
    RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

const char* LogLevelName(sys::LogLevel level) {
  switch (level) {
    case sys::LogLevel::kDebug:
      return "debug";
    case sys::LogLevel::kInfo:
      return "info";
    case sys::LogLevel::kWarning:
      return "warning";
    case sys::LogLevel::kError:
      return "error";
  }
  return "info";
}

bool IsAbsolute(absl::string_view path) {
  return !path.empty() && path[0] == '/';
}

absl::Status RequireAbsolute(absl::string_view field, absl::string_view path) {
  if (IsAbsolute(path)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": \"", path, "\" must be an absolute path"));
}

}  // namespace

absl::StatusOr<DaemonConfig> ParseDaemonConfig(absl::string_view text,
                                               absl::string_view source) {
  toml::parse_result parsed = toml::parse(
      std::string_view(text.data(), text.size()), std::string(source));
  if (!parsed) {
    const toml::parse_error& error = parsed.error();
    return absl::InvalidArgumentError(absl::StrCat(
        source, ":", error.source().begin.line, ":",
        error.source().begin.column, ": ", Str(error.description())));
  }
  const Reader r(source);
  DaemonConfig config;
  for (auto&& [k, node] : parsed.table()) {
    const std::string key = Str(k);
    absl::Status s;
    if (key == "root") {
      s = Set(r.String(node, key), &config.controller.root_dir);
    } else if (key == "state") {
      s = Set(r.String(node, key), &config.controller.state_dir);
    } else if (key == "listen") {
      s = Set(r.String(node, key), &config.listen);
    } else if (key == "socket_group") {
      s = Set(r.String(node, key), &config.socket_group);
    } else if (key == "log_level") {
      absl::StatusOr<std::string> level = r.String(node, key);
      if (!level.ok()) return level.status();
      if (!sys::ParseLogLevel(*level, &config.log_level)) {
        s = r.Error(node, key, "must be debug, info, warning or error");
      }
    } else if (key == "log_format") {
      absl::StatusOr<std::string> format = r.String(node, key);
      if (!format.ok()) return format.status();
      if (!sys::ParseLogFormat(*format, &config.log_format)) {
        s = r.Error(node, key, "must be text or json");
      }
    } else if (key == "metrics") {
      absl::StatusOr<const toml::table*> t = r.Table(node, key);
      s = t.ok() ? ParseMetrics(r, **t, &config) : t.status();
    } else if (key == "infra") {
      s = ParseInfra(r, node, key, &config.controller.infra_none);
    } else if (key == "default_runtime") {
      s = Set(r.String(node, key), &config.controller.default_runtime);
    } else if (key == "pause_binary") {
      s = Set(r.String(node, key), &config.controller.pause_binary);
    } else if (key == "stop_grace_period") {
      s = Set(r.Duration(node, key), &config.controller.stop_grace_period);
    } else if (key == "oom_score_adj") {
      absl::StatusOr<int64_t> adj = r.Integer(node, key);
      if (!adj.ok()) return adj.status();
      // The kernel's range for /proc/<pid>/oom_score_adj.
      if (*adj < -1000 || *adj > 1000) {
        s = r.Error(node, key, "must be in [-1000, 1000]");
      } else {
        config.controller.oom_score_adj = static_cast<int>(*adj);
      }
    } else if (key == "max_concurrent_run_pod_sandbox") {
      absl::StatusOr<int64_t> n = r.Integer(node, key);
      if (!n.ok()) return n.status();
      // Each admitted call has a worker thread of its own.
      if (*n < 1 || *n > 1024) {
        s = r.Error(node, key, "must be in [1, 1024]");
      } else {
        config.max_concurrent_run_pod_sandbox = static_cast<int>(*n);
      }
    } else if (key == "cgroup_parent_prefix") {
      s = Set(r.String(node, key),
              &config.controller.pod_limits.cgroup_parent_prefix);
    } else if (key == "limits") {
      absl::StatusOr<const toml::table*> t = r.Table(node, key);
      s = t.ok() ? ParseLimits(r, **t, &config) : t.status();
    } else if (key == "cni") {
      absl::StatusOr<const toml::table*> t = r.Table(node, key);
      s = t.ok() ? ParseCni(r, **t, &config.controller) : t.status();
    } else if (key == "userns") {
      absl::StatusOr<const toml::table*> t = r.Table(node, key);
      s = t.ok() ? ParseUserns(r, **t, &config.controller.userns_policy)
                 : t.status();
    } else if (key == "images") {
      absl::StatusOr<const toml::table*> t = r.Table(node, key);
      s = t.ok() ? ParseImages(r, **t, &config.pull) : t.status();
    } else if (key == "registries") {
      absl::StatusOr<const toml::table*> t = r.Table(node, key);
      s = t.ok() ? ParseRegistries(r, **t, &config.registries) : t.status();
    } else if (key == "runtime_handlers") {
      s = ParseHandlers(r, node, &config.controller.runtime_handlers);
    } else {
      s = r.Unknown(node, key);
    }
    RETURN_IF_ERROR(s);
  }
  return config;
}

absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("read config ", path, ": cannot open file"));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::InternalError(absl::StrCat("read config ", path, ": failed"));
  }
  return ParseDaemonConfig(text.str(), path);
}

absl::Status ApplyOverrides(const ConfigOverrides& o, DaemonConfig* config) {
  if (o.root) config->controller.root_dir = *o.root;
  if (o.state) config->controller.state_dir = *o.state;
  if (o.listen) config->listen = *o.listen;
  if (o.cni_conf_dir) config->controller.cni_conf_dir = *o.cni_conf_dir;
  if (o.cni_bin_dirs) {
    config->controller.cni_bin_dirs =
        absl::StrSplit(*o.cni_bin_dirs, ':', absl::SkipEmpty());
  }
  if (o.default_runtime)
    config->controller.default_runtime = *o.default_runtime;
  if (o.socket_group) config->socket_group = *o.socket_group;
  if (o.pause_binary) config->controller.pause_binary = *o.pause_binary;
  if (o.keeper_binary) config->keeper_binary = *o.keeper_binary;
  if (o.log_level) {
    RETURN_IF_ERROR(
        ParseLogLevel(*o.log_level, "--log-level", &config->log_level));
  }
  if (o.log_format) {
    RETURN_IF_ERROR(
        ParseLogFormat(*o.log_format, "--log-format", &config->log_format));
  }
  return absl::OkStatus();
}

absl::Status FinalizeDaemonConfig(DaemonConfig* config) {
  sandbox::ControllerOptions& c = config->controller;
  for (auto [field, path] : std::vector<std::pair<const char*, std::string>>{
           {"root", c.root_dir},
           {"state", c.state_dir},
           {"listen", config->listen},
           {"cni.conf_dir", c.cni_conf_dir}}) {
    RETURN_IF_ERROR(RequireAbsolute(field, path));
  }
  if (!c.pause_binary.empty()) {
    RETURN_IF_ERROR(RequireAbsolute("pause_binary", c.pause_binary));
  }
  if (c.cni_bin_dirs.empty()) {
    return absl::InvalidArgumentError("cni.bin_dirs: must not be empty");
  }
  for (size_t i = 0; i < c.cni_bin_dirs.size(); ++i) {
    RETURN_IF_ERROR(RequireAbsolute(absl::StrCat("cni.bin_dirs[", i, "]"),
                                    c.cni_bin_dirs[i]));
  }
  if (c.cni_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("cni.timeout: must be positive");
  }
  for (const auto& [host, registry] : config->registries) {
    if (registry.ca_file.empty()) continue;
    const std::string field = absl::StrCat("registries.\"", host, "\".ca_file");
    RETURN_IF_ERROR(RequireAbsolute(field, registry.ca_file));
    // Unreadable now means every pull from this host would fail later.
    if (access(registry.ca_file.c_str(), R_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": cannot read \"",
                                                     registry.ca_file,
                                                     "\": ", strerror(errno)));
    }
  }
  RETURN_IF_ERROR(image::RegistryHosts::Create(config->registries).status());
  if (config->pull.http.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "images.connect_timeout: must be positive");
  }
  if (config->pull.http.low_speed_time <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("images.stall_timeout: must be positive");
  }
  // The controller's own defaults and checks (handlers, their roots, the
  // cgroup prefix): one place for both, sandbox::CompleteControllerOptions.
  return sandbox::CompleteControllerOptions(c).status();
}

std::string DaemonConfigJson(const DaemonConfig& config) {
  const sandbox::ControllerOptions& c = config.controller;
  nlohmann::json handlers = nlohmann::json::array();
  for (const oci::RuntimeHandler& h : c.runtime_handlers) {
    handlers.push_back({{"name", h.name},
                        {"type", std::string(oci::RuntimeTypeName(h.type))},
                        {"path", h.path},
                        {"root", h.root},
                        {"extraArgs", h.extra_args},
                        {"timeout", absl::FormatDuration(h.timeout)}});
  }
  nlohmann::json registries = nlohmann::json::object();
  for (const auto& [host, registry] : config.registries) {
    registries[host] = {{"mirrors", registry.mirrors},
                        {"caFile", registry.ca_file},
                        {"insecure", registry.insecure}};
  }
  nlohmann::json json = {
      {"root", c.root_dir},
      {"state", c.state_dir},
      {"listen", config.listen},
      {"socketGroup", config.socket_group},
      {"logLevel", LogLevelName(config.log_level)},
      {"logFormat",
       config.log_format == sys::LogFormat::kJson ? "json" : "text"},
      {"metrics", {{"address", config.metrics_address}}},
      {"defaultRuntime", c.default_runtime},
      {"pauseBinary", c.pause_binary},
      {"stopGracePeriod", absl::FormatDuration(c.stop_grace_period)},
      {"oomScoreAdj", c.oom_score_adj},
      {"maxConcurrentRunPodSandbox", config.max_concurrent_run_pod_sandbox},
      {"cni",
       {{"confDir", c.cni_conf_dir},
        {"binDirs", c.cni_bin_dirs},
        {"timeout", absl::FormatDuration(c.cni_timeout)}}},
      {"cgroupParentPrefix", c.pod_limits.cgroup_parent_prefix},
      {"limits",
       {{"sandboxes", c.max_sandboxes},
        {"containers", config.max_containers},
        {"requestBytes", config.max_request_bytes},
        {"labelAnnotationBytes", c.pod_limits.max_label_annotation_bytes},
        {"portMappings", c.pod_limits.max_port_mappings},
        {"sysctls", c.pod_limits.max_sysctls},
        {"dnsEntries", c.pod_limits.max_dns_entries},
        {"stopRemoveQueue", config.queues.stop_remove},
        {"containerQueue", config.queues.container},
        {"statsQueue", config.queues.stats},
        {"pullQueue", config.queues.pull},
        {"imageRemoveQueue", config.queues.image_remove}}},
      {"userns",
       {{"allowHostRoot", c.userns_policy.allow_host_root},
        {"allowDifferentUidGidMaps",
         c.userns_policy.allow_different_uid_gid_maps},
        {"allowOverlappingRanges", c.userns_policy.allow_overlapping_ranges}}},
      {"runtimeHandlers", handlers},
      {"images",
       {{"maxManifestBytes", config.pull.max_manifest_bytes},
        {"maxConfigBytes", config.pull.max_config_bytes},
        {"maxImageBytes", config.pull.max_image_bytes},
        {"maxLayerBytes", config.pull.unpack.max_bytes},
        {"maxLayerEntries", config.pull.unpack.max_entries},
        {"connectTimeout",
         absl::FormatDuration(config.pull.http.connect_timeout)},
        {"stallTimeout",
         absl::FormatDuration(config.pull.http.low_speed_time)}}},
      {"registries", registries},
  };
  return json.dump();
}

}  // namespace podsandbox::cri
