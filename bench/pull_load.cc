// pull_load: times cold image pulls through a CRI ImageService (podsandboxd,
// containerd), the pull part of scripts/bench.
//
//   pull_load --endpoint unix:///run/x.sock --image bench.invalid/pull/deb:v1 \
//             --pulls 3 [--daemon_pid PID] [--json out.json]
//
// Each pull is cold: the image is removed first (RemoveImage, which in
// both daemons drops the content and the unpacked layers it alone used),
// then PullImage is timed client-side; RemoveImage is timed too. A warm-up
// pull (--warmup) is not counted: it pays for first-touch costs (page cache
// of the registry's files, the daemon's first TLS-less connection) that
// every measured pull would otherwise share unevenly.
//
// Memory: with --daemon_pid, the daemon's PSS (/proc/PID/smaps_rollup) is
// read before the pulls and every 20 ms during each pull; the report keeps
// the largest. A streaming daemon's peak stays near its idle size whatever
// the image size; one that buffers layers grows by them.
//
// Exit status: 0, or 1 when any RPC failed (the report counts them).
#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/cri_load_lib.h"
#include "cri/api.pb.h"
#include "cri/client/cri_client.h"
#include "nlohmann/json.hpp"
#include "sys/file.h"

ABSL_FLAG(std::string, endpoint, "", "CRI endpoint: unix:///path or /path");
ABSL_FLAG(std::string, label, "", "name of the endpoint in the report");
ABSL_FLAG(std::string, image, "", "the reference to pull");
ABSL_FLAG(int, pulls, 3, "measured cold pulls");
ABSL_FLAG(int, warmup, 1, "pulls first, not counted");
ABSL_FLAG(int, daemon_pid, 0, "the daemon's pid, for its peak PSS");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(10), "deadline of each RPC");
ABSL_FLAG(std::string, json, "", "write the report as JSON to this file");

namespace podsandbox::bench {
namespace {

namespace v1 = ::runtime::v1;

absl::StatusOr<int64_t> DaemonPssKib(int pid) {
  absl::StatusOr<std::string> text =
      sys::ReadFile(absl::StrCat("/proc/", pid, "/smaps_rollup"));
  if (!text.ok()) return text.status();
  return ParsePssKib(*text);
}

// Samples the daemon's PSS every 20 ms from construction to Stop(); the
// largest value seen, 0 without a pid.
class PeakSampler {
 public:
  explicit PeakSampler(int pid) : pid_(pid) {
    if (pid_ <= 0) return;
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        if (absl::StatusOr<int64_t> kib = DaemonPssKib(pid_); kib.ok()) {
          peak_ = std::max(peak_, *kib);
        }
        absl::SleepFor(absl::Milliseconds(20));  // a sampling period
      }
    });
  }
  int64_t Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    return peak_;
  }

 private:
  const int pid_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  int64_t peak_ = 0;
};

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

nlohmann::json SummaryJson(const LatencySummary& s) {
  return {{"count", s.count}, {"p50", Ms(s.p50)}, {"p95", Ms(s.p95)},
          {"p99", Ms(s.p99)}, {"max", Ms(s.max)}, {"mean", Ms(s.mean)}};
}

int Main() {
  const std::string endpoint = absl::GetFlag(FLAGS_endpoint);
  const std::string image = absl::GetFlag(FLAGS_image);
  if (endpoint.empty() || image.empty() || absl::GetFlag(FLAGS_pulls) < 1) {
    fprintf(stderr, "pull_load: --endpoint, --image and --pulls >= 1\n");
    return 2;
  }
  cri::client::CriClient client(endpoint, absl::GetFlag(FLAGS_timeout));
  v1::ImageSpec spec;
  spec.set_image(image);
  const int pid = absl::GetFlag(FLAGS_daemon_pid);

  int errors = 0;
  std::string first_error;
  auto note = [&](const absl::Status& s, absl::string_view what) {
    if (s.ok()) return;
    ++errors;
    if (first_error.empty())
      first_error = absl::StrCat(what, ": ", s.ToString());
    fprintf(stderr, "pull_load: %s: %s\n", std::string(what).c_str(),
            s.ToString().c_str());
  };

  // Absent before the first pull, whatever an earlier run left.
  note(client.RemoveImage(spec), "RemoveImage (before)");
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup); ++i) {
    note(client.PullImage(spec, {}).status(), "PullImage (warm-up)");
    note(client.RemoveImage(spec), "RemoveImage (warm-up)");
  }

  int64_t before_kib = 0;
  if (pid > 0) {
    if (absl::StatusOr<int64_t> kib = DaemonPssKib(pid); kib.ok()) {
      before_kib = *kib;
    }
  }
  std::vector<absl::Duration> pull_samples, remove_samples;
  int64_t peak_kib = 0;
  for (int i = 0; i < absl::GetFlag(FLAGS_pulls); ++i) {
    PeakSampler sampler(pid);
    const absl::Time start = absl::Now();
    absl::StatusOr<std::string> ref = client.PullImage(spec, {});
    const absl::Duration took = absl::Now() - start;
    peak_kib = std::max(peak_kib, sampler.Stop());
    note(ref.status(), "PullImage");
    if (ref.ok()) pull_samples.push_back(took);

    const absl::Time remove_start = absl::Now();
    absl::Status removed = client.RemoveImage(spec);
    note(removed, "RemoveImage");
    if (removed.ok()) remove_samples.push_back(absl::Now() - remove_start);
  }

  const LatencySummary pull = Summarize(pull_samples);
  const LatencySummary remove = Summarize(remove_samples);
  printf(
      "%-12s %s: pull p50 %.1f ms max %.1f ms (%d), remove p50 %.1f ms, "
      "daemon PSS %lld KiB before, %lld KiB peak, %d errors\n",
      absl::GetFlag(FLAGS_label).c_str(), image.c_str(), Ms(pull.p50),
      Ms(pull.max), pull.count, Ms(remove.p50),
      static_cast<long long>(before_kib), static_cast<long long>(peak_kib),
      errors);

  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    nlohmann::json pulls = nlohmann::json::array();
    for (absl::Duration d : pull_samples) pulls.push_back(Ms(d));
    nlohmann::json removes = nlohmann::json::array();
    for (absl::Duration d : remove_samples) removes.push_back(Ms(d));
    nlohmann::json report = {
        {"label", absl::GetFlag(FLAGS_label)},
        {"endpoint", endpoint},
        {"image", image},
        {"pulls", absl::GetFlag(FLAGS_pulls)},
        {"pull", SummaryJson(pull)},
        {"remove", SummaryJson(remove)},
        {"samples_ms", {{"pull", pulls}, {"remove", removes}}},
        {"errors", errors},
        {"first_error", first_error},
    };
    if (pid > 0) {
      report["memory"] = {{"daemon_before_kib", before_kib},
                          {"daemon_peak_kib", peak_kib}};
    }
    std::ofstream out(path);
    out << report.dump(2) << "\n";
    if (!out) {
      fprintf(stderr, "pull_load: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace podsandbox::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Times cold PullImage calls of one image against a CRI endpoint.");
  absl::ParseCommandLine(argc, argv);
  return podsandbox::bench::Main();
}
