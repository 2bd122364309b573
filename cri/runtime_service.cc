#include "cri/runtime_service.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "container/manager.h"
#include "cri/api.pb.h"
#include "cri/container_convert.h"
#include "cri/convert.h"
#include "cri/grpc_status.h"
#include "cri/pod_context.h"
#include "cri/pod_stats.h"
#include "cri/rpc_log.h"
#include "metrics/exec_ledger.h"
#include "nlohmann/json.hpp"
#include "sandbox/controller.h"
#include "sys/log.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

// VersionResponse.version is the "kubelet runtime API version", not the
// CRI version: containerd and CRI-O both answer "0.1.0", so clients that
// print or compare it see what they see with those runtimes.
constexpr char kKubeletApiVersion[] = "0.1.0";
// VersionResponse.runtime_api_version: the CRI version served.
constexpr char kRuntimeApiVersion[] = "v1";
constexpr char kRuntimeName[] = "podsandbox";

absl::Status RequireId(absl::string_view id) {
  if (id.empty()) {
    return absl::InvalidArgumentError("pod_sandbox_id: must not be empty");
  }
  return absl::OkStatus();
}

// Checks one CIDR ("10.244.0.0/24" or "fd00::/64").
bool IsCidr(absl::string_view cidr) {
  std::pair<std::string, std::string> parts = absl::StrSplit(cidr, '/');
  int prefix = 0;
  if (!absl::SimpleAtoi(parts.second, &prefix)) return false;
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, parts.first.c_str(), buf) == 1) {
    return prefix >= 0 && prefix <= 32;
  }
  return inet_pton(AF_INET6, parts.first.c_str(), buf) == 1 && prefix >= 0 &&
         prefix <= 128;
}

// kubelet sends one CIDR per IP family, comma-separated; empty means none.
absl::Status ValidatePodCidr(absl::string_view cidrs) {
  if (cidrs.empty()) return absl::OkStatus();
  for (absl::string_view cidr : absl::StrSplit(cidrs, ',')) {
    if (!IsCidr(cidr)) {
      return absl::InvalidArgumentError(
          absl::StrCat("runtime_config.network_config.pod_cidr: \"", cidr,
                       "\" is not a CIDR"));
    }
  }
  return absl::OkStatus();
}

std::string PodName(const v1::PodSandboxConfig& config) {
  return absl::StrCat(config.metadata().namespace_(), "/",
                      config.metadata().name());
}

// Finishes a server-streaming call at once with UNIMPLEMENTED.
class UnimplementedWriter
    : public grpc::ServerWriteReactor<v1::ContainerEventResponse> {
 public:
  explicit UnimplementedWriter(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// Runs `fn` with the full id of sandbox `id` (a unique prefix resolves as
// the controller resolves it), when there is a container manager.
absl::Status ForPodContainers(
    sandbox::Controller& controller, container::Manager* containers,
    absl::string_view id,
    absl::FunctionRef<absl::Status(const std::string&)> fn) {
  if (containers == nullptr) return absl::OkStatus();
  absl::StatusOr<sandbox::SandboxStatus> status =
      controller.PodSandboxStatus(id, /*verbose=*/false);
  return fn(status.ok() ? status->id : std::string(id));
}

absl::Status RequireContainerId(absl::string_view id) {
  if (id.empty()) {
    return absl::InvalidArgumentError("container_id: must not be empty");
  }
  return absl::OkStatus();
}

int64_t Nanos(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixNanos(t);
}

void ToCri(const container::Resources& r, v1::LinuxContainerResources* out) {
  out->set_cpu_period(r.cpu_period);
  out->set_cpu_quota(r.cpu_quota);
  out->set_cpu_shares(r.cpu_shares);
  out->set_memory_limit_in_bytes(r.memory_limit_in_bytes);
  out->set_memory_swap_limit_in_bytes(r.memory_swap_limit_in_bytes);
  out->set_oom_score_adj(r.oom_score_adj);
  out->set_cpuset_cpus(r.cpuset_cpus);
  out->set_cpuset_mems(r.cpuset_mems);
}

v1::ContainerState ToCri(container::State state) {
  switch (state) {
    case container::State::kCreated:
      return v1::CONTAINER_CREATED;
    case container::State::kRunning:
      return v1::CONTAINER_RUNNING;
    case container::State::kExited:
      return v1::CONTAINER_EXITED;
    default:
      return v1::CONTAINER_UNKNOWN;
  }
}

void ToCri(const container::ContainerRecord& r, v1::Container* out) {
  out->set_id(r.id);
  out->set_pod_sandbox_id(r.sandbox_id);
  out->mutable_metadata()->set_name(r.metadata.name);
  out->mutable_metadata()->set_attempt(r.metadata.attempt);
  out->mutable_image()->set_image(r.image);
  out->set_image_ref(r.image_ref);
  out->set_image_id(r.image_id);
  out->set_state(ToCri(r.state));
  out->set_created_at(Nanos(r.created_at));
  out->mutable_labels()->insert(r.labels.begin(), r.labels.end());
  out->mutable_annotations()->insert(r.annotations.begin(),
                                     r.annotations.end());
}

void ToCri(const container::ContainerRecord& r, v1::ContainerStatus* out) {
  out->set_id(r.id);
  out->mutable_metadata()->set_name(r.metadata.name);
  out->mutable_metadata()->set_attempt(r.metadata.attempt);
  out->set_state(ToCri(r.state));
  out->set_created_at(Nanos(r.created_at));
  out->set_started_at(Nanos(r.started_at));
  out->set_finished_at(Nanos(r.finished_at));
  out->set_exit_code(r.exit_code);
  out->mutable_image()->set_image(r.image);
  out->set_image_ref(r.image_ref);
  out->set_image_id(r.image_id);
  out->set_reason(r.reason);
  out->set_message(r.message);
  out->mutable_labels()->insert(r.labels.begin(), r.labels.end());
  out->mutable_annotations()->insert(r.annotations.begin(),
                                     r.annotations.end());
  for (const container::Mount& m : r.mounts) {
    v1::Mount* mount = out->add_mounts();
    mount->set_container_path(m.container_path);
    mount->set_host_path(m.host_path);
    mount->set_readonly(m.readonly);
    mount->set_recursive_read_only(m.recursive_read_only);
    mount->set_propagation(static_cast<v1::MountPropagation>(m.propagation));
  }
  out->set_log_path(r.log_path);
  ToCri(r.resources, out->mutable_resources()->mutable_linux());
}

void ToCri(const container::ContainerStats& s, v1::ContainerStats* out) {
  const int64_t at = absl::ToUnixNanos(s.timestamp);
  v1::ContainerAttributes* attributes = out->mutable_attributes();
  attributes->set_id(s.id);
  attributes->mutable_metadata()->set_name(s.metadata.name);
  attributes->mutable_metadata()->set_attempt(s.metadata.attempt);
  attributes->mutable_labels()->insert(s.labels.begin(), s.labels.end());
  attributes->mutable_annotations()->insert(s.annotations.begin(),
                                            s.annotations.end());
  out->mutable_cpu()->set_timestamp(at);
  out->mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(
      s.cpu_usage_core_nanos);
  out->mutable_memory()->set_timestamp(at);
  out->mutable_memory()->mutable_working_set_bytes()->set_value(
      s.memory_working_set_bytes);
  out->mutable_memory()->mutable_usage_bytes()->set_value(s.memory_usage_bytes);
  out->mutable_memory()->mutable_rss_bytes()->set_value(s.memory_rss_bytes);
  out->mutable_memory()->mutable_page_faults()->set_value(s.page_faults);
  out->mutable_memory()->mutable_major_page_faults()->set_value(
      s.major_page_faults);
  // What the limit leaves above the working set; nothing without a limit.
  if (s.memory_limit_bytes.has_value()) {
    out->mutable_memory()->mutable_available_bytes()->set_value(
        *s.memory_limit_bytes > s.memory_working_set_bytes
            ? *s.memory_limit_bytes - s.memory_working_set_bytes
            : 0);
  }
  v1::FilesystemUsage* fs = out->mutable_writable_layer();
  fs->set_timestamp(at);
  fs->mutable_fs_id()->set_mountpoint(s.writable_mountpoint);
  fs->mutable_used_bytes()->set_value(s.writable_used_bytes);
  fs->mutable_inodes_used()->set_value(s.writable_inodes_used);
}

// hugepage_limits and unified are not applied (see container::Resources).
container::Resources FromCri(const v1::LinuxContainerResources& r) {
  container::Resources out;
  out.cpu_period = r.cpu_period();
  out.cpu_quota = r.cpu_quota();
  out.cpu_shares = r.cpu_shares();
  out.memory_limit_in_bytes = r.memory_limit_in_bytes();
  out.memory_swap_limit_in_bytes = r.memory_swap_limit_in_bytes();
  out.oom_score_adj = r.oom_score_adj();
  out.cpuset_cpus = r.cpuset_cpus();
  out.cpuset_mems = r.cpuset_mems();
  return out;
}

container::ListFilter FromCri(const v1::ContainerFilter& f) {
  container::ListFilter out;
  if (!f.id().empty()) out.id = f.id();
  if (f.has_state()) {
    switch (f.state().state()) {
      case v1::CONTAINER_CREATED:
        out.state = container::State::kCreated;
        break;
      case v1::CONTAINER_RUNNING:
        out.state = container::State::kRunning;
        break;
      case v1::CONTAINER_EXITED:
        out.state = container::State::kExited;
        break;
      default:
        out.state = container::State::kUnknown;
        break;
    }
  }
  if (!f.pod_sandbox_id().empty()) out.sandbox_id = f.pod_sandbox_id();
  out.label_selector.insert(f.label_selector().begin(),
                            f.label_selector().end());
  return out;
}

// A ready pod's stats (cri/pod_stats.h) with its containers' (null
// `containers`: none), each with its CPU rate.
void PodStatsOf(const sandbox::SandboxStatus& status,
                container::Manager* containers, PodStatsReader& reader,
                v1::PodSandboxStats* out) {
  std::vector<container::ContainerStats> stats;
  if (containers != nullptr) {
    container::ListFilter filter;
    filter.sandbox_id = status.id;
    stats = containers->ListStats(filter);
  }
  reader.FillPod(status, stats, absl::Now(), out);
  for (const container::ContainerStats& c : stats) {
    v1::ContainerStats* wire = out->mutable_linux()->add_containers();
    ToCri(c, wire);
    if (std::optional<uint64_t> cores = reader.ContainerNanoCores(c)) {
      wire->mutable_cpu()->mutable_usage_nano_cores()->set_value(*cores);
    }
  }
}

// What ExecSync's timeout 0 ("run forever") becomes: long enough for any
// probe or hook, bounded so a wedged exec cannot hold a worker for good.
constexpr absl::Duration kExecForever = absl::Hours(24);

}  // namespace

RuntimeService::RuntimeService(sandbox::Controller& controller,
                               RuntimeServiceOptions options,
                               container::Manager* containers)
    : controller_(controller),
      options_(std::move(options)),
      containers_(containers),
      readiness_(
          [&controller] {
            return Readiness::Conditions{controller.RuntimeReady(),
                                         controller.NetworkReady()};
          },
          options_.readiness_ttl),
      // Admission bounds the run pool: at most that many calls are posted
      // at once, so its queue never reaches the bound.
      run_workers_(options_.max_concurrent_run_pod_sandbox,
                   options_.max_concurrent_run_pod_sandbox,
                   "max_concurrent_run_pod_sandbox"),
      stop_remove_workers_(options_.stop_remove_workers,
                           options_.stop_remove_queue,
                           "limits.stop_remove_queue"),
      container_workers_(options_.container_workers, options_.container_queue,
                         "limits.container_queue"),
      pod_stats_(options_.pod_stats != nullptr
                     ? absl::StatusOr<std::shared_ptr<PodStatsReader>>(
                           options_.pod_stats)
                     : MakeHostPodStatsReader()),
      stats_workers_(options_.stats_workers, options_.stats_queue,
                     "limits.stats_queue") {}

RuntimeService::~RuntimeService() { Shutdown(); }

void RuntimeService::SetNanoCores(const container::ContainerStats& stats,
                                  v1::ContainerStats* out) {
  // The samples are shared with the pod stats' containers: each call's
  // rate covers the time since the last call of either.
  if (!pod_stats_.ok()) return;
  if (std::optional<uint64_t> cores =
          (*pod_stats_)->ContainerNanoCores(stats)) {
    out->mutable_cpu()->mutable_usage_nano_cores()->set_value(*cores);
  }
}

void RuntimeService::Shutdown() {
  run_workers_.Shutdown();
  stop_remove_workers_.Shutdown();
  container_workers_.Shutdown();
  stats_workers_.Shutdown();
}

absl::Status RuntimeService::AdmitRun() {
  absl::MutexLock lock(&mu_);
  if (runs_in_progress_ >= options_.max_concurrent_run_pod_sandbox) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "podsandboxd is saturated: ", runs_in_progress_,
        " RunPodSandbox calls in progress (max_concurrent_run_pod_sandbox); "
        "retry later"));
  }
  ++runs_in_progress_;
  return absl::OkStatus();
}

void RuntimeService::EndRun() {
  absl::MutexLock lock(&mu_);
  --runs_in_progress_;
}

std::string RuntimeService::pod_cidr() const {
  absl::MutexLock lock(&mu_);
  return pod_cidr_;
}

void RuntimeService::Finish(grpc::ServerUnaryReactor* reactor,
                            absl::string_view method, absl::string_view pod,
                            absl::Time start, const absl::Status& status) {
  LogRpc(method, pod, start, status);
  reactor->Finish(ToGrpcStatus(status));
}

grpc::ServerUnaryReactor* RuntimeService::Unimplemented(
    grpc::CallbackServerContext* context, absl::string_view method) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, method, "", absl::Now(),
         absl::UnimplementedError(
             absl::StrCat(method, " is not implemented by podsandboxd")));
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::Version(
    grpc::CallbackServerContext* context, const v1::VersionRequest* request,
    v1::VersionResponse* response) {
  const absl::Time start = absl::Now();
  response->set_version(kKubeletApiVersion);
  response->set_runtime_name(kRuntimeName);
  response->set_runtime_version(options_.runtime_version);
  response->set_runtime_api_version(kRuntimeApiVersion);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, "Version", "", start, absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::Status(
    grpc::CallbackServerContext* context, const v1::StatusRequest* request,
    v1::StatusResponse* response) {
  const absl::Time start = absl::Now();
  // Inline: the conditions come from Readiness's last check, never from a
  // check made now (a runtime or CNI plugin exec could block for seconds).
  const Readiness::Conditions conditions = readiness_.Get();
  v1::RuntimeStatus* status = response->mutable_status();
  v1::RuntimeCondition* runtime = status->add_conditions();
  runtime->set_type("RuntimeReady");
  runtime->set_status(conditions.runtime.ok());
  if (!conditions.runtime.ok()) {
    runtime->set_reason("RuntimeNotReady");
    runtime->set_message(std::string(conditions.runtime.message()));
  }
  v1::RuntimeCondition* network = status->add_conditions();
  network->set_type("NetworkReady");
  network->set_status(conditions.network.ok());
  if (!conditions.network.ok()) {
    // The reason kubelet and crictl show for a missing CNI config, as
    // containerd and CRI-O report it.
    network->set_reason("NetworkPluginNotReady");
    network->set_message(std::string(conditions.network.message()));
  }
  for (const RuntimeServiceOptions::Handler& handler : options_.handlers) {
    auto add = [response, &handler](const std::string& name) {
      v1::RuntimeHandler* wire = response->add_runtime_handlers();
      wire->set_name(name);
      wire->mutable_features()->set_user_namespaces(handler.user_namespaces);
    };
    if (handler.name == options_.default_handler) add("");
    add(handler.name);
  }
  if (request->verbose()) {
    (*response->mutable_info())["config"] = options_.config_json;
    (*response->mutable_info())["lastCNILoadStatus"] =
        conditions.network.ok() ? "OK"
                                : std::string(conditions.network.message());
    (*response->mutable_info())["podCIDR"] = pod_cidr();
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, "Status", "", start, absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::RunPodSandbox(
    grpc::CallbackServerContext* context,
    const v1::RunPodSandboxRequest* request,
    v1::RunPodSandboxResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string pod = PodName(request->config());
  if (!request->has_config()) {
    Finish(reactor, "RunPodSandbox", pod, start,
           absl::InvalidArgumentError("config: must be set"));
    return reactor;
  }
  absl::StatusOr<sandbox::PodConfig> config = FromCri(request->config());
  if (!config.ok()) {
    Finish(reactor, "RunPodSandbox", pod, start, config.status());
    return reactor;
  }
  if (absl::Status s = AdmitRun(); !s.ok()) {
    Finish(reactor, "RunPodSandbox", pod, start, s);
    return reactor;
  }
  // The work ignores the context's cancellation on purpose: stopping
  // half-way would leave rollback to a later call; the Controller finishes
  // or rolls back now, and a retry with the same config gets the same id.
  absl::Status queued = run_workers_.Post([this, reactor, response, start, pod,
                                           config = *std::move(config),
                                           handler =
                                               request->runtime_handler()] {
    metrics::ExecLedger ledger;
    absl::StatusOr<std::string> id;
    {
      metrics::ScopedExecLedger scope(&ledger);
      id = controller_.RunPodSandbox(config, handler);
    }
    if (id.ok()) response->set_pod_sandbox_id(*id);
    EndRun();
    metrics::ObserveRpcTimeSplit("RunPodSandbox", absl::Now() - start, ledger);
    Finish(reactor, "RunPodSandbox", id.ok() ? *id : pod, start, id.status());
  });
  if (!queued.ok()) {
    EndRun();
    Finish(reactor, "RunPodSandbox", pod, start, queued);
  }
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::PostPodTeardown(
    grpc::CallbackServerContext* context, absl::string_view method_view,
    std::string id, PodStep to_containers, PodStep to_pod) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string method(method_view);  // the worker uses it after we return
  if (absl::Status s = RequireId(id); !s.ok()) {
    Finish(reactor, method, id, start, s);
    return reactor;
  }
  absl::Status queued = stop_remove_workers_.Post(
      [this, reactor, start, method, id,
       to_containers = std::move(to_containers), to_pod = std::move(to_pod)] {
        metrics::ExecLedger ledger;
        absl::Status s;
        {
          metrics::ScopedExecLedger scope(&ledger);
          // The pod's containers go first, while their namespaces still
          // exist.
          s = ForPodContainers(controller_, containers_, id, to_containers);
          if (s.ok()) s = to_pod(id);
        }
        metrics::ObserveRpcTimeSplit(method, absl::Now() - start, ledger);
        Finish(reactor, method, id, start, s);
      });
  if (!queued.ok()) Finish(reactor, method, id, start, queued);
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::StopPodSandbox(
    grpc::CallbackServerContext* context,
    const v1::StopPodSandboxRequest* request,
    v1::StopPodSandboxResponse* response) {
  // CRI's Stop of a sandbox forcibly stops its containers: killed, no
  // grace period.
  return PostPodTeardown(
      context, "StopPodSandbox", request->pod_sandbox_id(),
      [this](const std::string& full_id) {
        return containers_->StopPodContainers(full_id, absl::ZeroDuration());
      },
      [this](const std::string& id) { return controller_.StopPodSandbox(id); });
}

grpc::ServerUnaryReactor* RuntimeService::RemovePodSandbox(
    grpc::CallbackServerContext* context,
    const v1::RemovePodSandboxRequest* request,
    v1::RemovePodSandboxResponse* response) {
  return PostPodTeardown(
      context, "RemovePodSandbox", request->pod_sandbox_id(),
      [this](const std::string& full_id) {
        return containers_->RemovePodContainers(full_id);
      },
      [this](const std::string& id) {
        return controller_.RemovePodSandbox(id);
      });
}

grpc::ServerUnaryReactor* RuntimeService::PodSandboxStatus(
    grpc::CallbackServerContext* context,
    const v1::PodSandboxStatusRequest* request,
    v1::PodSandboxStatusResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string id = request->pod_sandbox_id();
  if (absl::Status s = RequireId(id); !s.ok()) {
    Finish(reactor, "PodSandboxStatus", id, start, s);
    return reactor;
  }
  // Inline: the Controller answers from memory (see the file comment).
  const bool verbose = request->verbose();
  absl::StatusOr<sandbox::SandboxStatus> status =
      controller_.PodSandboxStatus(id, verbose);
  if (status.ok()) {
    *response->mutable_status() = ToCriStatus(*status);
    response->set_timestamp(absl::ToUnixNanos(absl::Now()));
    // One JSON document under "info", the key crictl inspectp and
    // containerd use, so tools that parse containerd's output parse ours.
    if (verbose) (*response->mutable_info())["info"] = status->info_json;
  }
  Finish(reactor, "PodSandboxStatus", id, start, status.status());
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::ListPodSandbox(
    grpc::CallbackServerContext* context,
    const v1::ListPodSandboxRequest* request,
    v1::ListPodSandboxResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<sandbox::ListFilter> filter = FromCri(request->filter());
  if (!filter.ok()) {
    Finish(reactor, "ListPodSandbox", "", start, filter.status());
    return reactor;
  }
  // Inline: the Controller answers from memory (see the file comment).
  for (const sandbox::SandboxStatus& status :
       controller_.ListPodSandbox(*filter)) {
    *response->add_items() = ToCriPodSandbox(status);
  }
  Finish(reactor, "ListPodSandbox", "", start, absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::RuntimeConfig(
    grpc::CallbackServerContext* context,
    const v1::RuntimeConfigRequest* request,
    v1::RuntimeConfigResponse* response) {
  const absl::Time start = absl::Now();
  // The pause task's cgroup is a cgroupfs path; kubelet must build its
  // hierarchy the same way.
  response->mutable_linux()->set_cgroup_driver(v1::CGROUPFS);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, "RuntimeConfig", "", start, absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::UpdateRuntimeConfig(
    grpc::CallbackServerContext* context,
    const v1::UpdateRuntimeConfigRequest* request,
    v1::UpdateRuntimeConfigResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string& cidr =
      request->runtime_config().network_config().pod_cidr();
  absl::Status status = ValidatePodCidr(cidr);
  if (status.ok()) {
    // Recorded and reported only: IPAM comes from the CNI config, which
    // owns the ranges (as with containerd without a CNI template).
    absl::MutexLock lock(&mu_);
    pod_cidr_ = cidr;
  }
  Finish(reactor, "UpdateRuntimeConfig", "", start, status);
  return reactor;
}

// Without a container manager (a test server), the container RPCs answer
// UNIMPLEMENTED as before the container layer existed.
#define PSB_REQUIRE_CONTAINERS(Method)      \
  if (containers_ == nullptr) {             \
    return Unimplemented(context, #Method); \
  }

grpc::ServerUnaryReactor* RuntimeService::CreateContainer(
    grpc::CallbackServerContext* context,
    const v1::CreateContainerRequest* request,
    v1::CreateContainerResponse* response) {
  PSB_REQUIRE_CONTAINERS(CreateContainer);
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string pod = request->pod_sandbox_id();
  if (absl::Status s = RequireId(pod); !s.ok()) {
    Finish(reactor, "CreateContainer", pod, start, s);
    return reactor;
  }
  if (!request->has_config()) {
    Finish(reactor, "CreateContainer", pod, start,
           absl::InvalidArgumentError("config: must be set"));
    return reactor;
  }
  absl::StatusOr<container::ContainerConfig> config =
      ContainerConfigFromCri(request->config());
  if (!config.ok()) {
    Finish(reactor, "CreateContainer", pod, start, config.status());
    return reactor;
  }
  absl::Status queued = container_workers_.Post(
      [this, reactor, response, start, pod, config = *std::move(config)] {
        absl::StatusOr<container::PodContext> context =
            PodContextOf(controller_, pod, options_.state_dir);
        absl::StatusOr<std::string> id =
            context.ok() ? containers_->CreateContainer(*context, config)
                         : absl::StatusOr<std::string>(context.status());
        if (id.ok()) response->set_container_id(*id);
        Finish(reactor, "CreateContainer", id.ok() ? *id : pod, start,
               id.status());
      });
  if (!queued.ok()) Finish(reactor, "CreateContainer", pod, start, queued);
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::StartContainer(
    grpc::CallbackServerContext* context,
    const v1::StartContainerRequest* request,
    v1::StartContainerResponse* response) {
  PSB_REQUIRE_CONTAINERS(StartContainer);
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string id = request->container_id();
  if (absl::Status s = RequireContainerId(id); !s.ok()) {
    Finish(reactor, "StartContainer", id, start, s);
    return reactor;
  }
  absl::Status queued = container_workers_.Post([this, reactor, start, id] {
    Finish(reactor, "StartContainer", id, start,
           containers_->StartContainer(id));
  });
  if (!queued.ok()) Finish(reactor, "StartContainer", id, start, queued);
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::StopContainer(
    grpc::CallbackServerContext* context,
    const v1::StopContainerRequest* request,
    v1::StopContainerResponse* response) {
  PSB_REQUIRE_CONTAINERS(StopContainer);
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string id = request->container_id();
  if (absl::Status s = RequireContainerId(id); !s.ok()) {
    Finish(reactor, "StopContainer", id, start, s);
    return reactor;
  }
  const absl::Duration timeout =
      absl::Seconds(std::max<int64_t>(0, request->timeout()));
  absl::Status queued =
      container_workers_.Post([this, reactor, start, id, timeout] {
        absl::Status s = containers_->StopContainer(id, timeout);
        // CRI: stopping a container that is gone is no error.
        if (absl::IsNotFound(s)) s = absl::OkStatus();
        Finish(reactor, "StopContainer", id, start, s);
      });
  if (!queued.ok()) Finish(reactor, "StopContainer", id, start, queued);
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::RemoveContainer(
    grpc::CallbackServerContext* context,
    const v1::RemoveContainerRequest* request,
    v1::RemoveContainerResponse* response) {
  PSB_REQUIRE_CONTAINERS(RemoveContainer);
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string id = request->container_id();
  if (absl::Status s = RequireContainerId(id); !s.ok()) {
    Finish(reactor, "RemoveContainer", id, start, s);
    return reactor;
  }
  absl::Status queued = container_workers_.Post([this, reactor, start, id] {
    Finish(reactor, "RemoveContainer", id, start,
           containers_->RemoveContainer(id));
  });
  if (!queued.ok()) Finish(reactor, "RemoveContainer", id, start, queued);
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::ListContainers(
    grpc::CallbackServerContext* context,
    const v1::ListContainersRequest* request,
    v1::ListContainersResponse* response) {
  PSB_REQUIRE_CONTAINERS(ListContainers);
  const absl::Time start = absl::Now();
  // Inline: the Manager answers from memory.
  for (const container::ContainerRecord& r :
       containers_->ListContainers(FromCri(request->filter()))) {
    ToCri(r, response->add_containers());
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, "ListContainers", "", start, absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::ContainerStatus(
    grpc::CallbackServerContext* context,
    const v1::ContainerStatusRequest* request,
    v1::ContainerStatusResponse* response) {
  PSB_REQUIRE_CONTAINERS(ContainerStatus);
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string& id = request->container_id();
  if (absl::Status s = RequireContainerId(id); !s.ok()) {
    Finish(reactor, "ContainerStatus", id, start, s);
    return reactor;
  }
  // Inline: the Manager answers from memory.
  absl::StatusOr<container::ContainerRecord> r =
      containers_->ContainerStatus(id);
  if (r.ok()) {
    ToCri(*r, response->mutable_status());
    if (request->verbose()) {
      // containerd's shape under "info": crictl inspect reads it.
      nlohmann::json info = {{"sandboxID", r->sandbox_id},
                             {"pid", r->pid},
                             {"runtimeHandler", r->runtime_handler},
                             {"cgroupsPath", r->cgroup_path}};
      nlohmann::json spec = nlohmann::json::parse(
          containers_->SpecJson(r->id), nullptr, /*allow_exceptions=*/false);
      if (!spec.is_discarded()) info["runtimeSpec"] = spec;
      (*response->mutable_info())["info"] = info.dump();
    }
  }
  Finish(reactor, "ContainerStatus", id, start, r.status());
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::UpdateContainerResources(
    grpc::CallbackServerContext* context,
    const v1::UpdateContainerResourcesRequest* request,
    v1::UpdateContainerResourcesResponse* response) {
  PSB_REQUIRE_CONTAINERS(UpdateContainerResources);
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string id = request->container_id();
  if (absl::Status s = RequireContainerId(id); !s.ok()) {
    Finish(reactor, "UpdateContainerResources", id, start, s);
    return reactor;
  }
  container::Resources resources = FromCri(request->linux());
  absl::Status queued =
      container_workers_.Post([this, reactor, start, id, resources] {
        Finish(reactor, "UpdateContainerResources", id, start,
               containers_->UpdateContainerResources(id, resources));
      });
  if (!queued.ok()) {
    Finish(reactor, "UpdateContainerResources", id, start, queued);
  }
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::ReopenContainerLog(
    grpc::CallbackServerContext* context,
    const v1::ReopenContainerLogRequest* request,
    v1::ReopenContainerLogResponse* response) {
  PSB_REQUIRE_CONTAINERS(ReopenContainerLog);
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string& id = request->container_id();
  absl::Status s = RequireContainerId(id);
  // Inline: one close and one open of the log file.
  if (s.ok()) s = containers_->ReopenContainerLog(id);
  Finish(reactor, "ReopenContainerLog", id, start, s);
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::ExecSync(
    grpc::CallbackServerContext* context, const v1::ExecSyncRequest* request,
    v1::ExecSyncResponse* response) {
  PSB_REQUIRE_CONTAINERS(ExecSync);
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string id = request->container_id();
  if (absl::Status s = RequireContainerId(id); !s.ok()) {
    Finish(reactor, "ExecSync", id, start, s);
    return reactor;
  }
  std::vector<std::string> cmd(request->cmd().begin(), request->cmd().end());
  const absl::Duration timeout =
      request->timeout() > 0 ? absl::Seconds(request->timeout()) : kExecForever;
  absl::Status queued = container_workers_.Post(
      [this, reactor, response, start, id, cmd = std::move(cmd), timeout] {
        absl::StatusOr<container::ExecOutcome> out =
            containers_->ExecSync(id, cmd, timeout);
        if (out.ok()) {
          response->set_stdout(std::move(out->stdout_data));
          response->set_stderr(std::move(out->stderr_data));
          response->set_exit_code(out->exit_code);
        }
        Finish(reactor, "ExecSync", id, start, out.status());
      });
  if (!queued.ok()) Finish(reactor, "ExecSync", id, start, queued);
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::ContainerStats(
    grpc::CallbackServerContext* context,
    const v1::ContainerStatsRequest* request,
    v1::ContainerStatsResponse* response) {
  PSB_REQUIRE_CONTAINERS(ContainerStats);
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string id = request->container_id();
  if (absl::Status s = RequireContainerId(id); !s.ok()) {
    Finish(reactor, "ContainerStats", id, start, s);
    return reactor;
  }
  // A worker: the writable layer's usage is a walk of its files.
  absl::Status queued =
      stats_workers_.Post([this, reactor, response, start, id] {
        absl::StatusOr<container::ContainerStats> stats =
            containers_->Stats(id);
        if (stats.ok()) {
          ToCri(*stats, response->mutable_stats());
          SetNanoCores(*stats, response->mutable_stats());
        }
        Finish(reactor, "ContainerStats", id, start, stats.status());
      });
  if (!queued.ok()) Finish(reactor, "ContainerStats", id, start, queued);
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::ListContainerStats(
    grpc::CallbackServerContext* context,
    const v1::ListContainerStatsRequest* request,
    v1::ListContainerStatsResponse* response) {
  PSB_REQUIRE_CONTAINERS(ListContainerStats);
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  container::ListFilter filter;
  const v1::ContainerStatsFilter& f = request->filter();
  if (!f.id().empty()) filter.id = f.id();
  if (!f.pod_sandbox_id().empty()) filter.sandbox_id = f.pod_sandbox_id();
  filter.label_selector.insert(f.label_selector().begin(),
                               f.label_selector().end());
  absl::Status queued =
      stats_workers_.Post([this, reactor, response, start, filter] {
        for (const container::ContainerStats& stats :
             containers_->ListStats(filter)) {
          v1::ContainerStats* wire = response->add_stats();
          ToCri(stats, wire);
          SetNanoCores(stats, wire);
        }
        Finish(reactor, "ListContainerStats", "", start, absl::OkStatus());
      });
  if (!queued.ok()) Finish(reactor, "ListContainerStats", "", start, queued);
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::PodSandboxStats(
    grpc::CallbackServerContext* context,
    const v1::PodSandboxStatsRequest* request,
    v1::PodSandboxStatsResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string id = request->pod_sandbox_id();
  if (absl::Status s = RequireId(id); !s.ok()) {
    Finish(reactor, "PodSandboxStats", id, start, s);
    return reactor;
  }
  // Off gRPC's thread (cgroup reads, a netlink dump in the pod's netns, the
  // containers' writable layers walked), on workers of its own; the
  // controller and the manager answer from memory.
  absl::Status queued = stats_workers_.Post([this, reactor, response, start,
                                             id] {
    absl::StatusOr<sandbox::SandboxStatus> status =
        controller_.PodSandboxStatus(id, /*verbose=*/true);
    absl::Status s = status.status();
    if (s.ok() && status->state != sandbox::SandboxState::kReady) {
      // As containerd: a stopped pod has no cgroup or network to read.
      s = absl::FailedPreconditionError(
          absl::StrCat("pod sandbox ", status->id, " is not ready"));
    }
    if (s.ok()) s = pod_stats_.status();
    if (s.ok()) {
      PodStatsOf(*status, containers_, **pod_stats_, response->mutable_stats());
    }
    Finish(reactor, "PodSandboxStats", id, start, s);
  });
  if (!queued.ok()) Finish(reactor, "PodSandboxStats", id, start, queued);
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::ListPodSandboxStats(
    grpc::CallbackServerContext* context,
    const v1::ListPodSandboxStatsRequest* request,
    v1::ListPodSandboxStatsResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  sandbox::ListFilter filter;
  filter.state = sandbox::SandboxState::kReady;
  filter.label_selector.insert(request->filter().label_selector().begin(),
                               request->filter().label_selector().end());
  std::string id = request->filter().id();
  absl::Status queued = stats_workers_.Post([this, reactor, response, start,
                                             filter = std::move(filter),
                                             id = std::move(id)]() mutable {
    if (!pod_stats_.ok()) {
      Finish(reactor, "ListPodSandboxStats", "", start, pod_stats_.status());
      return;
    }
    const bool everything = id.empty() && filter.label_selector.empty();
    if (!id.empty()) {
      // A unique prefix names its pod, as in PodSandboxStatus (containerd
      // normalises the filter the same way); anything else must match
      // exactly, so an ambiguous prefix matches nothing.
      absl::StatusOr<sandbox::SandboxStatus> named =
          controller_.PodSandboxStatus(id, /*verbose=*/false);
      filter.id = named.ok() ? named->id : id;
    }
    absl::flat_hash_set<std::string> live;
    for (const sandbox::SandboxStatus& listed :
         controller_.ListPodSandbox(filter)) {
      // Verbose for the netns pin (a list leaves the info out).
      absl::StatusOr<sandbox::SandboxStatus> status =
          controller_.PodSandboxStatus(listed.id, /*verbose=*/true);
      // Stopped since it was listed: left out, as ListPodSandbox would now.
      if (!status.ok() || status->state != sandbox::SandboxState::kReady) {
        continue;
      }
      v1::PodSandboxStats* stats = response->add_stats();
      PodStatsOf(*status, containers_, **pod_stats_, stats);
      live.insert(status->id);
      for (const v1::ContainerStats& c : stats->linux().containers()) {
        live.insert(c.attributes().id());
      }
    }
    // kubelet lists every pod periodically: the CPU samples of pods and
    // containers that are gone go then (a filtered list cannot tell).
    if (everything) (*pod_stats_)->Retain(live);
    Finish(reactor, "ListPodSandboxStats", "", start, absl::OkStatus());
  });
  if (!queued.ok()) Finish(reactor, "ListPodSandboxStats", "", start, queued);
  return reactor;
}

#undef PSB_REQUIRE_CONTAINERS

grpc::ServerWriteReactor<v1::ContainerEventResponse>*
RuntimeService::GetContainerEvents(grpc::CallbackServerContext* context,
                                   const v1::GetEventsRequest* request) {
  const absl::Status status = absl::UnimplementedError(
      "GetContainerEvents is not implemented by podsandboxd");
  // Through LogRpc like every RPC, so JSON logs and the RPC metric see it.
  LogRpc("GetContainerEvents", "", absl::Now(), status);
  return new UnimplementedWriter(ToGrpcStatus(status));
}

// The unary RPCs podsandboxd does not implement: each answers UNIMPLEMENTED
// naming itself.
#define PSB_CRI_UNIMPLEMENTED(Method)               \
  grpc::ServerUnaryReactor* RuntimeService::Method( \
      grpc::CallbackServerContext* context,         \
      const v1::Method##Request* /*request*/,       \
      v1::Method##Response* /*response*/) {         \
    return Unimplemented(context, #Method);         \
  }

PSB_CRI_UNIMPLEMENTED(Exec)
PSB_CRI_UNIMPLEMENTED(Attach)
PSB_CRI_UNIMPLEMENTED(PortForward)
PSB_CRI_UNIMPLEMENTED(CheckpointContainer)
PSB_CRI_UNIMPLEMENTED(ListMetricDescriptors)
PSB_CRI_UNIMPLEMENTED(ListPodSandboxMetrics)
PSB_CRI_UNIMPLEMENTED(UpdatePodSandboxResources)

#undef PSB_CRI_UNIMPLEMENTED

}  // namespace podsandbox::cri
