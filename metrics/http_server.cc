#include "metrics/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "httplib.h"
#include "metrics/registry.h"
#include "sys/status.h"

namespace podsandbox::metrics {
namespace {

// The text format's content type (exposition format 0.0.4).
constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

bool IsIpLiteral(const std::string& host, int* family) {
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    *family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    *family = AF_INET6;
    return true;
  }
  return false;
}

// Removes `path` if it is a socket nobody accepts on (a daemon that was
// killed left it); a live socket or any other file is an error.
absl::Status ClearStaleSocket(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return sys::ErrnoError(errno, "stat %s", path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("metrics.address ", path, ": exists and is not a socket"));
  }
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys::ErrnoError(errno, "socket for %s", path);
  const int rc =
      connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  close(fd);
  if (rc == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "metrics.address ", path, ": another server is accepting on it"));
  }
  if (err != ECONNREFUSED) return sys::ErrnoError(err, "probe %s", path);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return sys::ErrnoError(errno, "remove stale socket %s", path);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MetricsAddress> ParseMetricsAddress(absl::string_view text,
                                                   absl::string_view field) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text, "\" ", why));
  };
  MetricsAddress address;
  if (absl::ConsumePrefix(&text, "unix:")) {
    address.unix_socket = true;
    address.host = std::string(text);
    if (!absl::StartsWith(text, "/")) {
      return invalid("must name an absolute socket path after unix:");
    }
    if (text.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return invalid("is too long for a unix socket path");
    }
    return address;
  }
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    return invalid("must be IP:PORT, [IPv6]:PORT or unix:/PATH");
  }
  absl::string_view host = text.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[") && !absl::ConsumeSuffix(&host, "]")) {
    return invalid("has an unclosed '['");
  }
  address.host = std::string(host);
  int family = 0;
  if (!IsIpLiteral(address.host, &family)) {
    return invalid("must name an IP address (no host names)");
  }
  if (!absl::SimpleAtoi(text.substr(colon + 1), &address.port) ||
      address.port < 1 || address.port > 65535) {
    return invalid("must end with a port from 1 to 65535");
  }
  return address;
}

MetricsServer::MetricsServer(std::unique_ptr<httplib::Server> server,
                             std::string unix_path, std::string description)
    : server_(std::move(server)),
      unix_path_(std::move(unix_path)),
      description_(std::move(description)) {}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const MetricsAddress& address, const Registry& registry) {
  auto server = std::make_unique<httplib::Server>();
  server->Get("/metrics", [&registry](const httplib::Request&,
                                      httplib::Response& response) {
    response.set_content(registry.WriteText(), kContentType);
  });
  std::string description;
  bool bound = false;
  if (address.unix_socket) {
    RETURN_IF_ERROR(ClearStaleSocket(address.host));
    server->set_address_family(AF_UNIX);
    // The process umask decides the socket's mode at bind: 0117 makes it
    // 0660 from the start, never reachable by others in between.
    const mode_t old_umask = umask(0117);
    bound = server->bind_to_port(address.host, 80);
    umask(old_umask);
    description = absl::StrCat("unix:", address.host);
  } else {
    int family = AF_INET;
    IsIpLiteral(address.host, &family);
    server->set_address_family(family);
    bound = server->bind_to_port(address.host, address.port);
    description = family == AF_INET6
                      ? absl::StrCat("[", address.host, "]:", address.port)
                      : absl::StrCat(address.host, ":", address.port);
  }
  if (!bound) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", description));
  }
  std::unique_ptr<MetricsServer> metrics(new MetricsServer(
      std::move(server), address.unix_socket ? address.host : "",
      std::move(description)));
  httplib::Server* raw = metrics->server_.get();
  // listen_after_bind returns when stop() is called.
  metrics->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  // stop() only stops a server already in its accept loop (this
  // cpp-httplib has no wait_until_ready): wait for it, so the destructor
  // can never miss it and hang in join. Connections are queued on the
  // bound socket meanwhile, so this wait is not what makes it reachable.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!raw->is_running()) {
    if (absl::Now() > deadline) {
      return absl::UnavailableError(absl::StrCat(
          "metrics: server on ", metrics->description_, " did not start"));
    }
    std::this_thread::yield();
  }
  return metrics;
}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
  if (!unix_path_.empty()) unlink(unix_path_.c_str());
}

}  // namespace podsandbox::metrics
