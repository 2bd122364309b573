// One HTTP(S) exchange over libcurl: the only HTTP code in image/.
//
// The body of a 2xx response streams into the caller's sink as it arrives
// (never buffered whole); the body of any other status is kept (at most
// kMaxErrorBody bytes) for the error message. Redirects are followed
// (http/https only); libcurl does not send our Authorization header to a
// host other than the first (CURLOPT_UNRESTRICTED_AUTH is off), so a
// registry redirecting a blob to a CDN does not leak the token.
//
// Errors: Unavailable when the server cannot be reached or TLS fails (name
// resolution, refused connection, certificate not verified: the caller
// tries its next endpoint); DeadlineExceeded when the connect timeout or
// the low-speed limit expired; ResourceExhausted when a body passes
// `max_body_bytes`; the sink's own error when it returns one (the transfer
// stops). An HTTP error status is not an error here: it is in the result.
//
// Thread-safe: each call uses its own handle.
#ifndef PODSANDBOX_IMAGE_HTTP_CLIENT_H_
#define PODSANDBOX_IMAGE_HTTP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace podsandbox::image {

inline constexpr size_t kMaxErrorBody = 64 << 10;

struct HttpOptions {
  std::string ca_file;  // PEM bundle replacing the system's; empty: system's
  bool verify_tls = true;
  absl::Duration connect_timeout = absl::Seconds(30);
  // Abort when fewer than low_speed_bytes_per_second arrive for this long:
  // a stalled transfer, whatever its total length.
  absl::Duration low_speed_time = absl::Seconds(30);
  int64_t low_speed_bytes_per_second = 1024;
  int max_redirects = 5;
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST, PUT, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value" each
  std::string body;                  // sent for POST and PUT
  bool follow_redirects = true;
  // Largest body accepted (2xx or not); < 0 means no limit.
  int64_t max_body_bytes = -1;
};

struct HttpResponse {
  long status = 0;
  std::string effective_url;  // after redirects
  // The final response's headers, names lowercased, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  // Non-2xx bodies (truncated to kMaxErrorBody), and 2xx bodies when no
  // sink was given.
  std::string body;

  // The first header named `name` (lowercase), if any.
  std::optional<std::string> Header(absl::string_view name) const;
};

// Receives a 2xx body piece by piece; an error stops the transfer and is
// what Fetch returns.
using BodySink = std::function<absl::Status(absl::string_view)>;

// Performs `request`. With a null `sink`, a 2xx body goes to `body`.
absl::StatusOr<HttpResponse> Fetch(const HttpOptions& options,
                                   const HttpRequest& request,
                                   const BodySink& sink = nullptr);

// Percent-encodes `text` for a URL query or a form body.
std::string UrlEscape(absl::string_view text);

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_HTTP_CLIENT_H_
