#include "image/testing/token_auth.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::image::testing {
namespace {

using json = nlohmann::json;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

std::string B64Url(absl::string_view data) {
  return absl::WebSafeBase64Escape(data);  // unpadded, as JWS wants
}

}  // namespace

absl::StatusOr<std::string> MintRegistryToken(absl::string_view key_pem_file,
                                              absl::string_view cert_der_file,
                                              absl::string_view repository) {
  ASSIGN_OR_RETURN(std::string cert_der, sys::ReadFile(cert_der_file));
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  json header = {{"alg", "ES256"},
                 {"typ", "JWT"},
                 {"x5c", {absl::Base64Escape(cert_der)}}};
  json claims = {{"iss", kTokenIssuer},
                 {"sub", "test"},
                 {"aud", kTokenService},
                 {"exp", now + 3600},
                 {"nbf", now - 60},
                 {"iat", now - 60},
                 {"jti", absl::StrCat(now)},
                 {"access",
                  {{{"type", "repository"},
                    {"name", std::string(repository)},
                    {"actions", {"pull", "push"}}}}}};
  const std::string signing_input =
      absl::StrCat(B64Url(header.dump()), ".", B64Url(claims.dump()));

  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_file(std::string(key_pem_file).c_str(), "r"));
  if (bio == nullptr) return absl::InternalError("open token key");
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return absl::InternalError("read token key");
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                         key.get()) != 1 ||
      EVP_DigestSign(
          ctx.get(), nullptr, &len,
          reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) != 1) {
    return absl::InternalError("sign token");
  }
  std::string der(len, '\0');
  if (EVP_DigestSign(
          ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &len,
          reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) != 1) {
    return absl::InternalError("sign token");
  }
  // JWS ES256 wants r||s, 32 bytes each; OpenSSL gives DER.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, SigFree> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
  if (sig == nullptr) return absl::InternalError("decode signature");
  unsigned char raw[64];
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw + 32, 32) != 32) {
    return absl::InternalError("encode signature");
  }
  return absl::StrCat(
      signing_input, ".",
      B64Url(absl::string_view(reinterpret_cast<char*>(raw), 64)));
}

}  // namespace podsandbox::image::testing
