// The image layer as a CRI server uses it: find, list and remove images
// named the ways kubelet and crictl name them, and the store's usage.
// Pulling lives in image/puller.h; this class names images for it.
//
// Names resolve in this order: an image id ("sha256:<hex>" or "<hex>"), a
// reference normalised as docker does ("busybox" is
// "docker.io/library/busybox:latest"; "busybox@sha256:..." is the repo
// digest "docker.io/library/busybox@sha256:..."), then an id prefix that
// matches exactly one image.
//
// Thread-safe.
#ifndef PODSANDBOX_IMAGE_IMAGES_H_
#define PODSANDBOX_IMAGE_IMAGES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "image/digest.h"
#include "image/image_record.h"
#include "image/store.h"

namespace podsandbox::image {

class Images {
 public:
  // Whether a container uses the image `id`: RemoveImage refuses then.
  using InUse = std::function<bool(const Digest& id)>;

  // `store` must be Init'ed and outlive this object.
  explicit Images(Store& store);

  // Until set, no image counts as in use.
  void SetInUse(InUse in_use);

  // The image `name` names. NotFound when there is none; InvalidArgument
  // when `name` is empty or an id prefix matches several images.
  absl::StatusOr<ImageRecord> Find(absl::string_view name) const;

  // Every image, oldest first.
  std::vector<ImageRecord> List() const;

  // Removes the image `name` names, and with it what no other image uses.
  // Removing an absent image succeeds (CRI: RemoveImage is idempotent).
  // FailedPrecondition while a container uses it.
  absl::Status Remove(absl::string_view name);

  absl::StatusOr<StoreUsage> Usage() const { return store_.Usage(); }

  // A blob an image keeps (its config, its manifest). NotFound when absent.
  absl::StatusOr<std::string> ReadBlob(const Digest& digest) const {
    return store_.ReadBlob(digest);
  }

 private:
  Store& store_;
  InUse in_use_;
};

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_IMAGES_H_
