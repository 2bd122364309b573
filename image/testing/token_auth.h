// Test helper: mints a bearer token that distribution's token auth accepts
// (a JWT signed ES256, with the signing certificate in the "x5c" header so
// the registry verifies it against its rootcertbundle). The registry
// fixture serves it from a static token endpoint.
#ifndef PODSANDBOX_IMAGE_TESTING_TOKEN_AUTH_H_
#define PODSANDBOX_IMAGE_TESTING_TOKEN_AUTH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace podsandbox::image::testing {

inline constexpr char kTokenIssuer[] = "podsandbox-test-issuer";
inline constexpr char kTokenService[] = "podsandbox-test-registry";

// A JWT granting pull and push on `repository` for an hour, signed with
// the EC key in `key_pem_file`, whose self-signed certificate (DER) is
// `cert_der_file`.
absl::StatusOr<std::string> MintRegistryToken(absl::string_view key_pem_file,
                                              absl::string_view cert_der_file,
                                              absl::string_view repository);

}  // namespace podsandbox::image::testing

#endif  // PODSANDBOX_IMAGE_TESTING_TOKEN_AUTH_H_
