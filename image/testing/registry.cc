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
  if (pid_ <= 0) return;
  sys_.Kill(pid_, SIGKILL);
  siginfo_t info;
  sys_.Waitid(P_PID, pid_, &info, WEXITED);
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
  RETURN_IF_ERROR(
      sys::WriteFileAtomically(sys_, d + "/config.yml", config, 0644, false));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = d + "/registry.log";
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const std::string config_path = d + "/config.yml";
  std::vector<char*> argv = {const_cast<char*>(kRegistryBinary),
                             const_cast<char*>("serve"),
                             const_cast<char*>(config_path.c_str()), nullptr};
  char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
  sys::SysResult spawned =
      sys_.PosixSpawn(kRegistryBinary, &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (!spawned.ok()) return sys::ErrnoError(spawned.err, "spawn registry");
  pid_ = static_cast<pid_t>(spawned.value);

  // Ready when /v2/ answers at all (401 with auth on).
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  HttpOptions http = http_options();
  HttpRequest probe;
  probe.url = url() + "/v2/";
  while (true) {
    absl::StatusOr<HttpResponse> r = Fetch(http, probe);
    if (r.ok()) return absl::OkStatus();
    siginfo_t info{};
    if (sys::SysResult w = sys_.Waitid(P_PID, pid_, &info, WEXITED | WNOHANG);
        w.ok() && info.si_pid == pid_) {
      pid_ = -1;
      absl::StatusOr<std::string> text = sys::ReadFile(log);
      return absl::InternalError(absl::StrCat("docker-registry exited: ",
                                              text.ok() ? *text : "(no log)"));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("docker-registry did not answer on ", url(), ": ",
                       r.status().ToString()));
    }
    absl::SleepFor(absl::Milliseconds(20));  // polling, with a deadline
  }
}

}  // namespace podsandbox::image::testing
