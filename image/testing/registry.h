// Test fixture: Debian's docker-registry (distribution 2.8) serving on
// 127.0.0.1 at a free port, storage in a temp dir, optionally over TLS with
// a certificate from a test CA (made with openssl) and optionally behind
// htpasswd basic auth. The registry is killed and reaped when the object
// goes away.
#ifndef PODSANDBOX_IMAGE_TESTING_REGISTRY_H_
#define PODSANDBOX_IMAGE_TESTING_REGISTRY_H_

#include <sys/types.h>

#include <memory>
#include <string>

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
  // Where the registry stores a blob's bytes: for tampering tests.
  std::string BlobDataPath(const Digest& digest) const;

 private:
  TestRegistry(sys::Sys& sys, RegistryOptions options);
  absl::Status Launch();

  sys::Sys& sys_;
  const RegistryOptions options_;
  sys::TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string ca_file_;
};

// A 127.0.0.1 TCP port nothing listens on right now (bound, then closed).
absl::StatusOr<int> FreeLoopbackPort();

}  // namespace podsandbox::image::testing

#endif  // PODSANDBOX_IMAGE_TESTING_REGISTRY_H_
