// Test helper: uploads blobs and manifests to a registry through the
// distribution API (monolithic upload: POST to open, one PUT with the
// bytes and the digest), over our own http_client.
#ifndef PODSANDBOX_IMAGE_TESTING_PUSHER_H_
#define PODSANDBOX_IMAGE_TESTING_PUSHER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "image/digest.h"
#include "image/http_client.h"

namespace podsandbox::image::testing {

class Pusher {
 public:
  // `base_url` "http(s)://host:port". With a username, every request
  // carries basic auth.
  Pusher(std::string base_url, HttpOptions http, std::string username = "",
         std::string password = "");

  // Sends "Authorization: <value>" ("Bearer <token>") from now on.
  void SetAuthorization(absl::string_view value);

  // Uploads `data` as a blob of `repository`; returns its digest.
  absl::StatusOr<Digest> PushBlob(absl::string_view repository,
                                  absl::string_view data);
  // PUTs a manifest under `reference` (a tag, or its digest).
  absl::StatusOr<Digest> PushManifest(absl::string_view repository,
                                      absl::string_view reference,
                                      absl::string_view media_type,
                                      absl::string_view bytes);

 private:
  absl::StatusOr<HttpResponse> Send(HttpRequest request, long want_status);

  std::string base_url_;
  HttpOptions http_;
  std::string authorization_;
};

}  // namespace podsandbox::image::testing

#endif  // PODSANDBOX_IMAGE_TESTING_PUSHER_H_
