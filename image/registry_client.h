// A distribution (OCI registry API v2) client for one endpoint and one
// repository: manifests and blobs, read-only.
//
// Auth follows the registry's 401 challenge: Bearer (token fetched from
// the realm with service and scope "repository:<repo>:pull", as the
// anonymous user, with basic credentials, or by an OAuth2 refresh-token
// POST for an identity_token; a registry_token is used as the bearer
// token directly) or Basic (username/password, or CRI's base64 `auth`).
// The Authorization that worked is cached in the client (one client per
// endpoint and repository, so per endpoint and scope) and reused; a 401
// with it fetches a new one once.
//
// Every byte is verified: a manifest's sha256 against the digest asked for
// and the Docker-Content-Digest header, a blob's against its digest.
//
// Errors: InvalidArgument for a malformed reference or credentials;
// NotFound for a 404; Unauthenticated for a 401 that credentials did not
// cure, PermissionDenied for a 403; Unavailable when the endpoint cannot
// be reached or answers 429/5xx (try the next endpoint); DataLoss for
// content not matching its digest; ResourceExhausted past a size limit;
// DeadlineExceeded for stalled transfers; Unknown for other HTTP statuses.
//
// Thread-safe: calls may run concurrently (layers of one image).
#ifndef PODSANDBOX_IMAGE_REGISTRY_CLIENT_H_
#define PODSANDBOX_IMAGE_REGISTRY_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "image/digest.h"
#include "image/http_client.h"
#include "image/registry_hosts.h"

namespace podsandbox::image {

// What CRI's AuthConfig carries; all empty means anonymous.
struct Credentials {
  std::string username;
  std::string password;
  std::string auth;            // base64("username:password")
  std::string identity_token;  // OAuth2 refresh token
  std::string registry_token;  // bearer token, used as is
};

struct FetchedManifest {
  std::string media_type;  // the response's Content-Type, parameters dropped
  Digest digest;           // sha256 of `bytes`, verified
  std::string bytes;
};

class RegistryClient {
 public:
  // `repository` as in a Reference ("library/busybox"). TLS settings
  // (ca_file, verify_tls) come from `endpoint`, overriding `http`'s; the
  // token realm is reached with the same ones. InvalidArgument
  // when `credentials.auth` is not base64 of "user:password" or the
  // repository is empty.
  static absl::StatusOr<std::unique_ptr<RegistryClient>> Create(
      Endpoint endpoint, std::string repository, Credentials credentials,
      HttpOptions http = {});

  // GET /v2/<repo>/manifests/<reference>; `reference` is a tag or a
  // digest. At most `max_bytes` (ResourceExhausted past it).
  absl::StatusOr<FetchedManifest> GetManifest(
      absl::string_view reference, int64_t max_bytes,
      const std::vector<std::string>& accept = DefaultAccept());

  // GET /v2/<repo>/blobs/<digest>, streamed into `sink` as it arrives. The
  // sink sees bytes before they are verified: it must write them somewhere
  // temporary and drop them when this returns an error (DataLoss on a
  // digest mismatch, found at the end). At most `max_bytes`.
  absl::Status FetchBlob(const Digest& digest, int64_t max_bytes,
                         const BodySink& sink);

  const Endpoint& endpoint() const { return endpoint_; }

  static std::vector<std::string> DefaultAccept();

 private:
  RegistryClient(Endpoint endpoint, std::string repository,
                 Credentials credentials, HttpOptions http);

  // Sends `request` with the cached Authorization; on a 401, authorizes
  // from the challenge and retries once. Maps HTTP error statuses to
  // Status codes.
  absl::StatusOr<HttpResponse> Send(HttpRequest request, const BodySink& sink)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The Authorization header value the challenge asks for.
  absl::StatusOr<std::string> Authorize(absl::string_view www_authenticate);
  absl::StatusOr<std::string> FetchToken(const std::string& realm,
                                         const std::string& service);

  const Endpoint endpoint_;
  const std::string repository_;
  const Credentials credentials_;  // `auth` decoded into username/password
  const HttpOptions http_;

  absl::Mutex mu_;
  std::string authorization_ ABSL_GUARDED_BY(mu_);  // "" until challenged
};

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_REGISTRY_CLIENT_H_
