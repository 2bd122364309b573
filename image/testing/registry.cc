#include "image/testing/registry.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "image/testing/token_auth.h"
#include "sys/file.h"
#include "sys/status.h"
#include "sys/subprocess.h"
#include "sys/unique_fd.h"

namespace podsandbox::image::testing {
namespace {

absl::Status Run(sys::Sys& sys, std::vector<std::string> args,
                 std::string* out = nullptr) {
  sys::Command cmd;
  cmd.path = args[0];
  cmd.args = std::move(args);
  cmd.env = {"PATH=/usr/bin:/bin"};
  ASSIGN_OR_RETURN(sys::SubprocessResult r, sys::RunSubprocess(sys, cmd));
  if (!r.success()) {
    return absl::InternalError(
        absl::StrCat(cmd.path, " ", sys::DescribeExit(r), ": ", r.stderr_data));
  }
  if (out != nullptr) *out = r.stdout_data;
  return absl::OkStatus();
}

// The token endpoint: answers every GET and POST with the one token, and
// logs each request ("<method> <path> <form body>") so tests can see which
// grant the client used. Python's http.server does the HTTP.
constexpr char kTokenServer[] = R"py(
import http.server, sys
token = open(sys.argv[1], "rb").read()
class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, form):
        sys.stderr.write("%s %s %s\n" % (self.command, self.path, form))
        sys.stderr.flush()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(token)))
        self.end_headers()
        self.wfile.write(token)
    def do_GET(self):
        self.answer("")
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.answer(self.rfile.read(length).decode())
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
)py";

}  // namespace

absl::StatusOr<int> FreeLoopbackPort() {
  sys::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return sys::ErrnoError(errno, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return sys::ErrnoError(errno, "bind 127.0.0.1:0");
  }
  return ntohs(addr.sin_port);
}

TestRegistry::TestRegistry(sys::Sys& sys, RegistryOptions options)
    : sys_(sys), options_(std::move(options)) {}

TestRegistry::~TestRegistry() {
  for (pid_t pid : {pid_, token_pid_}) {
    if (pid <= 0) continue;
    // Test teardown: a failure here leaves a stray process the test
    // harness reaps; nothing to report it to.
    sys_.Kill(pid, SIGKILL);
    siginfo_t info;
    sys_.Waitid(P_PID, pid, &info, WEXITED);
  }
}

std::string TestRegistry::host() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::string TestRegistry::url() const {
  return absl::StrCat(options_.tls ? "https://" : "http://", host());
}

HttpOptions TestRegistry::http_options() const {
  HttpOptions o;
  o.ca_file = ca_file_;
  o.connect_timeout = absl::Seconds(5);
  return o;
}

absl::StatusOr<std::string> TestRegistry::TokenServerLog() const {
  return sys::ReadFile(dir_.path() + "/token.log");
}

std::string TestRegistry::BlobDataPath(const Digest& digest) const {
  return absl::StrCat(dir_.path(), "/storage/docker/registry/v2/blobs/",
                      digest.algorithm, "/", digest.hex.substr(0, 2), "/",
                      digest.hex, "/data");
}

absl::StatusOr<std::unique_ptr<TestRegistry>> TestRegistry::Start(
    sys::Sys& sys, RegistryOptions options) {
  for (const char* tool :
       {kRegistryBinary, "/usr/bin/openssl", "/usr/bin/htpasswd"}) {
    if (::access(tool, X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(tool, " is missing: run scripts/setup"));
    }
  }
  std::unique_ptr<TestRegistry> r(new TestRegistry(sys, std::move(options)));
  RETURN_IF_ERROR(r->Launch());
  return r;
}

absl::Status TestRegistry::Launch() {
  const std::string d = dir_.path();
  ASSIGN_OR_RETURN(port_, FreeLoopbackPort());
  std::string config = absl::StrCat(
      "version: 0.1\n"
      "log:\n  level: error\n  accesslog:\n    disabled: true\n"
      "storage:\n  filesystem:\n    rootdirectory: ",
      d, "/storage\n  delete:\n    enabled: true\n", "http:\n  addr: ", host(),
      "\n");
  if (options_.tls) {
    // An EC CA and a server certificate for IP 127.0.0.1 signed by it: EC
    // keys are generated in milliseconds, RSA ones are not.
    ca_file_ = d + "/ca.crt";
    RETURN_IF_ERROR(Run(
        sys_,
        {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d + "/ca.key",
         "-out", ca_file_, "-days", "1", "-subj", "/CN=podsandbox test CA"}));
    RETURN_IF_ERROR(Run(sys_, {"/usr/bin/openssl", "req", "-newkey", "ec",
                               "-pkeyopt", "ec_paramgen_curve:prime256v1",
                               "-nodes", "-keyout", d + "/server.key", "-out",
                               d + "/server.csr", "-subj", "/CN=127.0.0.1"}));
    RETURN_IF_ERROR(sys::WriteFileAtomically(
        sys_, d + "/ext.cnf", "subjectAltName=IP:127.0.0.1\n", 0644, false));
    RETURN_IF_ERROR(Run(
        sys_,
        {"/usr/bin/openssl", "x509", "-req", "-in", d + "/server.csr", "-CA",
         ca_file_, "-CAkey", d + "/ca.key", "-CAcreateserial", "-out",
         d + "/server.crt", "-days", "1", "-extfile", d + "/ext.cnf"}));
    absl::StrAppend(&config, "  tls:\n    certificate: ", d,
                    "/server.crt\n    key: ", d, "/server.key\n");
  }
  if (!options_.username.empty()) {
    std::string line;
    RETURN_IF_ERROR(
        Run(sys_,
            {"/usr/bin/htpasswd", "-Bbn", options_.username, options_.password},
            &line));
    RETURN_IF_ERROR(
        sys::WriteFileAtomically(sys_, d + "/htpasswd", line, 0644, false));
    absl::StrAppend(&config,
                    "auth:\n  htpasswd:\n    realm: test\n    path: ", d,
                    "/htpasswd\n");
  }
  if (!options_.token_repository.empty()) {
    RETURN_IF_ERROR(StartTokenServer(&config));
  }
  RETURN_IF_ERROR(
      sys::WriteFileAtomically(sys_, d + "/config.yml", config, 0644, false));
  const std::string log = d + "/registry.log";
  ASSIGN_OR_RETURN(pid_,
                   Spawn({kRegistryBinary, "serve", d + "/config.yml"}, log));
  // Ready when /v2/ answers at all (401 with auth on).
  return WaitUntilServing(url() + "/v2/", &pid_, log);
}

absl::Status TestRegistry::StartTokenServer(std::string* config) {
  const std::string d = dir_.path();
  RETURN_IF_ERROR(
      Run(sys_, {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec",
                 "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", d + "/token.key", "-out", d + "/token.crt", "-days",
                 "1", "-subj", "/CN=podsandbox test token issuer"}));
  RETURN_IF_ERROR(
      Run(sys_, {"/usr/bin/openssl", "x509", "-in", d + "/token.crt",
                 "-outform", "DER", "-out", d + "/token.der"}));
  ASSIGN_OR_RETURN(token_, MintRegistryToken(d + "/token.key", d + "/token.der",
                                             options_.token_repository));
  RETURN_IF_ERROR(sys::WriteFileAtomically(
      sys_, d + "/token.json",
      absl::StrCat("{\"token\":\"", token_, "\",\"access_token\":\"", token_,
                   "\"}"),
      0644, false));
  ASSIGN_OR_RETURN(int port, FreeLoopbackPort());
  const std::string log = d + "/token.log";
  ASSIGN_OR_RETURN(token_pid_, Spawn({"/usr/bin/python3", "-c", kTokenServer,
                                      d + "/token.json", absl::StrCat(port)},
                                     log));
  const std::string realm = absl::StrCat("http://127.0.0.1:", port, "/token");
  RETURN_IF_ERROR(WaitUntilServing(realm, &token_pid_, log));
  absl::StrAppend(config, "auth:\n  token:\n    realm: ", realm,
                  "\n    service: ", kTokenService,
                  "\n    issuer: ", kTokenIssuer, "\n    rootcertbundle: ", d,
                  "/token.crt\n");
  return absl::OkStatus();
}

absl::StatusOr<pid_t> TestRegistry::Spawn(std::vector<std::string> args,
                                          const std::string& log) {
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
      sys_.PosixSpawn(argv[0], &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (!spawned.ok()) return sys::ErrnoError(spawned.err, "spawn %s", args[0]);
  return static_cast<pid_t>(spawned.value);
}

absl::Status TestRegistry::WaitUntilServing(const std::string& url, pid_t* pid,
                                            const std::string& log) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  HttpOptions http = http_options();
  HttpRequest probe;
  probe.url = url;
  while (true) {
    absl::StatusOr<HttpResponse> r = Fetch(http, probe);
    if (r.ok()) return absl::OkStatus();
    siginfo_t info{};
    if (sys::SysResult w = sys_.Waitid(P_PID, *pid, &info, WEXITED | WNOHANG);
        w.ok() && info.si_pid == *pid) {
      *pid = -1;
      absl::StatusOr<std::string> text = sys::ReadFile(log);
      return absl::InternalError(absl::StrCat(
          "server for ", url, " exited: ", text.ok() ? *text : "(no log)"));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "nothing answered on ", url, ": ", r.status().ToString()));
    }
    absl::SleepFor(absl::Milliseconds(20));  // polling, with a deadline
  }
}

}  // namespace podsandbox::image::testing
