// Content digests ("sha256:<64 lowercase hex>") and a streaming SHA-256.
//
// Only sha256 is accepted: it is the one algorithm the OCI image spec
// requires and every registry serves; anything else is refused rather than
// trusted unverified.
#ifndef PODSANDBOX_IMAGE_DIGEST_H_
#define PODSANDBOX_IMAGE_DIGEST_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace podsandbox::image {

struct Digest {
  std::string algorithm;  // always "sha256"
  std::string hex;        // 64 lowercase hex digits

  // "sha256:<hex>".
  std::string String() const { return algorithm + ":" + hex; }

  // Parses "sha256:<64 lowercase hex>". InvalidArgument otherwise, the
  // message starting with `field` (the caller's name for the value, such
  // as "image" or "manifest.config.digest") and saying what is wrong.
  static absl::StatusOr<Digest> Parse(absl::string_view text,
                                      absl::string_view field = "digest");

  friend bool operator==(const Digest& a, const Digest& b) {
    return a.algorithm == b.algorithm && a.hex == b.hex;
  }
  friend bool operator!=(const Digest& a, const Digest& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const Digest& d) {
    return H::combine(std::move(h), d.algorithm, d.hex);
  }
};

// SHA-256 over data given in pieces (a blob as it streams in). Not
// thread-safe; move-only. Finish() once, then the object is spent.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(absl::string_view data);
  Digest Finish();

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* ctx) const;
  };
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;
};

// The digest of `data` in one call.
Digest Sha256Of(absl::string_view data);

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_DIGEST_H_
