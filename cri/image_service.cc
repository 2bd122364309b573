#include "cri/image_service.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.pb.h"
#include "cri/grpc_status.h"
#include "cri/rpc_log.h"
#include "image/digest.h"
#include "image/image_record.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry_client.h"
#include "nlohmann/json.hpp"
#include "sys/status.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

void Finish(grpc::ServerUnaryReactor* reactor, absl::string_view method,
            absl::Time start, const absl::Status& status) {
  LogRpc(method, "", start, status);
  reactor->Finish(ToGrpcStatus(status));
}

absl::Status RequireImageName(const v1::ImageSpec& spec,
                              absl::string_view field) {
  if (spec.image().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must not be empty"));
  }
  return absl::OkStatus();
}

// The image config's User as CRI reports it, as containerd does: a numeric
// user (before any ":group") is the uid, anything else the username; an
// empty User is neither (the runtime's default, root).
void SetUser(absl::string_view user, v1::Image* out) {
  if (user.empty()) return;
  const absl::string_view name = user.substr(0, user.find(':'));
  int64_t uid = 0;
  if (absl::SimpleAtoi(name, &uid) && uid >= 0) {
    out->mutable_uid()->set_value(uid);
  } else {
    out->set_username(std::string(name));
  }
}

// The CRI Image of `record`; reads its config for the user. The config is
// a blob the record keeps, so its absence is corruption (DataLoss).
absl::StatusOr<v1::Image> ToCriImage(const image::Images& images,
                                     const image::ImageRecord& record,
                                     image::ImageConfig* config_out = nullptr,
                                     std::string* config_text = nullptr) {
  v1::Image out;
  out.set_id(record.id.String());
  for (const std::string& tag : record.repo_tags) out.add_repo_tags(tag);
  for (const std::string& digest : record.repo_digests) {
    out.add_repo_digests(digest);
  }
  out.set_size(record.size);
  out.mutable_spec()->set_image(record.id.String());
  absl::StatusOr<std::string> text = images.ReadBlob(record.id);
  if (!text.ok()) {
    return absl::DataLossError(
        absl::StrCat("image ", record.id.String(),
                     ": its config blob: ", text.status().message()));
  }
  ASSIGN_OR_RETURN(image::ImageConfig config, image::ParseImageConfig(*text));
  SetUser(config.user, &out);
  if (config_out != nullptr) *config_out = std::move(config);
  if (config_text != nullptr) *config_text = *std::move(text);
  return out;
}

// ImageStatus's verbose info["info"]: what crictl inspecti prints.
absl::StatusOr<std::string> VerboseInfo(const image::Images& images,
                                        const image::ImageRecord& record,
                                        absl::string_view config_text) {
  ASSIGN_OR_RETURN(std::string manifest_text,
                   images.ReadBlob(record.manifest_digest));
  nlohmann::json manifest =
      nlohmann::json::parse(manifest_text, nullptr, /*allow_exceptions=*/false);
  nlohmann::json config =
      nlohmann::json::parse(config_text, nullptr, /*allow_exceptions=*/false);
  // Both were verified and parsed when pulled; a blob that no longer
  // parses was changed on disk.
  if (manifest.is_discarded() || config.is_discarded()) {
    return absl::DataLossError(
        absl::StrCat("image ", record.id.String(),
                     ": stored manifest or config is not JSON"));
  }
  nlohmann::json chain_ids = nlohmann::json::array();
  for (const image::Digest& d : record.layers) chain_ids.push_back(d.String());
  nlohmann::json info = {
      {"id", record.id.String()},
      {"manifestDigest", record.manifest_digest.String()},
      {"chainIDs", chain_ids},
      {"created", absl::FormatTime(absl::RFC3339_full, record.created,
                                   absl::UTCTimeZone())},
      {"manifest", manifest},
      {"imageSpec", config},
  };
  return info.dump();
}

image::Credentials ToCredentials(const v1::AuthConfig& auth) {
  image::Credentials c;
  c.username = auth.username();
  c.password = auth.password();
  c.auth = auth.auth();
  c.identity_token = auth.identity_token();
  c.registry_token = auth.registry_token();
  return c;
}

}  // namespace

ImageService::ImageService(image::Images& images, image::Puller& puller,
                           ImageServiceOptions options)
    : images_(images),
      puller_(puller),
      pull_workers_(options.pull_workers, options.pull_queue,
                    "limits.pull_queue"),
      remove_workers_(options.remove_workers, options.remove_queue,
                      "limits.image_remove_queue") {}

void ImageService::Shutdown() {
  pull_workers_.Shutdown();
  remove_workers_.Shutdown();
}

grpc::ServerUnaryReactor* ImageService::ListImages(
    grpc::CallbackServerContext* context, const v1::ListImagesRequest* request,
    v1::ListImagesResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::vector<image::ImageRecord> records;
  absl::Status status;
  if (const std::string& name = request->filter().image().image();
      !name.empty()) {
    absl::StatusOr<image::ImageRecord> found = images_.Find(name);
    // A filter naming no image (or several) lists nothing, as containerd.
    if (found.ok()) records.push_back(*std::move(found));
  } else {
    records = images_.List();
  }
  for (const image::ImageRecord& record : records) {
    absl::StatusOr<v1::Image> converted = ToCriImage(images_, record);
    if (!converted.ok()) {
      status = converted.status();
      break;
    }
    *response->add_images() = *std::move(converted);
  }
  Finish(reactor, "ListImages", start, status);
  return reactor;
}

grpc::ServerUnaryReactor* ImageService::ImageStatus(
    grpc::CallbackServerContext* context, const v1::ImageStatusRequest* request,
    v1::ImageStatusResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireImageName(request->image(), "image.image"));
    absl::StatusOr<image::ImageRecord> found =
        images_.Find(request->image().image());
    // kubelet asks before every pull: absent is an empty answer, not an
    // error (CRI: "If the image isn't present, returns a response with
    // ImageStatusResponse.Image set to nil").
    if (absl::IsNotFound(found.status())) return absl::OkStatus();
    RETURN_IF_ERROR(found.status());
    image::ImageConfig config;
    std::string config_text;
    ASSIGN_OR_RETURN(*response->mutable_image(),
                     ToCriImage(images_, *found, &config, &config_text));
    if (request->verbose()) {
      ASSIGN_OR_RETURN((*response->mutable_info())["info"],
                       VerboseInfo(images_, *found, config_text));
    }
    return absl::OkStatus();
  }();
  Finish(reactor, "ImageStatus", start, status);
  return reactor;
}

grpc::ServerUnaryReactor* ImageService::PullImage(
    grpc::CallbackServerContext* context, const v1::PullImageRequest* request,
    v1::PullImageResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status valid = RequireImageName(request->image(), "image.image");
  if (valid.ok()) {
    valid =
        image::ParseReference(request->image().image(), "image.image").status();
  }
  if (!valid.ok()) {
    Finish(reactor, "PullImage", start, valid);
    return reactor;
  }
  absl::Status queued = pull_workers_.Post(
      [this, reactor, response, start, name = request->image().image(),
       credentials = ToCredentials(request->auth())] {
        absl::StatusOr<image::ImageRecord> pulled =
            puller_.Pull(name, credentials);
        if (pulled.ok()) response->set_image_ref(pulled->id.String());
        Finish(reactor, "PullImage", start, pulled.status());
      });
  if (!queued.ok()) Finish(reactor, "PullImage", start, queued);
  return reactor;
}

grpc::ServerUnaryReactor* ImageService::RemoveImage(
    grpc::CallbackServerContext* context, const v1::RemoveImageRequest* request,
    v1::RemoveImageResponse* /*response*/) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = RequireImageName(request->image(), "image.image");
      !s.ok()) {
    Finish(reactor, "RemoveImage", start, s);
    return reactor;
  }
  absl::Status queued = remove_workers_.Post(
      [this, reactor, start, name = request->image().image()] {
        Finish(reactor, "RemoveImage", start, images_.Remove(name));
      });
  if (!queued.ok()) Finish(reactor, "RemoveImage", start, queued);
  return reactor;
}

grpc::ServerUnaryReactor* ImageService::ImageFsInfo(
    grpc::CallbackServerContext* context,
    const v1::ImageFsInfoRequest* /*request*/,
    v1::ImageFsInfoResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<image::StoreUsage> usage = images_.Usage();
  if (usage.ok()) {
    v1::FilesystemUsage* fs = response->add_image_filesystems();
    fs->set_timestamp(absl::ToUnixNanos(absl::Now()));
    fs->mutable_fs_id()->set_mountpoint(usage->mountpoint);
    fs->mutable_used_bytes()->set_value(usage->used_bytes);
    fs->mutable_inodes_used()->set_value(usage->inodes_used);
  }
  Finish(reactor, "ImageFsInfo", start, usage.status());
  return reactor;
}

}  // namespace podsandbox::cri
