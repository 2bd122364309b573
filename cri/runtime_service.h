// The CRI v1 RuntimeService over a sandbox::Controller, on gRPC's callback
// API.
//
// Two kinds of RPC, served two ways, so that the first never waits behind
// the second (kubelet marks the node NotReady when Status or
// ListPodSandbox stall, and hung RunPodSandbox calls are exactly when it
// retries most):
// - Version, Status, ListPodSandbox, PodSandboxStatus, RuntimeConfig and
//   UpdateRuntimeConfig read memory only (the Controller's records under
//   short locks, never a sandbox's operation lock; Status's conditions from
//   Readiness, which checks them on its own thread) and are answered
//   inline on gRPC's thread: no queue, no worker to wait for.
// - RunPodSandbox, StopPodSandbox and RemovePodSandbox run CNI plugins and
//   the OCI runtime. Each handler converts and validates its request inline
//   (InvalidArgument naming the field), then posts the Controller call to
//   a pool of its own and returns the call's reactor; the worker fills the
//   response and calls Finish. RunPodSandbox has its own pool, one worker
//   per admitted call: at most max_concurrent_run_pod_sandbox run at once,
//   and one more is refused at once with ResourceExhausted (kubelet
//   retries) instead of queueing without limit. Stop and Remove share
//   another pool, so cleaning up never waits for hung creations. Every
//   pool's queue is bounded too (limits.stop_remove_queue,
//   container_queue, stats_queue): past it the call is refused at
//   once with ResourceExhausted naming the key. The inline reads above
//   touch no pool, so no bound ever refuses them.
// A client that cancels or times out does not stop the work: the
// Controller carries a RunPodSandbox to READY or rolls it back, and the
// next call (kubelet retries with the same config) finds the result.
//
// The container RPCs need a container::Manager (UNIMPLEMENTED without
// one); the pod stats RPCs run on workers of their own (cri/pod_stats.h).
// Exec, Attach, PortForward, events, checkpoints and metrics return
// UNIMPLEMENTED with a message naming the RPC. Each RPC logs one line:
// method, pod, code, duration.
//
// Thread-safe: gRPC calls the handlers concurrently.
#ifndef PODSANDBOX_CRI_RUNTIME_SERVICE_H_
#define PODSANDBOX_CRI_RUNTIME_SERVICE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "container/manager.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/pod_stats.h"
#include "cri/readiness.h"
#include "cri/worker_pool.h"
#include "grpcpp/grpcpp.h"
#include "sandbox/controller.h"

namespace podsandbox::cri {

struct RuntimeServiceOptions {
  // VersionResponse.runtime_version.
  std::string runtime_version = "0.1.0";

  // StatusResponse.runtime_handlers: each configured handler, and whether
  // it can run user-namespaced pods.
  struct Handler {
    std::string name;
    bool user_namespaces = false;
  };
  std::vector<Handler> handlers;
  // The handler an empty runtime_handler selects; reported under the
  // empty name too, as the CRI asks.
  std::string default_handler;

  // StatusResponse.info["config"] when verbose: the daemon's effective
  // configuration as JSON.
  std::string config_json = "{}";

  // RunPodSandbox calls in progress at once; one more is refused with
  // ResourceExhausted. Each holds a thread, a namespace helper, pins and
  // plugin or runtime processes until it ends (a hung plugin: until the
  // CNI timeout). See podsandboxd for the default.
  int max_concurrent_run_pod_sandbox = 32;
  // Workers for StopPodSandbox and RemovePodSandbox (queued beyond that).
  int stop_remove_workers = 16;
  // Calls queued for each pool beyond its busy workers; one more is
  // refused with ResourceExhausted naming the [limits] key. The defaults
  // and why: cri/daemon_config.h.
  int stop_remove_queue = 256;
  int container_queue = 1024;
  int stats_queue = 64;
  // How old Status's RuntimeReady and NetworkReady may get before a Status
  // call starts a new check (it never waits for it).
  absl::Duration readiness_ttl = absl::Seconds(2);

  // The sandbox controller's state directory: the pod files containers
  // mount are under <state_dir>/pods/<id>/ (cri/pod_context.h).
  std::string state_dir;
  // Workers for the container RPCs that run programs (create, start,
  // stop, remove, update, exec); queued beyond.
  int container_workers = 32;
  // Workers for the stats RPCs (PodSandboxStats, ListPodSandboxStats,
  // ContainerStats, ListContainerStats), apart from the container workers
  // so that kubelet's stats never queue behind runtime execs or exec
  // probes; queued beyond.
  int stats_workers = 4;
  // What reads the pods' numbers; null: MakeHostPodStatsReader().
  std::shared_ptr<PodStatsReader> pod_stats;
};

class RuntimeService final
    : public runtime::v1::RuntimeService::CallbackService {
 public:
  // `controller` must outlive the service, and the service the server it
  // is registered with. Checks the runtime and the network once before it
  // returns (see Readiness), so it may block up to their timeouts.
  // `containers`, when set, must outlive the service too; without it the
  // container RPCs answer UNIMPLEMENTED.
  RuntimeService(sandbox::Controller& controller, RuntimeServiceOptions options,
                 container::Manager* containers = nullptr);
  // Shutdown.
  ~RuntimeService() override;

  // Runs every accepted Run, Stop and Remove to its end and stops the
  // workers. Call after the server's Shutdown and Wait; idempotent.
  void Shutdown();

  // The pod CIDR of the last UpdateRuntimeConfig ("" before any).
  std::string pod_cidr() const ABSL_LOCKS_EXCLUDED(mu_);

  // runtime::v1::RuntimeService: implemented.
  grpc::ServerUnaryReactor* Version(
      grpc::CallbackServerContext* context,
      const runtime::v1::VersionRequest* request,
      runtime::v1::VersionResponse* response) override;
  grpc::ServerUnaryReactor* Status(
      grpc::CallbackServerContext* context,
      const runtime::v1::StatusRequest* request,
      runtime::v1::StatusResponse* response) override;
  grpc::ServerUnaryReactor* RunPodSandbox(
      grpc::CallbackServerContext* context,
      const runtime::v1::RunPodSandboxRequest* request,
      runtime::v1::RunPodSandboxResponse* response) override;
  grpc::ServerUnaryReactor* StopPodSandbox(
      grpc::CallbackServerContext* context,
      const runtime::v1::StopPodSandboxRequest* request,
      runtime::v1::StopPodSandboxResponse* response) override;
  grpc::ServerUnaryReactor* RemovePodSandbox(
      grpc::CallbackServerContext* context,
      const runtime::v1::RemovePodSandboxRequest* request,
      runtime::v1::RemovePodSandboxResponse* response) override;
  grpc::ServerUnaryReactor* PodSandboxStatus(
      grpc::CallbackServerContext* context,
      const runtime::v1::PodSandboxStatusRequest* request,
      runtime::v1::PodSandboxStatusResponse* response) override;
  grpc::ServerUnaryReactor* ListPodSandbox(
      grpc::CallbackServerContext* context,
      const runtime::v1::ListPodSandboxRequest* request,
      runtime::v1::ListPodSandboxResponse* response) override;
  grpc::ServerUnaryReactor* RuntimeConfig(
      grpc::CallbackServerContext* context,
      const runtime::v1::RuntimeConfigRequest* request,
      runtime::v1::RuntimeConfigResponse* response) override;
  grpc::ServerUnaryReactor* UpdateRuntimeConfig(
      grpc::CallbackServerContext* context,
      const runtime::v1::UpdateRuntimeConfigRequest* request,
      runtime::v1::UpdateRuntimeConfigResponse* response) override;

  // runtime::v1::RuntimeService: the containers (container::Manager);
  // ListContainers and ContainerStatus inline, from memory; the stats
  // (pods' and containers', cri/pod_stats.h) on stats_workers_; the rest
  // on container_workers_.
  // Exec, Attach, PortForward (streaming, a later issue), checkpoint and
  // the metrics RPCs: UNIMPLEMENTED.
  grpc::ServerUnaryReactor* CreateContainer(
      grpc::CallbackServerContext* context,
      const runtime::v1::CreateContainerRequest* request,
      runtime::v1::CreateContainerResponse* response) override;
  grpc::ServerUnaryReactor* StartContainer(
      grpc::CallbackServerContext* context,
      const runtime::v1::StartContainerRequest* request,
      runtime::v1::StartContainerResponse* response) override;
  grpc::ServerUnaryReactor* StopContainer(
      grpc::CallbackServerContext* context,
      const runtime::v1::StopContainerRequest* request,
      runtime::v1::StopContainerResponse* response) override;
  grpc::ServerUnaryReactor* RemoveContainer(
      grpc::CallbackServerContext* context,
      const runtime::v1::RemoveContainerRequest* request,
      runtime::v1::RemoveContainerResponse* response) override;
  grpc::ServerUnaryReactor* ListContainers(
      grpc::CallbackServerContext* context,
      const runtime::v1::ListContainersRequest* request,
      runtime::v1::ListContainersResponse* response) override;
  grpc::ServerUnaryReactor* ContainerStatus(
      grpc::CallbackServerContext* context,
      const runtime::v1::ContainerStatusRequest* request,
      runtime::v1::ContainerStatusResponse* response) override;
  grpc::ServerUnaryReactor* UpdateContainerResources(
      grpc::CallbackServerContext* context,
      const runtime::v1::UpdateContainerResourcesRequest* request,
      runtime::v1::UpdateContainerResourcesResponse* response) override;
  grpc::ServerUnaryReactor* ReopenContainerLog(
      grpc::CallbackServerContext* context,
      const runtime::v1::ReopenContainerLogRequest* request,
      runtime::v1::ReopenContainerLogResponse* response) override;
  grpc::ServerUnaryReactor* ExecSync(
      grpc::CallbackServerContext* context,
      const runtime::v1::ExecSyncRequest* request,
      runtime::v1::ExecSyncResponse* response) override;
  grpc::ServerUnaryReactor* Exec(grpc::CallbackServerContext* context,
                                 const runtime::v1::ExecRequest* request,
                                 runtime::v1::ExecResponse* response) override;
  grpc::ServerUnaryReactor* Attach(
      grpc::CallbackServerContext* context,
      const runtime::v1::AttachRequest* request,
      runtime::v1::AttachResponse* response) override;
  grpc::ServerUnaryReactor* PortForward(
      grpc::CallbackServerContext* context,
      const runtime::v1::PortForwardRequest* request,
      runtime::v1::PortForwardResponse* response) override;
  grpc::ServerUnaryReactor* ContainerStats(
      grpc::CallbackServerContext* context,
      const runtime::v1::ContainerStatsRequest* request,
      runtime::v1::ContainerStatsResponse* response) override;
  grpc::ServerUnaryReactor* ListContainerStats(
      grpc::CallbackServerContext* context,
      const runtime::v1::ListContainerStatsRequest* request,
      runtime::v1::ListContainerStatsResponse* response) override;
  grpc::ServerUnaryReactor* PodSandboxStats(
      grpc::CallbackServerContext* context,
      const runtime::v1::PodSandboxStatsRequest* request,
      runtime::v1::PodSandboxStatsResponse* response) override;
  grpc::ServerUnaryReactor* ListPodSandboxStats(
      grpc::CallbackServerContext* context,
      const runtime::v1::ListPodSandboxStatsRequest* request,
      runtime::v1::ListPodSandboxStatsResponse* response) override;
  grpc::ServerUnaryReactor* CheckpointContainer(
      grpc::CallbackServerContext* context,
      const runtime::v1::CheckpointContainerRequest* request,
      runtime::v1::CheckpointContainerResponse* response) override;
  grpc::ServerWriteReactor<runtime::v1::ContainerEventResponse>*
  GetContainerEvents(grpc::CallbackServerContext* context,
                     const runtime::v1::GetEventsRequest* request) override;
  grpc::ServerUnaryReactor* ListMetricDescriptors(
      grpc::CallbackServerContext* context,
      const runtime::v1::ListMetricDescriptorsRequest* request,
      runtime::v1::ListMetricDescriptorsResponse* response) override;
  grpc::ServerUnaryReactor* ListPodSandboxMetrics(
      grpc::CallbackServerContext* context,
      const runtime::v1::ListPodSandboxMetricsRequest* request,
      runtime::v1::ListPodSandboxMetricsResponse* response) override;
  grpc::ServerUnaryReactor* UpdatePodSandboxResources(
      grpc::CallbackServerContext* context,
      const runtime::v1::UpdatePodSandboxResourcesRequest* request,
      runtime::v1::UpdatePodSandboxResourcesResponse* response) override;

 private:
  // Logs the RPC's line and finishes it with `status` mapped to gRPC.
  static void Finish(grpc::ServerUnaryReactor* reactor,
                     absl::string_view method, absl::string_view pod,
                     absl::Time start, const absl::Status& status);
  static grpc::ServerUnaryReactor* Unimplemented(
      grpc::CallbackServerContext* context, absl::string_view method);

  // StopPodSandbox's and RemovePodSandbox's body, named `method`: checks
  // the id inline, then on a stop/remove worker applies `to_containers` to
  // the pod's containers (with the pod's full id; not at all without a
  // container manager) and, only if that succeeded, `to_pod` to the
  // request's id.
  using PodStep = std::function<absl::Status(const std::string& id)>;
  grpc::ServerUnaryReactor* PostPodTeardown(
      grpc::CallbackServerContext* context, absl::string_view method,
      std::string id, PodStep to_containers, PodStep to_pod);

  // Takes a RunPodSandbox slot; ResourceExhausted when all are taken.
  absl::Status AdmitRun() ABSL_LOCKS_EXCLUDED(mu_);
  // Gives the slot back. Called before Finish, so a client that sends its
  // next call on the reply finds the slot free.
  void EndRun() ABSL_LOCKS_EXCLUDED(mu_);
  // A container's usage_nano_cores from pod_stats_'s samples, when it has
  // a previous one.
  void SetNanoCores(const container::ContainerStats& stats,
                    runtime::v1::ContainerStats* out);

  sandbox::Controller& controller_;
  const RuntimeServiceOptions options_;
  container::Manager* const containers_;

  mutable absl::Mutex mu_;
  std::string pod_cidr_ ABSL_GUARDED_BY(mu_);
  int runs_in_progress_ ABSL_GUARDED_BY(mu_) = 0;

  Readiness readiness_;
  // One worker per admitted RunPodSandbox: an admitted call never queues.
  WorkerPool run_workers_;
  WorkerPool stop_remove_workers_;
  WorkerPool container_workers_;
  // The host's cgroup layout may be unknown: then the pod stats RPCs
  // answer with that error.
  const absl::StatusOr<std::shared_ptr<PodStatsReader>> pod_stats_;
  WorkerPool stats_workers_;
};

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_RUNTIME_SERVICE_H_
