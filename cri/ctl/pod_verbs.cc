#include "cri/ctl/pod_verbs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <unistd.h>

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/ctl/verb_support.h"
#include "nlohmann/json.hpp"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/sys.h"
#include "sys/unique_fd.h"

namespace podsandbox::cri::ctl {
namespace {

namespace v1 = ::runtime::v1;
using json = nlohmann::json;

// The server-side part of `pods`' filters: state and labels.
v1::PodSandboxFilter ServerFilter(const PodsOptions& options) {
  v1::PodSandboxFilter filter;
  if (options.state == "ready") {
    filter.mutable_state()->set_state(v1::SANDBOX_READY);
  } else if (options.state == "notready") {
    filter.mutable_state()->set_state(v1::SANDBOX_NOTREADY);
  }
  AddLabels(options.labels, filter.mutable_label_selector());
  return filter;
}

// The client-side part: id prefix, name and namespace substrings.
bool Selected(const v1::PodSandbox& pod, const PodsOptions& options) {
  return absl::StartsWith(pod.id(), options.id) &&
         absl::StrContains(pod.metadata().name(), options.name) &&
         absl::StrContains(pod.metadata().namespace_(), options.pod_namespace);
}

void WritePodsTable(const std::vector<v1::PodSandbox>& pods,
                    const PodsOptions& options, std::ostream& out) {
  const int id_width = options.no_trunc ? 64 : 13;
  out << absl::StrFormat("%-*s  %-16s  %-8s  %-24s  %-16s  %-7s  %s\n",
                         id_width, "POD ID", "CREATED", "STATE", "NAME",
                         "NAMESPACE", "ATTEMPT", "RUNTIME");
  for (const v1::PodSandbox& pod : pods) {
    out << absl::StrFormat(
        "%-*s  %-16s  %-8s  %-24s  %-16s  %-7u  %s\n", id_width,
        ShortId(pod.id(), options.no_trunc), Ago(pod.created_at()),
        pod.state() == v1::SANDBOX_READY ? "Ready" : "NotReady",
        pod.metadata().name(), pod.metadata().namespace_(),
        pod.metadata().attempt(), pod.runtime_handler());
  }
}

// crictl's inspectp table: the status's identity and network as lines.
void WriteInspectTable(const v1::PodSandboxStatus& status, std::ostream& out) {
  out << "ID: " << status.id() << "\n"
      << "Name: " << status.metadata().name() << "\n"
      << "UID: " << status.metadata().uid() << "\n"
      << "Namespace: " << status.metadata().namespace_() << "\n"
      << "Attempt: " << status.metadata().attempt() << "\n"
      << "Status: "
      << (status.state() == v1::SANDBOX_READY ? "SANDBOX_READY"
                                              : "SANDBOX_NOTREADY")
      << "\n"
      << "Created: "
      << absl::FormatTime(absl::FromUnixNanos(status.created_at())) << "\n";
  if (!status.network().ip().empty()) {
    std::vector<std::string> ips = {status.network().ip()};
    for (const v1::PodIP& ip : status.network().additional_ips()) {
      ips.push_back(ip.ip());
    }
    out << "IP Addresses: " << absl::StrJoin(ips, ", ") << "\n";
  }
  const std::map<std::string, std::string> labels(status.labels().begin(),
                                                  status.labels().end());
  if (!labels.empty()) out << "Labels:\n";
  for (const auto& [key, value] : labels) {
    out << "\t" << key << " -> " << value << "\n";
  }
  const std::map<std::string, std::string> annotations(
      status.annotations().begin(), status.annotations().end());
  if (!annotations.empty()) out << "Annotations:\n";
  for (const auto& [key, value] : annotations) {
    out << "\t" << key << " -> " << value << "\n";
  }
}

}  // namespace

absl::StatusOr<std::string> ResolvePodId(CriClient& client,
                                         const std::string& id) {
  ASSIGN_OR_RETURN(std::vector<v1::PodSandbox> pods, client.ListPodSandbox());
  std::vector<std::string> ids;
  for (const v1::PodSandbox& pod : pods) ids.push_back(pod.id());
  return ResolveIdPrefix(ids, id, "pod");
}

absl::Status Version(CriClient& client, std::ostream& out) {
  ASSIGN_OR_RETURN(v1::VersionResponse version, client.Version());
  out << "Version:  " << version.version() << "\n"
      << "RuntimeName:  " << version.runtime_name() << "\n"
      << "RuntimeVersion:  " << version.runtime_version() << "\n"
      << "RuntimeApiVersion:  " << version.runtime_api_version() << "\n";
  return absl::OkStatus();
}

absl::Status Info(CriClient& client, OutputFormat format, std::ostream& out) {
  ASSIGN_OR_RETURN(v1::StatusResponse response,
                   client.Status(/*verbose=*/true));
  json info = json::object();
  info["status"] = ProtoToJson(response.status());
  json handlers = json::array();
  for (const v1::RuntimeHandler& h : response.runtime_handlers()) {
    handlers.push_back(ProtoToJson(h));
  }
  info["runtimeHandlers"] = handlers;
  for (const auto& [key, value] : response.info()) info[key] = InfoValue(value);
  WriteStructured(info, format, out);
  return absl::OkStatus();
}

absl::StatusOr<v1::PodSandboxConfig> ReadPodConfig(const std::string& path) {
  v1::PodSandboxConfig config;
  RETURN_IF_ERROR(ReadConfigMessage(path, config));
  return config;
}

absl::Status Runp(CriClient& client, const RunpOptions& options,
                  std::ostream& out) {
  ASSIGN_OR_RETURN(v1::PodSandboxConfig config,
                   ReadPodConfig(options.pod_config_path));
  ASSIGN_OR_RETURN(std::string id,
                   client.RunPodSandbox(config, options.runtime_handler));
  out << id << "\n";
  return absl::OkStatus();
}

absl::Status Stopp(CriClient& client, const std::vector<std::string>& ids,
                   std::ostream& out) {
  for (const std::string& arg : ids) {
    ASSIGN_OR_RETURN(std::string id, ResolvePodId(client, arg));
    RETURN_IF_ERROR(client.StopPodSandbox(id));
    out << "Stopped sandbox " << id << "\n";
  }
  return absl::OkStatus();
}

absl::Status Rmp(CriClient& client, const RmpOptions& options,
                 std::ostream& out) {
  std::vector<std::string> ids = options.ids;
  if (options.all) {
    ASSIGN_OR_RETURN(std::vector<v1::PodSandbox> pods, client.ListPodSandbox());
    for (const v1::PodSandbox& pod : pods) ids.push_back(pod.id());
  }
  for (const std::string& arg : ids) {
    // --all's ids come from the list itself: no prefix to resolve.
    ASSIGN_OR_RETURN(std::string id, options.all
                                         ? absl::StatusOr<std::string>(arg)
                                         : ResolvePodId(client, arg));
    RETURN_IF_ERROR(client.RemovePodSandbox(id));
    out << "Removed sandbox " << id << "\n";
  }
  return absl::OkStatus();
}

absl::Status Inspectp(CriClient& client, const std::vector<std::string>& ids,
                      OutputFormat format, std::ostream& out) {
  for (const std::string& arg : ids) {
    ASSIGN_OR_RETURN(std::string id, ResolvePodId(client, arg));
    ASSIGN_OR_RETURN(v1::PodSandboxStatusResponse response,
                     client.PodSandboxStatus(id, /*verbose=*/true));
    if (format == OutputFormat::kTable) {
      WriteInspectTable(response.status(), out);
      continue;
    }
    WriteStructured(InspectJson(response.status(), response.info()), format,
                    out);
  }
  return absl::OkStatus();
}

absl::Status Pods(CriClient& client, const PodsOptions& options,
                  std::ostream& out) {
  ASSIGN_OR_RETURN(std::vector<v1::PodSandbox> all,
                   client.ListPodSandbox(ServerFilter(options)));
  std::vector<v1::PodSandbox> pods;
  for (v1::PodSandbox& pod : all) {
    if (Selected(pod, options)) pods.push_back(std::move(pod));
  }
  NewestFirst(pods, options.last);
  if (options.quiet) {
    for (const v1::PodSandbox& pod : pods) out << pod.id() << "\n";
    return absl::OkStatus();
  }
  if (options.format == OutputFormat::kTable) {
    WritePodsTable(pods, options, out);
    return absl::OkStatus();
  }
  v1::ListPodSandboxResponse listed;
  for (const v1::PodSandbox& pod : pods) *listed.add_items() = pod;
  WriteStructured(ProtoToJson(listed), options.format, out);
  return absl::OkStatus();
}

absl::Status NsOwner(const std::string& netns_path, std::ostream& out) {
  sys::RealSys sys;
  sys::SysResult netns = sys.Open(netns_path.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (!netns.ok()) return sys::ErrnoError(netns.err, "open %s", netns_path);
  const sys::UniqueFd netns_fd(static_cast<int>(netns.value));
  sys::SysResult userns = sys.Ioctl(netns_fd.get(), NS_GET_USERNS);
  if (!userns.ok()) {
    return sys::ErrnoError(userns.err, "NS_GET_USERNS %s", netns_path);
  }
  const sys::UniqueFd userns_fd(static_cast<int>(userns.value));
  // The fd's link names the namespace as /proc/<pid>/ns/user shows it.
  char link[64];
  const std::string fd_path = absl::StrCat("/proc/self/fd/", userns_fd.get());
  const ssize_t n = readlink(fd_path.c_str(), link, sizeof(link) - 1);
  if (n < 0) return sys::ErrnoError(errno, "readlink %s", fd_path);
  out << std::string(link, n) << "\n";
  return absl::OkStatus();
}

}  // namespace podsandbox::cri::ctl
