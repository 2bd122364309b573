// The CRI v1 ImageService of podsandboxd, on gRPC's callback API.
//
// podsandbox keeps no images: the only rootfs it ever runs is the pause
// rootfs, which it builds from its own pause binary. So ImageFsInfo
// answers OK with no filesystems (kubelet, crictl and critest call it on
// the runtime socket to check the connection, and fail on any error), and
// ListImages, ImageStatus, PullImage and RemoveImage answer UNIMPLEMENTED
// with a message naming the RPC, like the RuntimeService's container RPCs.
// Each RPC logs one line: method, pod (empty), code, duration.
//
// Every handler finishes inline: nothing here blocks, so nothing goes to
// the WorkerPool.
//
// Thread-safe: stateless.
#ifndef PODSANDBOX_CRI_IMAGE_SERVICE_H_
#define PODSANDBOX_CRI_IMAGE_SERVICE_H_

#include "absl/strings/string_view.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "grpcpp/grpcpp.h"

namespace podsandbox::cri {

class ImageService final : public runtime::v1::ImageService::CallbackService {
 public:
  // runtime::v1::ImageService: implemented.
  grpc::ServerUnaryReactor* ImageFsInfo(
      grpc::CallbackServerContext* context,
      const runtime::v1::ImageFsInfoRequest* request,
      runtime::v1::ImageFsInfoResponse* response) override;

  // runtime::v1::ImageService: UNIMPLEMENTED, naming the RPC.
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

 private:
  static grpc::ServerUnaryReactor* Unimplemented(
      grpc::CallbackServerContext* context, absl::string_view method);
};

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_IMAGE_SERVICE_H_
