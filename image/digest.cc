#include "image/digest.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "sys/log.h"

namespace podsandbox::image {

absl::StatusOr<Digest> Digest::Parse(absl::string_view text,
                                     absl::string_view field) {
  if (!absl::ConsumePrefix(&text, "sha256:")) {
    return absl::InvalidArgumentError(
        absl::StrCat(field,
                     ": digest must be \"sha256:<64 hex digits>\" (the only "
                     "algorithm supported)"));
  }
  if (text.size() != 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": sha256 digest must have 64 hex digits, not ", text.size()));
  }
  for (char c : text) {
    // Lowercase only, as the OCI spec's encoded form: "sha256:ABC.." names
    // a different string and registries refuse it.
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": sha256 digest must be lowercase hex digits"));
    }
  }
  return Digest{"sha256", std::string(text)};
}

void Sha256::CtxFree::operator()(EVP_MD_CTX* ctx) const {
  EVP_MD_CTX_free(ctx);
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  // Only allocation can fail here, and there is no useful way on.
  PSB_CHECK(ctx_ != nullptr &&
            EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(absl::string_view data) {
  PSB_CHECK(EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) == 1);
}

Digest Sha256::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  PSB_CHECK(EVP_DigestFinal_ex(ctx_.get(), md, &len) == 1);
  return Digest{"sha256", absl::BytesToHexString(absl::string_view(
                              reinterpret_cast<const char*>(md), len))};
}

Digest Sha256Of(absl::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

}  // namespace podsandbox::image
