// container_load: times the container RPCs of a CRI runtime (podsandboxd,
// containerd), the containers part of scripts/bench.
//
//   container_load --endpoint unix:///run/x.sock --image 127.0.0.1:5000/b:v1 \
//                  --iterations 20 [--runtime_handler runc] [--json out.json]
//
// The image (one holding /bin/busybox, e.g. Debian's busybox-static) is
// pulled once, untimed. Then each iteration runs one pod (RunPodSandbox) and
// in it: CreateContainer and StartContainer of `busybox sleep 3600`, timed
// apart and together; ExecSync of `busybox true`; StopContainer (timeout 0)
// and RemoveContainer, timed apart and together; then a pod of three such
// containers, timed from its RunPodSandbox to the third StartContainer's
// return (all running). Every pod is stopped and removed at the end of its
// iteration, untimed. A warm-up iteration (--warmup) is not counted: it
// pays for first-touch costs (page cache of the image's files, the
// runtime's first exec) that the measured ones would share unevenly.
//
// The image is left in place: a later round or load reuses it.
//
// Exit status: 0, or 1 when any RPC failed (the report counts them).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/cri_load_lib.h"
#include "cri/api.pb.h"
#include "cri/client/cri_client.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, endpoint, "", "CRI endpoint: unix:///path or /path");
ABSL_FLAG(std::string, label, "", "name of the endpoint in the report");
ABSL_FLAG(std::string, image, "", "an image holding /bin/busybox");
ABSL_FLAG(std::string, runtime_handler, "",
          "RunPodSandbox's runtime handler (\"\": the default)");
ABSL_FLAG(int, iterations, 20, "measured iterations");
ABSL_FLAG(int, warmup, 1, "iterations first, not counted");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(2), "deadline of each RPC");
ABSL_FLAG(std::string, json, "", "write the report as JSON to this file");

namespace podsandbox::bench {
namespace {

namespace v1 = ::runtime::v1;

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// The report's series, in the order they are printed.
constexpr const char* kSeries[] = {
    "create", "start",  "create_start", "exec_sync",
    "stop",   "remove", "stop_remove",  "pod3_running",
};

class Load {
 public:
  Load(cri::client::CriClient& client, std::string image, std::string handler)
      : client_(client),
        image_(std::move(image)),
        handler_(std::move(handler)) {}

  // One iteration; samples are kept only when `record`.
  void Iteration(int n, bool record) {
    const std::string tag = absl::StrCat(getpid(), "-", n);
    // One container's life in its own pod.
    {
      v1::PodSandboxConfig pod = PodConfig(absl::StrCat("ctr-", tag));
      absl::StatusOr<std::string> pod_id = client_.RunPodSandbox(pod, handler_);
      Note(pod_id.status(), "RunPodSandbox");
      if (pod_id.ok()) {
        OneContainer(*pod_id, pod, record);
        RemovePod(*pod_id);
      }
    }
    // Three containers: RunPodSandbox to all running, as a kubelet would.
    {
      v1::PodSandboxConfig pod = PodConfig(absl::StrCat("pod3-", tag));
      const absl::Time start = absl::Now();
      absl::StatusOr<std::string> pod_id = client_.RunPodSandbox(pod, handler_);
      Note(pod_id.status(), "RunPodSandbox (3 containers)");
      if (!pod_id.ok()) return;
      bool ok = true;
      for (int i = 0; i < 3 && ok; ++i) {
        absl::StatusOr<std::string> id = client_.CreateContainer(
            *pod_id, ContainerConfig(absl::StrCat("c", i)), pod);
        ok = Note(id.status(), "CreateContainer (3 containers)") &&
             Note(client_.StartContainer(*id), "StartContainer (3 containers)");
      }
      const absl::Duration took = absl::Now() - start;
      if (ok && record) samples_["pod3_running"].push_back(took);
      RemovePod(*pod_id);
    }
  }

  int errors() const { return errors_; }
  const std::string& first_error() const { return first_error_; }
  const std::map<std::string, std::vector<absl::Duration>>& samples() const {
    return samples_;
  }

 private:
  void OneContainer(const std::string& pod_id, const v1::PodSandboxConfig& pod,
                    bool record) {
    absl::Time t0 = absl::Now();
    absl::StatusOr<std::string> id =
        client_.CreateContainer(pod_id, ContainerConfig("sleeper"), pod);
    absl::Time t1 = absl::Now();
    if (!Note(id.status(), "CreateContainer")) return;
    absl::Status started = client_.StartContainer(*id);
    absl::Time t2 = absl::Now();
    if (Note(started, "StartContainer") && record) {
      samples_["create"].push_back(t1 - t0);
      samples_["start"].push_back(t2 - t1);
      samples_["create_start"].push_back(t2 - t0);
    }
    if (started.ok()) {
      t0 = absl::Now();
      absl::StatusOr<v1::ExecSyncResponse> exec =
          client_.ExecSync(*id, {"/bin/busybox", "true"}, absl::Seconds(30));
      t1 = absl::Now();
      absl::Status exec_status = exec.status();
      if (exec.ok() && exec->exit_code() != 0) {
        exec_status =
            absl::InternalError(absl::StrCat("exit code ", exec->exit_code()));
      }
      if (Note(exec_status, "ExecSync") && record) {
        samples_["exec_sync"].push_back(t1 - t0);
      }
    }
    t0 = absl::Now();
    absl::Status stopped = client_.StopContainer(*id, absl::ZeroDuration());
    t1 = absl::Now();
    absl::Status removed = client_.RemoveContainer(*id);
    t2 = absl::Now();
    const bool stop_ok = Note(stopped, "StopContainer");
    const bool remove_ok = Note(removed, "RemoveContainer");
    if (stop_ok && remove_ok && record) {
      samples_["stop"].push_back(t1 - t0);
      samples_["remove"].push_back(t2 - t1);
      samples_["stop_remove"].push_back(t2 - t0);
    }
  }

  // Stops and removes the pod and whatever containers it still has.
  void RemovePod(const std::string& pod_id) {
    Note(client_.StopPodSandbox(pod_id), "StopPodSandbox");
    Note(client_.RemovePodSandbox(pod_id), "RemovePodSandbox");
  }

  v1::PodSandboxConfig PodConfig(const std::string& name) const {
    v1::PodSandboxConfig pod;
    pod.mutable_metadata()->set_name(name);
    pod.mutable_metadata()->set_uid(absl::StrCat("uid-", name));
    pod.mutable_metadata()->set_namespace_("container-load");
    return pod;
  }

  v1::ContainerConfig ContainerConfig(const std::string& name) const {
    v1::ContainerConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_image()->set_image(image_);
    c.add_command("/bin/busybox");
    c.add_args("sleep");
    c.add_args("3600");
    return c;
  }

  // True when `s` is OK; otherwise counts and logs it.
  bool Note(const absl::Status& s, const char* what) {
    if (s.ok()) return true;
    ++errors_;
    if (first_error_.empty())
      first_error_ = absl::StrCat(what, ": ", s.ToString());
    fprintf(stderr, "container_load: %s: %s\n", what, s.ToString().c_str());
    return false;
  }

  cri::client::CriClient& client_;
  const std::string image_;
  const std::string handler_;
  std::map<std::string, std::vector<absl::Duration>> samples_;
  int errors_ = 0;
  std::string first_error_;
};

nlohmann::json SummaryJson(const LatencySummary& s) {
  return {{"count", s.count}, {"p50", Ms(s.p50)}, {"p95", Ms(s.p95)},
          {"p99", Ms(s.p99)}, {"max", Ms(s.max)}, {"mean", Ms(s.mean)}};
}

int Main() {
  const std::string endpoint = absl::GetFlag(FLAGS_endpoint);
  const std::string image = absl::GetFlag(FLAGS_image);
  const int iterations = absl::GetFlag(FLAGS_iterations);
  if (endpoint.empty() || image.empty() || iterations < 1) {
    fprintf(stderr,
            "container_load: --endpoint, --image and --iterations >= 1\n");
    return 2;
  }
  cri::client::CriClient client(endpoint, absl::GetFlag(FLAGS_timeout));
  v1::ImageSpec spec;
  spec.set_image(image);
  if (absl::StatusOr<std::string> ref = client.PullImage(spec, {}); !ref.ok()) {
    fprintf(stderr, "container_load: PullImage %s: %s\n", image.c_str(),
            ref.status().ToString().c_str());
    return 1;
  }

  Load load(client, image, absl::GetFlag(FLAGS_runtime_handler));
  const int warmup = absl::GetFlag(FLAGS_warmup);
  for (int i = 0; i < warmup + iterations; ++i) {
    load.Iteration(i, /*record=*/i >= warmup);
  }

  nlohmann::json summary = nlohmann::json::object();
  nlohmann::json samples = nlohmann::json::object();
  printf("%-12s", absl::GetFlag(FLAGS_label).c_str());
  for (const char* series : kSeries) {
    auto it = load.samples().find(series);
    const std::vector<absl::Duration> empty;
    const std::vector<absl::Duration>& got =
        it == load.samples().end() ? empty : it->second;
    const LatencySummary s = Summarize(got);
    summary[series] = SummaryJson(s);
    nlohmann::json list = nlohmann::json::array();
    for (absl::Duration d : got) list.push_back(Ms(d));
    samples[series] = list;
    printf(" %s p50 %.1f ms;", series, Ms(s.p50));
  }
  printf(" %d errors\n", load.errors());

  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    nlohmann::json report = {
        {"label", absl::GetFlag(FLAGS_label)},
        {"endpoint", endpoint},
        {"image", image},
        {"runtime_handler", absl::GetFlag(FLAGS_runtime_handler)},
        {"iterations", iterations},
        {"warmup", warmup},
        {"summary_ms", summary},
        {"samples_ms", samples},
        {"errors", load.errors()},
        {"first_error", load.first_error()},
    };
    std::ofstream out(path);
    out << report.dump(2) << "\n";
    if (!out) {
      fprintf(stderr, "container_load: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return load.errors() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace podsandbox::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Times container create/start/exec/stop/remove against a CRI "
      "endpoint.");
  absl::ParseCommandLine(argc, argv);
  return podsandbox::bench::Main();
}
