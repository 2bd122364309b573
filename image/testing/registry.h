// Test fixture: Debian's docker-registry (distribution 2.8) serving on
// 127.0.0.1 at a free port, storage in a temp dir, optionally over TLS with
// a certificate from a test CA (made with openssl) and optionally behind
// htpasswd basic auth or token auth. The registry is killed and reaped when the
// object goes away.
#ifndef PODSANDBOX_IMAGE_TESTING_REGISTRY_H_
#define PODSANDBOX_IMAGE_TESTING_REGISTRY_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "image/digest.h"
#include "image/http_client.h"
#include "sys/sys.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::image::testing {

inline constexpr char kRegistryBinary[] = "/usr/bin/docker-registry";

struct RegistryOptions {
  bool tls = false;
  // Non-empty: basic auth with this one user (bcrypt via htpasswd).
  std::string username;
  std::string password;
  // Non-empty: token auth. A token endpoint (python3's http.server on
  // another loopback port) hands every caller, by GET or POST, one token
  // granting pull and push on this repository.
  std::string token_repository;
};

class TestRegistry {
 public:
  // Starts the registry and waits (polling /v2/ with a deadline) until it
  // answers. FailedPrecondition when docker-registry, openssl or htpasswd
  // is missing; DeadlineExceeded when it never answers.
  static absl::StatusOr<std::unique_ptr<TestRegistry>> Start(
      sys::Sys& sys, RegistryOptions options = {});
  ~TestRegistry();
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  std::string host() const;  // "127.0.0.1:<port>"
  std::string url() const;   // "http(s)://127.0.0.1:<port>"
  // The CA that signed the TLS certificate (empty without tls).
  const std::string& ca_file() const { return ca_file_; }
  // HttpOptions that reach this registry (CA set when tls).
  HttpOptions http_options() const;
  // The token the endpoint serves (empty without token auth).
  const std::string& token() const { return token_; }
  // What the token endpoint logged (one line per request served).
  absl::StatusOr<std::string> TokenServerLog() const;
  // Where the registry stores a blob's bytes: for tampering tests.
  std::string BlobDataPath(const Digest& digest) const;

 private:
  TestRegistry(sys::Sys& sys, RegistryOptions options);
  absl::Status Launch();
  absl::Status StartTokenServer(std::string* config);
  // Spawns `argv` with stdout and stderr appended to `log`.
  absl::StatusOr<pid_t> Spawn(std::vector<std::string> argv,
                              const std::string& log);
  // Polls `url` until it answers or the child `pid` exits.
  absl::Status WaitUntilServing(const std::string& url, pid_t* pid,
                                const std::string& log);

  sys::Sys& sys_;
  const RegistryOptions options_;
  sys::TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  pid_t token_pid_ = -1;
  std::string ca_file_;
  std::string token_;
};

// A 127.0.0.1 TCP port nothing listens on right now (bound, then closed).
absl::StatusOr<int> FreeLoopbackPort();

}  // namespace podsandbox::image::testing

#endif  // PODSANDBOX_IMAGE_TESTING_REGISTRY_H_
