// Pulls an image from a registry into the Store: resolves the reference's
// endpoints (mirrors first), fetches the manifest (through an index when
// there is one), the config and the layers, and records the image.
//
// Layers are fetched concurrently (at most kMaxParallelLayers at once),
// each in one streamed pass: the download is piped straight into
// UnpackLayer, which computes the diff_id on the way, while FetchBlob
// verifies the compressed digest at the end; a failure of either drops the
// layer's temp directory (Store::CommitLayer). Nothing is buffered whole
// but the manifest and the config.
//
// Concurrent Pulls of the same reference with the same credentials share
// one pull (different credentials never share a result: a pull refused
// for one caller's credentials must not fail another's, nor one allowed
// for a caller serve another who is not allowed); concurrent pulls of
// images sharing a layer share its download.
//
// A failed pull leaves nothing: the layers it had verified and committed
// before another layer failed are collected (Store::CollectGarbage) once
// its lease is dropped, so unreferenced layers never count in the store's
// usage where no RemoveImage can reach them. A retry downloads them again.
//
// Thread-safe.
#ifndef PODSANDBOX_IMAGE_PULLER_H_
#define PODSANDBOX_IMAGE_PULLER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "image/http_client.h"
#include "image/image_record.h"
#include "image/manifest.h"
#include "image/registry_client.h"
#include "image/registry_hosts.h"
#include "image/store.h"
#include "image/unpack.h"
#include "sys/sys.h"

namespace podsandbox::image {

struct PullOptions {
  int64_t max_manifest_bytes = int64_t{4} << 20;
  int64_t max_config_bytes = int64_t{8} << 20;
  // Compressed layers plus config, as the manifest declares them.
  int64_t max_image_bytes = int64_t{8} << 30;
  UnpackOptions unpack;
  HttpOptions http;
};

class Puller {
 public:
  static constexpr int kMaxParallelLayers = 3;

  // `store` must be Init'ed and outlive the Puller.
  Puller(sys::Sys& sys, Store& store, RegistryHosts hosts,
         PullOptions options = {});

  // Pulls `image` ("busybox", "host:5000/a/b:t", "a/b@sha256:...") and
  // returns the stored record. Errors: InvalidArgument "image: ..." for a
  // malformed reference; the registry's errors (NotFound, Unavailable,
  // Unauthenticated, ...) from the last endpoint tried, annotated with the
  // mirrors' errors before it; DataLoss for content not matching its
  // digest or diff_id; ResourceExhausted past a limit. On error no image
  // record is written and no layer of this pull is left (unless another
  // image or pull uses it).
  absl::StatusOr<ImageRecord> Pull(absl::string_view image,
                                   const Credentials& credentials)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Layer downloads started since construction: for tests proving that
  // shared or present layers are not fetched again.
  int64_t layer_downloads() const { return layer_downloads_.load(); }

 private:
  struct PullFlight;
  struct LayerFlight;

  absl::StatusOr<ImageRecord> DoPull(absl::string_view image,
                                     const Credentials& credentials);
  // Makes the layer `chain_id` unless present, sharing the download with
  // any concurrent caller for the same chain id.
  absl::Status EnsureLayer(RegistryClient& client, const Descriptor& layer,
                           const Digest& chain_id, const Digest& diff_id)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Downloads and unpacks `layer` into the store, in one pass.
  absl::Status FetchAndUnpack(RegistryClient& client, const Descriptor& layer,
                              const Digest& chain_id, const Digest& diff_id);

  sys::Sys& sys_;
  Store& store_;
  const RegistryHosts hosts_;
  const PullOptions options_;
  std::atomic<int64_t> layer_downloads_{0};

  absl::Mutex mu_;
  // Keyed by Reference::String() plus a digest of the credentials, and by
  // chain id hex.
  absl::flat_hash_map<std::string, std::shared_ptr<PullFlight>> pulls_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<LayerFlight>> layers_
      ABSL_GUARDED_BY(mu_);
  int active_downloads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_PULLER_H_
