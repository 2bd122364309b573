// Process metrics in the names Prometheus's client libraries use
// (process_open_fds, process_max_fds, process_resident_memory_bytes,
// process_start_time_seconds), so dashboards written for other daemons
// read ours. Read from /proc at scrape time: nothing is tracked between
// scrapes.
//
// Thread-safe.
#ifndef PODSANDBOX_METRICS_PROCESS_H_
#define PODSANDBOX_METRICS_PROCESS_H_

#include <string>

#include "metrics/registry.h"

namespace podsandbox::metrics {

// Appends the process families for the calling process to `out`. A value
// that cannot be read (a /proc without the file) is left out, never
// invented.
void WriteProcessMetrics(std::string* out);

// Adds WriteProcessMetrics as a collector of `registry`; returns its id.
int AddProcessCollector(Registry& registry);

}  // namespace podsandbox::metrics

#endif  // PODSANDBOX_METRICS_PROCESS_H_
