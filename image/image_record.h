// What the store keeps per image: the record written to
// <images>/images/<id-hex>.json, and its JSON form.
#ifndef PODSANDBOX_IMAGE_IMAGE_RECORD_H_
#define PODSANDBOX_IMAGE_IMAGE_RECORD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "image/digest.h"

namespace podsandbox::image {

struct ImageRecord {
  Digest id;  // the config blob's digest, as docker and containerd use
  // Full references: "docker.io/library/busybox:latest".
  std::vector<std::string> repo_tags;
  // "docker.io/library/busybox@sha256:<manifest hex>".
  std::vector<std::string> repo_digests;
  uint64_t size = 0;  // bytes, as the puller counts them (CRI Image.size)
  Digest manifest_digest;
  // Chain ids of the layers, base first: the directories LayerPath names.
  std::vector<Digest> layers;
  // Blobs the image keeps: config, manifest, an index. GC keeps these.
  std::vector<Digest> blobs;
  absl::Time created;  // when the record was first stored
};

// The record as JSON text.
std::string ToJson(const ImageRecord& record);
// Parses ToJson's output. DataLoss naming the field when it does not hold
// a record.
absl::StatusOr<ImageRecord> ImageRecordFromJson(absl::string_view text);

// Chain ids of a layer stack, per the OCI image spec (config.md, "Layer
// ChainID"): ChainID(L0) = DiffID(L0); ChainID(L0..Ln) =
// sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)), digests in "sha256:<hex>".
std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids);

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_IMAGE_RECORD_H_
