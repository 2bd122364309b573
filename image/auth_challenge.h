// Parses a WWW-Authenticate header (RFC 7235 challenge): the scheme and its
// key=value / key="quoted value" parameters, as registries send them:
//   Bearer realm="https://auth.example/token",service="reg",scope="a:b:pull"
// Hand-written because no Debian library parses it; kept to the one
// challenge registries send (a second challenge in the same header is
// ignored).
#ifndef PODSANDBOX_IMAGE_AUTH_CHALLENGE_H_
#define PODSANDBOX_IMAGE_AUTH_CHALLENGE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace podsandbox::image {

struct AuthChallenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // keys lowercased
};

// InvalidArgument ("WWW-Authenticate: <reason>") on a malformed header.
absl::StatusOr<AuthChallenge> ParseAuthChallenge(absl::string_view header);

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_AUTH_CHALLENGE_H_
