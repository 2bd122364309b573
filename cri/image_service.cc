#include "cri/image_service.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.pb.h"
#include "cri/grpc_status.h"
#include "cri/rpc_log.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

void Finish(grpc::ServerUnaryReactor* reactor, absl::string_view method,
            absl::Time start, const absl::Status& status) {
  LogRpc(method, "", start, status);
  reactor->Finish(ToGrpcStatus(status));
}

}  // namespace

grpc::ServerUnaryReactor* ImageService::Unimplemented(
    grpc::CallbackServerContext* context, absl::string_view method) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, method, absl::Now(),
         absl::UnimplementedError(absl::StrCat(
             method,
             " is not implemented: podsandbox keeps no images (the pause "
             "rootfs is built from its own binary)")));
  return reactor;
}

grpc::ServerUnaryReactor* ImageService::ImageFsInfo(
    grpc::CallbackServerContext* context,
    const v1::ImageFsInfoRequest* /*request*/,
    v1::ImageFsInfoResponse* /*response*/) {
  const absl::Time start = absl::Now();
  // No image filesystems to report: we keep no images, and the pause
  // rootfs is built from our own binary, not unpacked from an image. An
  // empty answer is the true one, and an error would stop crictl, critest
  // and kubelet, which call this RPC to check the connection.
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, "ImageFsInfo", start, absl::OkStatus());
  return reactor;
}

// The image RPCs podsandboxd does not implement: each answers
// UNIMPLEMENTED naming itself.
#define PSB_CRI_UNIMPLEMENTED(Method)             \
  grpc::ServerUnaryReactor* ImageService::Method( \
      grpc::CallbackServerContext* context,       \
      const v1::Method##Request* /*request*/,     \
      v1::Method##Response* /*response*/) {       \
    return Unimplemented(context, #Method);       \
  }

PSB_CRI_UNIMPLEMENTED(ListImages)
PSB_CRI_UNIMPLEMENTED(ImageStatus)
PSB_CRI_UNIMPLEMENTED(PullImage)
PSB_CRI_UNIMPLEMENTED(RemoveImage)

#undef PSB_CRI_UNIMPLEMENTED

}  // namespace podsandbox::cri
