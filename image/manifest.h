// OCI and Docker schema2 image manifests, image indexes / manifest lists,
// and image configs: parsing (nlohmann-json, non-throwing) and platform
// selection. Pure functions on bytes already verified against their
// digest; nothing here touches the network or disk.
//
// Errors: InvalidArgument naming the field ("manifest.layers[1].digest:
// ...") for malformed or unsupported content.
#ifndef PODSANDBOX_IMAGE_MANIFEST_H_
#define PODSANDBOX_IMAGE_MANIFEST_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "image/digest.h"

namespace podsandbox::image {

inline constexpr char kOciManifest[] =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kDockerManifest[] =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerManifestList[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kOciConfig[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kDockerConfig[] =
    "application/vnd.docker.container.image.v1+json";
inline constexpr char kOciLayerTar[] = "application/vnd.oci.image.layer.v1.tar";
inline constexpr char kOciLayerGzip[] =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr char kOciLayerZstd[] =
    "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr char kDockerLayerGzip[] =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";

// The Accept list for manifest requests: the four types above.
std::vector<std::string> ManifestAcceptTypes();

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // GOARCH: "amd64", "arm64"
  std::string variant;       // "v8", or empty
};

// linux and this machine's architecture in GOARCH spelling.
Platform HostPlatform();

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  Platform platform;  // index entries only
};

enum class ManifestKind { kImage, kIndex };

// Which kind `bytes` is: from `content_type` (the response's, parameters
// ignored) when it names one of the four, else from the JSON "mediaType",
// else by shape ("manifests" vs "layers"). InvalidArgument when neither.
absl::StatusOr<ManifestKind> DetectManifestKind(absl::string_view content_type,
                                                absl::string_view bytes);

struct ImageManifest {
  Descriptor config;
  std::vector<Descriptor> layers;  // base first; media types are a layer type
};
absl::StatusOr<ImageManifest> ParseImageManifest(absl::string_view bytes);

struct ImageIndex {
  std::vector<Descriptor> manifests;
};
absl::StatusOr<ImageIndex> ParseImageIndex(absl::string_view bytes);

// The index entry for `want`: os and architecture equal; when want.variant
// is set, an equal variant is preferred, then one without; otherwise the
// first match. NotFound naming the platform when none matches.
absl::StatusOr<Descriptor> SelectPlatform(const ImageIndex& index,
                                          const Platform& want);

struct ImageConfig {
  Platform platform;
  std::vector<Digest> diff_ids;  // rootfs.diff_ids, base first
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::vector<std::string> exposed_ports;  // "80/tcp", sorted
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::string created;  // RFC 3339 as written, may be empty
};
absl::StatusOr<ImageConfig> ParseImageConfig(absl::string_view bytes);

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_MANIFEST_H_
