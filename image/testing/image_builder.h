// Test helper: builds OCI images in memory: layer tars written by
// libarchive (plain, gzip or zstd), the config and manifest JSON, indexes;
// and pushes them with a Pusher. Busybox from Debian's busybox-static is
// the usual payload, so a pulled image can really run.
#ifndef PODSANDBOX_IMAGE_TESTING_IMAGE_BUILDER_H_
#define PODSANDBOX_IMAGE_TESTING_IMAGE_BUILDER_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/testing/pusher.h"

namespace podsandbox::image::testing {

struct TarEntry {
  enum class Type { kFile, kDir, kSymlink, kHardlink };
  std::string path;  // as written in the tar: "bin/sh", "../x", "/abs"
  Type type = Type::kFile;
  std::string data;  // kFile
  std::string link;  // kSymlink target, kHardlink's existing path
  mode_t mode = 0644;
  uid_t uid = 0;
  gid_t gid = 0;
};

enum class Compression { kNone, kGzip, kZstd };

// A tar (pax) of `entries` in order, compressed as asked.
absl::StatusOr<std::string> MakeTar(const std::vector<TarEntry>& entries,
                                    Compression compression);

// bin/ (dir), bin/busybox (from /bin/busybox, 0755) and symlinks
// bin/sh, bin/ls, bin/true, bin/sleep, bin/cat, bin/id -> busybox.
absl::StatusOr<std::vector<TarEntry>> BusyboxEntries();

struct BuiltLayer {
  std::string blob;  // compressed bytes, as pushed
  Digest digest;     // of blob
  Digest diff_id;    // of the uncompressed tar
  std::string media_type;
};

absl::StatusOr<BuiltLayer> MakeLayer(const std::vector<TarEntry>& entries,
                                     Compression compression);

// OCI media types, or Docker schema2's (manifest, config, gzip layers,
// manifest list) as older registries and docker push write them.
enum class ManifestFormat { kOci, kDocker };

struct BuiltImage {
  std::vector<BuiltLayer> layers;
  std::string config;
  Digest config_digest;
  std::string manifest;
  std::string manifest_media_type;
  Digest manifest_digest;
};

// Config (os/architecture from `platform`, diff_ids, Cmd, Env) and
// manifest for `layers`. kDocker wants gzip (or plain) layers: schema2 has
// no zstd type.
BuiltImage MakeImage(std::vector<BuiltLayer> layers,
                     const Platform& platform = {"linux", "amd64", ""},
                     std::vector<std::string> cmd = {"/bin/sh"},
                     ManifestFormat format = ManifestFormat::kOci);

// An index (OCI) or manifest list (Docker) of `images`, each with its
// platform.
std::string MakeIndex(
    const std::vector<std::pair<const BuiltImage*, Platform>>& images,
    ManifestFormat format = ManifestFormat::kOci);

// Pushes layers, config, then the manifest under `tag` (by digest when
// `tag` is empty). Returns the manifest digest.
absl::StatusOr<Digest> PushImage(Pusher& pusher, absl::string_view repository,
                                 absl::string_view tag,
                                 const BuiltImage& image);

}  // namespace podsandbox::image::testing

#endif  // PODSANDBOX_IMAGE_TESTING_IMAGE_BUILDER_H_
