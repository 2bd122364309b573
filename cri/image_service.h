// The CRI v1 ImageService of podsandboxd, on gRPC's callback API, over the
// image layer: image::Puller pulls into the image::Store, image::Images
// finds, lists and removes.
//
//   PullImage    pulls spec.image with the request's AuthConfig (basic,
//                base64 auth, identity or registry token) through the
//                configured mirrors; answers the image id ("sha256:<config
//                hex>"), which is what ImageStatus, RemoveImage and
//                containers use as image_ref. Concurrent pulls of one
//                reference with the same credentials share one pull.
//   ImageStatus  the image (id, repo tags and digests, size, uid or
//                username from the config's User) or, when absent, an
//                empty response and OK, as kubelet expects; `verbose` adds
//                info["info"]: JSON with the manifest, the config, the
//                chain ids.
//   ListImages   every image, oldest first; with filter.image.image, only
//                the image that name resolves to.
//   RemoveImage  by id, id prefix, tag or repo digest; absent is OK
//                (idempotent); FailedPrecondition while the in-use hook
//                (image::Images::SetInUse, filled by the container layer)
//                says a container uses it.
//   ImageFsInfo  the store's used bytes and inodes at the store's
//                directory; kubelet stats that directory for the
//                filesystem's capacity, as it does containerd's
//                snapshotter root.
//
// Requests are validated inline (InvalidArgument naming the field, e.g.
// "image.image: must not be empty") before anything is done. PullImage and
// RemoveImage (downloads, unpacking, tree removal) run on worker pools of
// their own, each with a bounded queue (limits.pull_queue,
// limits.image_remove_queue): past it the call is refused at once with
// ResourceExhausted naming the key. The other RPCs read memory and small
// files and answer on gRPC's thread, never refused by those bounds. Each RPC
// logs one line: method, code, duration (pod empty).
//
// Thread-safe. `images` and `puller` must outlive the service; call
// Shutdown after the server has stopped and before they are destroyed.
#ifndef PODSANDBOX_CRI_IMAGE_SERVICE_H_
#define PODSANDBOX_CRI_IMAGE_SERVICE_H_

#include "absl/strings/string_view.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/worker_pool.h"
#include "grpcpp/grpcpp.h"
#include "image/images.h"
#include "image/puller.h"

namespace podsandbox::cri {

struct ImageServiceOptions {
  // Pulls running at once; more wait in the queue. kubelet pulls one image
  // at a time by default (serializeImagePulls) and at most a few otherwise.
  int pull_workers = 4;
  int remove_workers = 2;
  // Calls queued beyond the busy workers; one more is refused with
  // ResourceExhausted naming the [limits] key. The defaults and why:
  // cri/daemon_config.h.
  int pull_queue = 256;
  int remove_queue = 64;
};

class ImageService final : public runtime::v1::ImageService::CallbackService {
 public:
  ImageService(image::Images& images, image::Puller& puller,
               ImageServiceOptions options = {});

  // Finishes the queued pulls and removals, then stops the workers.
  void Shutdown();

  // runtime::v1::ImageService
  grpc::ServerUnaryReactor* ListImages(
      grpc::CallbackServerContext* context,
      const runtime::v1::ListImagesRequest* request,
      runtime::v1::ListImagesResponse* response) override;
  grpc::ServerUnaryReactor* ImageStatus(
      grpc::CallbackServerContext* context,
      const runtime::v1::ImageStatusRequest* request,
      runtime::v1::ImageStatusResponse* response) override;
  grpc::ServerUnaryReactor* PullImage(
      grpc::CallbackServerContext* context,
      const runtime::v1::PullImageRequest* request,
      runtime::v1::PullImageResponse* response) override;
  grpc::ServerUnaryReactor* RemoveImage(
      grpc::CallbackServerContext* context,
      const runtime::v1::RemoveImageRequest* request,
      runtime::v1::RemoveImageResponse* response) override;
  grpc::ServerUnaryReactor* ImageFsInfo(
      grpc::CallbackServerContext* context,
      const runtime::v1::ImageFsInfoRequest* request,
      runtime::v1::ImageFsInfoResponse* response) override;

 private:
  image::Images& images_;
  image::Puller& puller_;
  WorkerPool pull_workers_;
  WorkerPool remove_workers_;
};

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_IMAGE_SERVICE_H_
