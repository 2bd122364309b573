// The exposition is written by hand: no C++ library in Debian 12 writes the
// Prometheus text format (prometheus-cpp is not packaged), and the format
// is a few lines of text per sample
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "sys/log.h"

namespace podsandbox::metrics {
namespace {

const char* TypeName(Kind kind) {
  switch (kind) {
    case Kind::kCounter:
      return "counter";
    case Kind::kGauge:
      return "gauge";
    case Kind::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// Go's strconv.FormatFloat(v, 'g', -1, 64) as Prometheus prints values:
// shortest text that reads back as the same double, and +Inf.
std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  for (int precision = 6; precision < 18; ++precision) {
    std::string text = absl::StrFormat("%.*g", precision, v);
    if (std::strtod(text.c_str(), nullptr) == v) return text;
  }
  return absl::StrFormat("%.17g", v);
}

// HELP text escapes '\\' and '\n' only.
std::string EscapeHelp(absl::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="x",b="y"}` plus `extra` (le="...") when given; "" for no labels.
std::string LabelText(const std::vector<std::string>& names,
                      const LabelValues& values, absl::string_view extra = "") {
  if (names.empty() && extra.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ",";
    absl::StrAppend(&out, names[i], "=\"", EscapeLabelValue(values[i]), "\"");
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ",";
    absl::StrAppend(&out, extra);
  }
  out += "}";
  return out;
}

void WriteHeader(absl::string_view name, absl::string_view help, Kind kind,
                 std::string* out) {
  absl::StrAppend(out, "# HELP ", name, " ", EscapeHelp(help), "\n", "# TYPE ",
                  name, " ", TypeName(kind), "\n");
}

}  // namespace

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double>* const kBuckets = new std::vector<double>{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
      0.5,   1,      2.5,   5,    10,    30,   60};
  return *kBuckets;
}

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Family::Family(std::string name, std::string help, Kind kind,
               std::vector<std::string> label_names,
               std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      kind_(kind),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {
  PSB_CHECK(std::is_sorted(buckets_.begin(), buckets_.end()));
}

Family::Series& Family::SeriesFor(const LabelValues& labels) {
  PSB_CHECK(labels.size() == label_names_.size());
  auto it = series_.find(labels);
  if (it == series_.end()) {
    const LabelValues& key =
        series_.size() < kMaxSeriesPerFamily
            ? labels
            : LabelValues(label_names_.size(), kOverflowLabel);
    it = series_.try_emplace(key).first;
    if (kind_ == Kind::kHistogram && it->second.bucket_counts.empty()) {
      it->second.bucket_counts.assign(buckets_.size(), 0);
    }
  }
  return it->second;
}

double Family::Value(const LabelValues& labels) const {
  absl::MutexLock lock(&mu_);
  auto it = series_.find(labels);
  if (it == series_.end()) return 0;
  return kind_ == Kind::kHistogram ? static_cast<double>(it->second.count)
                                   : it->second.value;
}

double Family::Sum(const LabelValues& labels) const {
  absl::MutexLock lock(&mu_);
  auto it = series_.find(labels);
  return it == series_.end() ? 0 : it->second.value;
}

void Family::WriteText(std::string* out) const {
  std::vector<std::pair<LabelValues, Series>> copy;
  {
    absl::MutexLock lock(&mu_);
    copy.assign(series_.begin(), series_.end());
  }
  std::sort(copy.begin(), copy.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  WriteHeader(name_, help_, kind_, out);
  for (const auto& [labels, series] : copy) {
    if (kind_ != Kind::kHistogram) {
      absl::StrAppend(out, name_, LabelText(label_names_, labels), " ",
                      FormatValue(series.value), "\n");
      continue;
    }
    uint64_t cumulative = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      cumulative += series.bucket_counts[i];
      absl::StrAppend(
          out, name_, "_bucket",
          LabelText(label_names_, labels,
                    absl::StrCat("le=\"", FormatValue(buckets_[i]), "\"")),
          " ", cumulative, "\n");
    }
    absl::StrAppend(out, name_, "_bucket",
                    LabelText(label_names_, labels, "le=\"+Inf\""), " ",
                    series.count, "\n");
    absl::StrAppend(out, name_, "_sum", LabelText(label_names_, labels), " ",
                    FormatValue(series.value), "\n");
    absl::StrAppend(out, name_, "_count", LabelText(label_names_, labels), " ",
                    series.count, "\n");
  }
}

void CounterFamily::Add(const LabelValues& labels, double delta) {
  PSB_CHECK(delta >= 0);
  absl::MutexLock lock(&mu_);
  SeriesFor(labels).value += delta;
}

void GaugeFamily::Set(const LabelValues& labels, double value) {
  absl::MutexLock lock(&mu_);
  SeriesFor(labels).value = value;
}

void GaugeFamily::Add(const LabelValues& labels, double delta) {
  absl::MutexLock lock(&mu_);
  SeriesFor(labels).value += delta;
}

void HistogramFamily::Observe(const LabelValues& labels, double value) {
  // The first bucket whose upper bound holds the value; the rest are
  // cumulative at output.
  const size_t bucket =
      std::lower_bound(buckets_.begin(), buckets_.end(), value) -
      buckets_.begin();
  absl::MutexLock lock(&mu_);
  Series& series = SeriesFor(labels);
  if (bucket < series.bucket_counts.size()) ++series.bucket_counts[bucket];
  ++series.count;
  series.value += value;
}

Family& Registry::GetOrCreate(absl::string_view name, absl::string_view help,
                              Kind kind, std::vector<std::string> label_names,
                              std::vector<double> buckets) {
  absl::MutexLock lock(&mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    PSB_CHECK(it->second->kind() == kind &&
              it->second->label_names() == label_names);
    return *it->second;
  }
  std::unique_ptr<Family> family;
  switch (kind) {
    case Kind::kCounter:
      family = std::make_unique<CounterFamily>(
          std::string(name), std::string(help), kind, std::move(label_names),
          std::move(buckets));
      break;
    case Kind::kGauge:
      family = std::make_unique<GaugeFamily>(
          std::string(name), std::string(help), kind, std::move(label_names),
          std::move(buckets));
      break;
    case Kind::kHistogram:
      family = std::make_unique<HistogramFamily>(
          std::string(name), std::string(help), kind, std::move(label_names),
          std::move(buckets));
      break;
  }
  Family& ref = *family;
  families_.emplace(std::string(name), std::move(family));
  return ref;
}

CounterFamily& Registry::Counter(absl::string_view name, absl::string_view help,
                                 std::vector<std::string> label_names) {
  return static_cast<CounterFamily&>(
      GetOrCreate(name, help, Kind::kCounter, std::move(label_names), {}));
}

GaugeFamily& Registry::Gauge(absl::string_view name, absl::string_view help,
                             std::vector<std::string> label_names) {
  return static_cast<GaugeFamily&>(
      GetOrCreate(name, help, Kind::kGauge, std::move(label_names), {}));
}

HistogramFamily& Registry::Histogram(absl::string_view name,
                                     absl::string_view help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> buckets) {
  return static_cast<HistogramFamily&>(GetOrCreate(name, help, Kind::kHistogram,
                                                   std::move(label_names),
                                                   std::move(buckets)));
}

int Registry::AddCollector(Collector collector) {
  absl::MutexLock lock(&mu_);
  const int id = next_collector_id_++;
  collectors_.emplace_back(id, std::move(collector));
  return id;
}

void Registry::RemoveCollector(int id) {
  absl::MutexLock lock(&mu_);
  collectors_.erase(
      std::remove_if(collectors_.begin(), collectors_.end(),
                     [id](const auto& entry) { return entry.first == id; }),
      collectors_.end());
}

std::string Registry::WriteText() const {
  // Held throughout (shared), so RemoveCollector waits for a running
  // collector; families are never removed, so their pointers stay valid.
  absl::ReaderMutexLock lock(&mu_);
  std::vector<const Family*> families;
  for (const auto& [name, family] : families_) families.push_back(family.get());
  std::sort(
      families.begin(), families.end(),
      [](const Family* a, const Family* b) { return a->name() < b->name(); });
  std::string out;
  for (const Family* family : families) family->WriteText(&out);
  for (const auto& [id, collector] : collectors_) collector(&out);
  return out;
}

Registry& DefaultRegistry() {
  static Registry* const registry = new Registry();
  return *registry;
}

void WriteGaugeFamily(
    absl::string_view name, absl::string_view help,
    const std::vector<std::string>& label_names,
    const std::vector<std::pair<LabelValues, double>>& samples,
    std::string* out) {
  WriteHeader(name, help, Kind::kGauge, out);
  for (const auto& [labels, value] : samples) {
    PSB_CHECK(labels.size() == label_names.size());
    absl::StrAppend(out, name, LabelText(label_names, labels), " ",
                    FormatValue(value), "\n");
  }
}

}  // namespace podsandbox::metrics
