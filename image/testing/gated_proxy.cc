#include "image/testing/gated_proxy.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "image/http_client.h"
#include "image/testing/registry.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::image::testing {
namespace {

// argv: port, upstream host, upstream port, held digest, gate file, state
// file. The state file gets one line per hold: "held <path> <bytes sent>".
constexpr char kProxy[] = R"py(
import http.client, http.server, os, sys, time
port, up_host, up_port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
held, gate, state = sys.argv[4], sys.argv[5], sys.argv[6]
HOP = ("connection", "keep-alive", "transfer-encoding", "content-length")
class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_GET(self):
        self.forward()
    def do_HEAD(self):
        self.forward()
    def forward(self):
        up = http.client.HTTPConnection(up_host, up_port, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host",) + HOP}
        up.request(self.command, self.path, headers=headers)
        r = up.getresponse()
        body = r.read()
        up.close()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        length = r.getheader("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if r.status == 200 and self.path.endswith("/blobs/" + held):
            half = len(body) // 2
            self.wfile.write(body[:half])
            self.wfile.flush()
            with open(state, "a") as f:
                f.write("held %s %d\n" % (self.path, half))
            while not os.path.exists(gate):
                time.sleep(0.01)
            self.wfile.write(body[half:])
        else:
            self.wfile.write(body)
        self.wfile.flush()
http.server.ThreadingHTTPServer(("127.0.0.1", port), Proxy).serve_forever()
)py";

}  // namespace

GatedProxy::GatedProxy(sys::Sys& sys, std::string upstream_host, Digest held)
    : sys_(sys), upstream_host_(std::move(upstream_host)), held_(held) {}

GatedProxy::~GatedProxy() {
  if (pid_ <= 0) return;
  // Test teardown: a failure here leaves a stray process the test harness
  // reaps; nothing to report it to.
  sys_.Kill(pid_, SIGKILL);
  siginfo_t info;
  sys_.Waitid(P_PID, pid_, &info, WEXITED);
}

std::string GatedProxy::host() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::StatusOr<std::unique_ptr<GatedProxy>> GatedProxy::Start(
    sys::Sys& sys, std::string upstream_host, Digest held) {
  std::unique_ptr<GatedProxy> proxy(
      new GatedProxy(sys, std::move(upstream_host), std::move(held)));
  std::vector<std::string> up = absl::StrSplit(proxy->upstream_host_, ':');
  if (up.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "upstream_host: \"", proxy->upstream_host_, "\" is not host:port"));
  }
  ASSIGN_OR_RETURN(proxy->port_, FreeLoopbackPort());
  const std::string log = proxy->dir_.Sub("proxy.log");
  std::vector<std::string> args = {"/usr/bin/python3",
                                   "-c",
                                   kProxy,
                                   absl::StrCat(proxy->port_),
                                   up[0],
                                   up[1],
                                   proxy->held_.String(),
                                   proxy->dir_.Sub("release"),
                                   proxy->dir_.Sub("state")};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
  sys::SysResult spawned =
      sys.PosixSpawn(argv[0], &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (!spawned.ok()) return sys::ErrnoError(spawned.err, "spawn python3");
  proxy->pid_ = static_cast<pid_t>(spawned.value);

  // Up when /v2/ answers anything (the registry may ask for auth).
  HttpRequest probe;
  probe.url = absl::StrCat("http://", proxy->host(), "/v2/");
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (true) {
    absl::StatusOr<HttpResponse> r = Fetch(HttpOptions(), probe);
    if (r.ok()) return proxy;
    siginfo_t info{};
    if (sys::SysResult w =
            sys.Waitid(P_PID, proxy->pid_, &info, WEXITED | WNOHANG);
        w.ok() && info.si_pid == proxy->pid_) {
      proxy->pid_ = -1;
      absl::StatusOr<std::string> text = sys::ReadFile(log);
      return absl::InternalError(
          absl::StrCat("proxy exited: ", text.ok() ? *text : "(no log)"));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("proxy never answered: ", r.status().ToString()));
    }
    absl::SleepFor(absl::Milliseconds(20));  // polling, with a deadline
  }
}

int GatedProxy::HoldCount() const {
  absl::StatusOr<std::string> text = sys::ReadFile(dir_.Sub("state"));
  if (!text.ok()) return 0;
  int lines = 0;
  for (char c : *text) lines += c == '\n';
  return lines;
}

absl::Status GatedProxy::WaitUntilHolding(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (HoldCount() == 0) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("no GET of ", held_.String(), " reached the hold"));
    }
    absl::SleepFor(absl::Milliseconds(10));  // polling, with a deadline
  }
  return absl::OkStatus();
}

absl::Status GatedProxy::Release() {
  return sys::WriteFileAtomically(sys_, dir_.Sub("release"), "", 0644,
                                  /*durable=*/false);
}

}  // namespace podsandbox::image::testing
