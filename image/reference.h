// Image references as docker and the CRI spell them, normalised:
//   "busybox"                 -> docker.io/library/busybox:latest
//   "host:5000/a/b:t"         -> registry "host:5000", repository "a/b"
//   "a/b@sha256:<hex>"        -> docker.io/a/b, digest only (no tag)
//   "a/b:t@sha256:<hex>"      -> both; the digest is what is pulled
// The first path component is a registry host when it contains '.' or ':'
// or is "localhost" (docker's rule); "index.docker.io" becomes "docker.io",
// and a one-component docker.io repository gets "library/". Repository
// components follow distribution's grammar ([a-z0-9] runs joined by '.',
// '_', '__' or '-'s; lowercase only), the whole name at most 255
// characters, a tag at most 128 of [A-Za-z0-9_.-] not starting with '.' or
// '-'.
#ifndef PODSANDBOX_IMAGE_REFERENCE_H_
#define PODSANDBOX_IMAGE_REFERENCE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "image/digest.h"

namespace podsandbox::image {

struct Reference {
  std::string registry;    // "docker.io", "registry.k8s.io", "127.0.0.1:5000"
  std::string repository;  // "library/busybox"
  std::string tag;         // "latest" by default; empty when only a digest
  std::optional<Digest> digest;

  // "docker.io/library/busybox"
  std::string Name() const;
  // "docker.io/library/busybox:latest", with "@sha256:..." when pinned.
  std::string String() const;
  // What to ask the registry's manifest endpoint for: the digest when
  // there is one (a tag beside it is informational), else the tag.
  std::string ManifestReference() const;
};

// Parses and normalises `text`. InvalidArgument on anything malformed, the
// message "image: <reason>" (`field` replaces "image" for callers that name
// it otherwise).
absl::StatusOr<Reference> ParseReference(absl::string_view text,
                                         absl::string_view field = "image");

// True when `tag` is a valid tag (for callers that take a tag alone).
bool IsValidTag(absl::string_view tag);

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_REFERENCE_H_
