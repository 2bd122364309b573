#include "image/manifest.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "sys/json_fields.h"
#include "sys/status.h"

namespace podsandbox::image {
namespace {

using json = nlohmann::json;

absl::Status FieldError(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

absl::StatusOr<json> ParseObject(absl::string_view bytes,
                                 absl::string_view what) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return FieldError(what, "not a JSON object");
  }
  return j;
}

absl::StatusOr<Descriptor> ParseDescriptor(const json& j,
                                           const std::string& field) {
  if (!j.is_object()) return FieldError(field, "must be an object");
  Descriptor d;
  RETURN_IF_ERROR(sys::OptionalString(j, "mediaType", field, &d.media_type));
  std::string digest;
  RETURN_IF_ERROR(sys::OptionalString(j, "digest", field, &digest));
  absl::StatusOr<Digest> parsed =
      Digest::Parse(digest, absl::StrCat(field, ".digest"));
  if (!parsed.ok()) return parsed.status();
  d.digest = *parsed;
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() ||
      size->get<int64_t>() < 0) {
    return FieldError(absl::StrCat(field, ".size"),
                      "must be a non-negative integer");
  }
  d.size = size->get<int64_t>();
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    for (auto [key, out] : {std::pair{"os", &d.platform.os},
                            {"architecture", &d.platform.architecture},
                            {"variant", &d.platform.variant}}) {
      RETURN_IF_ERROR(
          sys::OptionalString(*p, key, absl::StrCat(field, ".platform"), out));
    }
  }
  return d;
}

bool IsLayerType(absl::string_view mt) {
  return mt == kOciLayerTar || mt == kOciLayerGzip || mt == kOciLayerZstd ||
         mt == kDockerLayerGzip;
}

}  // namespace

std::vector<std::string> ManifestAcceptTypes() {
  return {kOciIndex, kDockerManifestList, kOciManifest, kDockerManifest};
}

Platform HostPlatform() {
  Platform p{"linux", "amd64", ""};
  struct utsname u;
  if (uname(&u) != 0) return p;
  absl::string_view m = u.machine;
  // uname's machine names in GOARCH spelling, as image indexes use.
  if (m == "aarch64") {
    p.architecture = "arm64";
    p.variant = "v8";
  } else if (m == "x86_64") {
    p.architecture = "amd64";
  } else if (m == "i686" || m == "i386") {
    p.architecture = "386";
  } else if (m == "ppc64le" || m == "s390x" || m == "riscv64") {
    p.architecture = std::string(m);
  }
  return p;
}

absl::StatusOr<ManifestKind> DetectManifestKind(absl::string_view content_type,
                                                absl::string_view bytes) {
  absl::string_view ct = content_type.substr(0, content_type.find(';'));
  ct = absl::StripAsciiWhitespace(ct);
  if (ct == kOciIndex || ct == kDockerManifestList) return ManifestKind::kIndex;
  if (ct == kOciManifest || ct == kDockerManifest) return ManifestKind::kImage;
  absl::StatusOr<json> j = ParseObject(bytes, "manifest");
  if (!j.ok()) return j.status();
  std::string mt = j->value("mediaType", "");
  if (mt == kOciIndex || mt == kDockerManifestList) return ManifestKind::kIndex;
  if (mt == kOciManifest || mt == kDockerManifest) return ManifestKind::kImage;
  if (!mt.empty()) {
    return FieldError("manifest.mediaType",
                      absl::StrCat("unsupported \"", mt, "\""));
  }
  if (j->contains("manifests")) return ManifestKind::kIndex;
  if (j->contains("layers")) return ManifestKind::kImage;
  return FieldError("manifest", "neither an image manifest nor an index");
}

absl::StatusOr<ImageManifest> ParseImageManifest(absl::string_view bytes) {
  absl::StatusOr<json> j = ParseObject(bytes, "manifest");
  if (!j.ok()) return j.status();
  if (j->value("schemaVersion", 0) != 2) {
    return FieldError("manifest.schemaVersion", "must be 2");
  }
  ImageManifest m;
  auto config = j->find("config");
  if (config == j->end()) return FieldError("manifest.config", "missing");
  absl::StatusOr<Descriptor> c = ParseDescriptor(*config, "manifest.config");
  if (!c.ok()) return c.status();
  if (c->media_type != kOciConfig && c->media_type != kDockerConfig) {
    return FieldError("manifest.config.mediaType",
                      absl::StrCat("unsupported \"", c->media_type, "\""));
  }
  m.config = *c;
  auto layers = j->find("layers");
  if (layers == j->end() || !layers->is_array()) {
    return FieldError("manifest.layers", "must be an array");
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    std::string field = absl::StrCat("manifest.layers[", i, "]");
    absl::StatusOr<Descriptor> l = ParseDescriptor((*layers)[i], field);
    if (!l.ok()) return l.status();
    // Foreign/non-distributable layers would need URLs we do not fetch.
    if (!IsLayerType(l->media_type)) {
      return FieldError(absl::StrCat(field, ".mediaType"),
                        absl::StrCat("unsupported \"", l->media_type, "\""));
    }
    m.layers.push_back(*std::move(l));
  }
  return m;
}

absl::StatusOr<ImageIndex> ParseImageIndex(absl::string_view bytes) {
  absl::StatusOr<json> j = ParseObject(bytes, "index");
  if (!j.ok()) return j.status();
  if (j->value("schemaVersion", 0) != 2) {
    return FieldError("index.schemaVersion", "must be 2");
  }
  auto manifests = j->find("manifests");
  if (manifests == j->end() || !manifests->is_array()) {
    return FieldError("index.manifests", "must be an array");
  }
  ImageIndex index;
  for (size_t i = 0; i < manifests->size(); ++i) {
    absl::StatusOr<Descriptor> d = ParseDescriptor(
        (*manifests)[i], absl::StrCat("index.manifests[", i, "]"));
    if (!d.ok()) return d.status();
    index.manifests.push_back(*std::move(d));
  }
  return index;
}

absl::StatusOr<Descriptor> SelectPlatform(const ImageIndex& index,
                                          const Platform& want) {
  const Descriptor* found = nullptr;
  for (const Descriptor& d : index.manifests) {
    // Nested indexes are not followed; entries of other kinds (attestation
    // manifests say "unknown/unknown") never match a real platform anyway.
    if (d.media_type != kOciManifest && d.media_type != kDockerManifest) {
      continue;
    }
    if (d.platform.os != want.os ||
        d.platform.architecture != want.architecture) {
      continue;
    }
    if (want.variant.empty() || d.platform.variant == want.variant) return d;
    if (found == nullptr && d.platform.variant.empty()) found = &d;
  }
  if (found != nullptr) return *found;
  return absl::NotFoundError(absl::StrCat(
      "no manifest for platform ", want.os, "/", want.architecture,
      want.variant.empty() ? "" : "/", want.variant, " in the image index"));
}

absl::StatusOr<ImageConfig> ParseImageConfig(absl::string_view bytes) {
  absl::StatusOr<json> j = ParseObject(bytes, "config");
  if (!j.ok()) return j.status();
  ImageConfig c;
  for (auto [key, out] : {std::pair{"os", &c.platform.os},
                          {"architecture", &c.platform.architecture},
                          {"variant", &c.platform.variant},
                          {"created", &c.created}}) {
    RETURN_IF_ERROR(sys::OptionalString(*j, key, "config", out));
  }
  auto rootfs = j->find("rootfs");
  if (rootfs == j->end() || !rootfs->is_object()) {
    return FieldError("config.rootfs", "missing");
  }
  std::vector<std::string> diff_ids;
  RETURN_IF_ERROR(
      sys::OptionalStrings(*rootfs, "diff_ids", "config.rootfs", &diff_ids));
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    absl::StatusOr<Digest> d = Digest::Parse(
        diff_ids[i], absl::StrCat("config.rootfs.diff_ids[", i, "]"));
    if (!d.ok()) return d.status();
    c.diff_ids.push_back(*std::move(d));
  }
  auto cfg = j->find("config");
  if (cfg == j->end() || cfg->is_null()) return c;
  if (!cfg->is_object())
    return FieldError("config.config", "must be an object");
  for (auto [key, out] : {std::pair{"User", &c.user},
                          {"WorkingDir", &c.working_dir},
                          {"StopSignal", &c.stop_signal}}) {
    RETURN_IF_ERROR(sys::OptionalString(*cfg, key, "config.config", out));
  }
  for (auto [key, out] : {std::pair{"Env", &c.env},
                          {"Entrypoint", &c.entrypoint},
                          {"Cmd", &c.cmd}}) {
    RETURN_IF_ERROR(sys::OptionalStrings(*cfg, key, "config.config", out));
  }
  if (auto ports = cfg->find("ExposedPorts");
      ports != cfg->end() && ports->is_object()) {
    for (const auto& [port, unused] : ports->items()) {
      c.exposed_ports.push_back(port);
    }
  }
  RETURN_IF_ERROR(
      sys::OptionalStringMap(*cfg, "Labels", "config.config", &c.labels));
  return c;
}

}  // namespace podsandbox::image
