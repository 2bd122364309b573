// The opt-in HTTP endpoint that serves a Registry in the Prometheus text
// format: GET /metrics (anything else is 404), over cpp-httplib (Debian's
// libcpp-httplib). Kept apart from //metrics:registry so that recording
// never links an HTTP server; only podsandboxd does.
//
// Addresses, as `[metrics] address` in podsandboxd's config spells them:
//   "127.0.0.1:9090", "[::1]:9090"  TCP on an IP literal (never a name,
//                                   so no resolver runs at start)
//   "unix:/run/podsandbox/metrics.sock"  a unix socket, mode 0660
//
// Thread-safety: Start and the destructor from one thread; requests are
// served on cpp-httplib's own thread pool.
#ifndef PODSANDBOX_METRICS_HTTP_SERVER_H_
#define PODSANDBOX_METRICS_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "metrics/registry.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace podsandbox::metrics {

struct MetricsAddress {
  bool unix_socket = false;
  std::string host;  // an IP literal, or the socket's absolute path
  int port = 0;      // 1..65535 for TCP
};

// Parses an address as above. InvalidArgument naming `field` (the config
// key) and saying what is wrong. Pure.
absl::StatusOr<MetricsAddress> ParseMetricsAddress(absl::string_view text,
                                                   absl::string_view field);

class MetricsServer {
 public:
  // Binds `address` and starts serving `registry`. A stale unix socket
  // (nothing accepts on it) is replaced; a live one is FailedPrecondition.
  // Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const MetricsAddress& address, const Registry& registry);

  // Stops serving, waits for the serving thread, removes the unix socket.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // "unix:/path" or "127.0.0.1:9090", for logs.
  const std::string& description() const { return description_; }

 private:
  MetricsServer(std::unique_ptr<httplib::Server> server, std::string unix_path,
                std::string description);

  std::unique_ptr<httplib::Server> server_;
  const std::string unix_path_;
  const std::string description_;
  std::thread thread_;
};

}  // namespace podsandbox::metrics

#endif  // PODSANDBOX_METRICS_HTTP_SERVER_H_
