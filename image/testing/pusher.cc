#include "image/testing/pusher.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sys/status.h"

namespace podsandbox::image::testing {

Pusher::Pusher(std::string base_url, HttpOptions http, std::string username,
               std::string password)
    : base_url_(std::move(base_url)), http_(std::move(http)) {
  if (!username.empty()) {
    authorization_ =
        absl::StrCat("Authorization: Basic ",
                     absl::Base64Escape(absl::StrCat(username, ":", password)));
  }
}

void Pusher::SetAuthorization(absl::string_view value) {
  authorization_ = absl::StrCat("Authorization: ", value);
}

absl::StatusOr<HttpResponse> Pusher::Send(HttpRequest request,
                                          long want_status) {
  if (!authorization_.empty()) request.headers.push_back(authorization_);
  request.follow_redirects = false;
  ASSIGN_OR_RETURN(HttpResponse r, Fetch(http_, request));
  if (r.status != want_status) {
    return absl::InternalError(absl::StrCat(request.method, " ", request.url,
                                            ": HTTP ", r.status, ": ", r.body));
  }
  return r;
}

absl::StatusOr<Digest> Pusher::PushBlob(absl::string_view repository,
                                        absl::string_view data) {
  Digest digest = Sha256Of(data);
  HttpRequest open;
  open.method = "POST";
  open.url = absl::StrCat(base_url_, "/v2/", repository, "/blobs/uploads/");
  ASSIGN_OR_RETURN(HttpResponse opened, Send(open, 202));
  std::string location = opened.Header("location").value_or("");
  if (location.empty()) {
    return absl::InternalError("blob upload: no Location in the answer");
  }
  // The spec allows a Location relative to the registry.
  if (absl::StartsWith(location, "/")) location = base_url_ + location;
  HttpRequest put;
  put.method = "PUT";
  put.url = absl::StrCat(location, absl::StrContains(location, '?') ? "&" : "?",
                         "digest=", UrlEscape(digest.String()));
  put.headers.push_back("Content-Type: application/octet-stream");
  put.body = std::string(data);
  RETURN_IF_ERROR(Send(put, 201));
  return digest;
}

absl::StatusOr<Digest> Pusher::PushManifest(absl::string_view repository,
                                            absl::string_view reference,
                                            absl::string_view media_type,
                                            absl::string_view bytes) {
  HttpRequest put;
  put.method = "PUT";
  put.url =
      absl::StrCat(base_url_, "/v2/", repository, "/manifests/", reference);
  put.headers.push_back(absl::StrCat("Content-Type: ", media_type));
  put.body = std::string(bytes);
  RETURN_IF_ERROR(Send(put, 201));
  return Sha256Of(bytes);
}

}  // namespace podsandbox::image::testing
