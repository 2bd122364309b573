// Metrics the layers record into and podsandboxd serves in the Prometheus
// text exposition format (version 0.0.4). A bottom-level package: it
// depends on absl only, so cni/, oci/, sandbox/ and cri/ can record
// without knowing whether anything serves what they record, and a program
// that embeds the library without the daemon pays a few map updates per
// exec and nothing else.
//
// Why a process-wide registry (DefaultRegistry) rather than one injected
// through constructors: the recording points are free functions and small
// value types deep in the layers (cni::ExecPlugin, oci::RuntimeCli,
// sandbox::CleanupStack); threading a registry through each would change
// every constructor between the daemon and them for a side channel that
// changes no behaviour. Metrics describe the process (its fds, its RSS)
// and are process-wide by nature, as Go's client_golang default registry
// is. Tests read deltas of the families they drive.
//
// Families are declared once, at their recording point, as function-local
// statics:
//
//   static metrics::HistogramFamily& exec = metrics::DefaultRegistry()
//       .Histogram("podsandbox_cni_plugin_exec_duration_seconds", "...",
//                  {"plugin", "command"}, metrics::LatencyBuckets());
//   exec.Observe({plugin, command}, absl::ToDoubleSeconds(took));
//
// Bounded: a family keeps at most kMaxSeriesPerFamily label sets; values
// for more land in one series whose every label is "_overflow_", so a
// client that picks names cannot grow the daemon's memory through them.
// Label values are opaque text (escaped on output).
//
// Thread-safe: every method may be called from any thread. Families live
// as long as their registry (DefaultRegistry's: the process).
#ifndef PODSANDBOX_METRICS_REGISTRY_H_
#define PODSANDBOX_METRICS_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace podsandbox::metrics {

// Label values in the order of the family's label names.
using LabelValues = std::vector<std::string>;

// Label sets one family keeps before folding the rest into "_overflow_".
inline constexpr size_t kMaxSeriesPerFamily = 512;
inline constexpr char kOverflowLabel[] = "_overflow_";

// Upper bounds in seconds for latencies from 1 ms (a cached RPC) to 60 s
// (a plugin or runtime timeout).
const std::vector<double>& LatencyBuckets();

enum class Kind { kCounter, kGauge, kHistogram };

// One metric family: a name, help text, label names, and a value (or, for
// a histogram, bucket counts) per label set.
class Family {
 public:
  Family(std::string name, std::string help, Kind kind,
         std::vector<std::string> label_names, std::vector<double> buckets);
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends this family's HELP, TYPE and sample lines to `out`, series in
  // label order.
  void WriteText(std::string* out) const ABSL_LOCKS_EXCLUDED(mu_);

  // The current value of a counter or gauge series, or a histogram's
  // count; 0 for a label set never recorded. For tests and callers that
  // compare.
  double Value(const LabelValues& labels) const ABSL_LOCKS_EXCLUDED(mu_);
  // A histogram series' sum of observations; 0 when never recorded.
  double Sum(const LabelValues& labels) const ABSL_LOCKS_EXCLUDED(mu_);

 protected:
  struct Series {
    double value = 0;                     // counter, gauge; histogram sum
    uint64_t count = 0;                   // histogram
    std::vector<uint64_t> bucket_counts;  // histogram, not cumulative
  };

  // The series for `labels`, created if absent, folded into the overflow
  // series when the family is full. PSB_CHECKs the label count (a
  // programmer error at the recording point).
  Series& SeriesFor(const LabelValues& labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const std::string help_;
  const Kind kind_;
  const std::vector<std::string> label_names_;
  const std::vector<double> buckets_;  // histogram upper bounds, ascending
  mutable absl::Mutex mu_;
  absl::flat_hash_map<LabelValues, Series> series_ ABSL_GUARDED_BY(mu_);
};

class CounterFamily : public Family {
 public:
  using Family::Family;
  // `delta` must be >= 0 (counters only go up).
  void Add(const LabelValues& labels, double delta = 1)
      ABSL_LOCKS_EXCLUDED(mu_);
};

class GaugeFamily : public Family {
 public:
  using Family::Family;
  void Set(const LabelValues& labels, double value) ABSL_LOCKS_EXCLUDED(mu_);
  void Add(const LabelValues& labels, double delta) ABSL_LOCKS_EXCLUDED(mu_);
};

class HistogramFamily : public Family {
 public:
  using Family::Family;
  void Observe(const LabelValues& labels, double value)
      ABSL_LOCKS_EXCLUDED(mu_);
};

// A set of families plus collectors: callbacks that write whole families
// at scrape time, for values that are cheaper to read than to track (the
// process's fds, the sandboxes per state).
class Registry {
 public:
  using Collector = std::function<void(std::string* out)>;

  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The family named `name`, created on first use. A second call with the
  // same name returns the same family; it must agree on kind and labels
  // (PSB_CHECK: two recording points disagreeing is a programmer error).
  CounterFamily& Counter(absl::string_view name, absl::string_view help,
                         std::vector<std::string> label_names)
      ABSL_LOCKS_EXCLUDED(mu_);
  GaugeFamily& Gauge(absl::string_view name, absl::string_view help,
                     std::vector<std::string> label_names)
      ABSL_LOCKS_EXCLUDED(mu_);
  HistogramFamily& Histogram(absl::string_view name, absl::string_view help,
                             std::vector<std::string> label_names,
                             std::vector<double> buckets)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Adds a collector, run at each WriteText after the families; returns
  // its id for RemoveCollector. A collector must write complete families
  // (WriteGaugeFamily helps) and must not call back into this registry.
  int AddCollector(Collector collector) ABSL_LOCKS_EXCLUDED(mu_);
  // Removes it; what it read may be gone after this returns (it is never
  // running once RemoveCollector has returned).
  void RemoveCollector(int id) ABSL_LOCKS_EXCLUDED(mu_);

  // The whole exposition: families by name, then the collectors' output.
  std::string WriteText() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Family& GetOrCreate(absl::string_view name, absl::string_view help, Kind kind,
                      std::vector<std::string> label_names,
                      std::vector<double> buckets) ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Family>> families_
      ABSL_GUARDED_BY(mu_);
  int next_collector_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<int, Collector>> collectors_ ABSL_GUARDED_BY(mu_);
};

// The process's registry (see the file comment for why there is one).
Registry& DefaultRegistry();

// A collector registered for this object's lifetime: declare it after
// what the collector reads, so it is removed first.
class ScopedCollector {
 public:
  ScopedCollector(Registry& registry, Registry::Collector collector)
      : registry_(registry), id_(registry.AddCollector(std::move(collector))) {}
  ~ScopedCollector() { registry_.RemoveCollector(id_); }
  ScopedCollector(const ScopedCollector&) = delete;
  ScopedCollector& operator=(const ScopedCollector&) = delete;

 private:
  Registry& registry_;
  const int id_;
};

// Writes one gauge family with the given samples, for collectors.
void WriteGaugeFamily(
    absl::string_view name, absl::string_view help,
    const std::vector<std::string>& label_names,
    const std::vector<std::pair<LabelValues, double>>& samples,
    std::string* out);

// A label value escaped as the text format requires ('\\', '"', '\n').
std::string EscapeLabelValue(absl::string_view value);

}  // namespace podsandbox::metrics

#endif  // PODSANDBOX_METRICS_REGISTRY_H_
