#include "cri/runtime_service.h"

#include <arpa/inet.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.pb.h"
#include "cri/convert.h"
#include "cri/grpc_status.h"
#include "cri/rpc_log.h"
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

}  // namespace

RuntimeService::RuntimeService(sandbox::Controller& controller,
                               RuntimeServiceOptions options)
    : controller_(controller),
      options_(std::move(options)),
      readiness_(
          [&controller] {
            return Readiness::Conditions{controller.RuntimeReady(),
                                         controller.NetworkReady()};
          },
          options_.readiness_ttl),
      run_workers_(options_.max_concurrent_run_pod_sandbox),
      stop_remove_workers_(options_.stop_remove_workers) {}

RuntimeService::~RuntimeService() { Shutdown(); }

void RuntimeService::Shutdown() {
  run_workers_.Shutdown();
  stop_remove_workers_.Shutdown();
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
             absl::StrCat(method,
                          " is not implemented: podsandbox runs pod sandboxes "
                          "only, not containers")));
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
  run_workers_.Post([this, reactor, response, start, pod = std::move(pod),
                     config = *std::move(config),
                     handler = request->runtime_handler()] {
    absl::StatusOr<std::string> id = controller_.RunPodSandbox(config, handler);
    if (id.ok()) response->set_pod_sandbox_id(*id);
    EndRun();
    Finish(reactor, "RunPodSandbox", id.ok() ? *id : pod, start, id.status());
  });
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::StopPodSandbox(
    grpc::CallbackServerContext* context,
    const v1::StopPodSandboxRequest* request,
    v1::StopPodSandboxResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string id = request->pod_sandbox_id();
  if (absl::Status s = RequireId(id); !s.ok()) {
    Finish(reactor, "StopPodSandbox", id, start, s);
    return reactor;
  }
  stop_remove_workers_.Post([this, reactor, start, id = std::move(id)] {
    Finish(reactor, "StopPodSandbox", id, start,
           controller_.StopPodSandbox(id));
  });
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::RemovePodSandbox(
    grpc::CallbackServerContext* context,
    const v1::RemovePodSandboxRequest* request,
    v1::RemovePodSandboxResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string id = request->pod_sandbox_id();
  if (absl::Status s = RequireId(id); !s.ok()) {
    Finish(reactor, "RemovePodSandbox", id, start, s);
    return reactor;
  }
  stop_remove_workers_.Post([this, reactor, start, id = std::move(id)] {
    Finish(reactor, "RemovePodSandbox", id, start,
           controller_.RemovePodSandbox(id));
  });
  return reactor;
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

grpc::ServerWriteReactor<v1::ContainerEventResponse>*
RuntimeService::GetContainerEvents(grpc::CallbackServerContext* context,
                                   const v1::GetEventsRequest* request) {
  const absl::Status status = absl::UnimplementedError(
      "GetContainerEvents is not implemented: podsandbox runs pod sandboxes "
      "only, not containers");
  PSB_LOG(kInfo, "rpc=GetContainerEvents pod= code=%s duration=0",
          absl::StatusCodeToString(status.code()));
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

PSB_CRI_UNIMPLEMENTED(CreateContainer)
PSB_CRI_UNIMPLEMENTED(StartContainer)
PSB_CRI_UNIMPLEMENTED(StopContainer)
PSB_CRI_UNIMPLEMENTED(RemoveContainer)
PSB_CRI_UNIMPLEMENTED(ListContainers)
PSB_CRI_UNIMPLEMENTED(ContainerStatus)
PSB_CRI_UNIMPLEMENTED(UpdateContainerResources)
PSB_CRI_UNIMPLEMENTED(ReopenContainerLog)
PSB_CRI_UNIMPLEMENTED(ExecSync)
PSB_CRI_UNIMPLEMENTED(Exec)
PSB_CRI_UNIMPLEMENTED(Attach)
PSB_CRI_UNIMPLEMENTED(PortForward)
PSB_CRI_UNIMPLEMENTED(ContainerStats)
PSB_CRI_UNIMPLEMENTED(ListContainerStats)
PSB_CRI_UNIMPLEMENTED(PodSandboxStats)
PSB_CRI_UNIMPLEMENTED(ListPodSandboxStats)
PSB_CRI_UNIMPLEMENTED(CheckpointContainer)
PSB_CRI_UNIMPLEMENTED(ListMetricDescriptors)
PSB_CRI_UNIMPLEMENTED(ListPodSandboxMetrics)
PSB_CRI_UNIMPLEMENTED(UpdatePodSandboxResources)

#undef PSB_CRI_UNIMPLEMENTED

}  // namespace podsandbox::cri
