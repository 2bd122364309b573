#include "cri/ctl/image_verbs.h"

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "cri/api.pb.h"
#include "cri/ctl/pod_verbs.h"
#include "nlohmann/json.hpp"
#include "sys/status.h"

namespace podsandbox::cri::ctl {
namespace {

namespace v1 = ::runtime::v1;
using json = nlohmann::json;

v1::ImageSpec Spec(const std::string& image) {
  v1::ImageSpec spec;
  spec.set_image(image);
  return spec;
}

// "docker.io/library/busybox:1.36" -> {"docker.io/library/busybox",
// "1.36"}; the tag's colon is the last one after the last slash (a
// registry's port has a slash after it).
std::pair<std::string, std::string> SplitRepoTag(absl::string_view ref) {
  const size_t slash = ref.rfind('/');
  const size_t colon = ref.rfind(':');
  if (colon == absl::string_view::npos ||
      (slash != absl::string_view::npos && colon < slash)) {
    return {std::string(ref), "<none>"};
  }
  return {std::string(ref.substr(0, colon)),
          std::string(ref.substr(colon + 1))};
}

// "repo@sha256:abc" -> {"repo", "sha256:abc"}.
std::pair<std::string, std::string> SplitRepoDigest(absl::string_view ref) {
  std::pair<std::string, std::string> parts =
      absl::StrSplit(ref, absl::MaxSplits('@', 1));
  return parts;
}

struct ImageRow {
  std::string repo, tag, digest, id, size;
};

// One row per tag, as crictl prints them; an untagged image gets one row
// named after its digest's repository.
std::vector<ImageRow> Rows(const v1::Image& image, bool no_trunc) {
  std::string repo = "<none>", digest = "<none>";
  if (image.repo_digests_size() > 0) {
    auto [digest_repo, digest_value] = SplitRepoDigest(image.repo_digests(0));
    repo = digest_repo;
    digest = ShortId(digest_value, no_trunc);
  }
  const std::string id = ShortId(image.id(), no_trunc);
  const std::string size = HumanSize(image.size());
  std::vector<ImageRow> rows;
  for (const std::string& tagged : image.repo_tags()) {
    auto [tag_repo, tag] = SplitRepoTag(tagged);
    rows.push_back({tag_repo, tag, digest, id, size});
  }
  if (rows.empty()) rows.push_back({repo, "<none>", digest, id, size});
  return rows;
}

void WriteImageTable(const std::vector<v1::Image>& images, bool digests,
                     bool no_trunc, std::ostream& out) {
  std::vector<ImageRow> rows;
  for (const v1::Image& image : images) {
    for (ImageRow& row : Rows(image, no_trunc)) rows.push_back(std::move(row));
  }
  size_t repo_width = 5, tag_width = 3, digest_width = 6, id_width = 8;
  for (const ImageRow& row : rows) {
    repo_width = std::max(repo_width, row.repo.size());
    tag_width = std::max(tag_width, row.tag.size());
    digest_width = std::max(digest_width, row.digest.size());
    id_width = std::max(id_width, row.id.size());
  }
  auto line = [&](const ImageRow& row) {
    out << absl::StrFormat("%-*s  %-*s  ", repo_width, row.repo, tag_width,
                           row.tag);
    if (digests) out << absl::StrFormat("%-*s  ", digest_width, row.digest);
    out << absl::StrFormat("%-*s  %s\n", id_width, row.id, row.size);
  };
  line({"IMAGE", "TAG", "DIGEST", "IMAGE ID", "SIZE"});
  for (const ImageRow& row : rows) line(row);
}

}  // namespace

absl::Status Pull(CriClient& client, const PullOptions& options,
                  std::ostream& out) {
  v1::AuthConfig auth;
  if (!options.creds.empty()) {
    std::pair<std::string, std::string> user_password =
        absl::StrSplit(options.creds, absl::MaxSplits(':', 1));
    auth.set_username(user_password.first);
    auth.set_password(user_password.second);
  }
  auth.set_auth(options.auth);
  v1::PodSandboxConfig sandbox;
  if (!options.pod_config_path.empty()) {
    ASSIGN_OR_RETURN(sandbox, ReadPodConfig(options.pod_config_path));
  }
  ASSIGN_OR_RETURN(std::string ref,
                   client.PullImage(Spec(options.image), auth, sandbox));
  out << "Image is up to date for " << ref << "\n";
  return absl::OkStatus();
}

absl::Status Images(CriClient& client, const ImagesOptions& options,
                    std::ostream& out) {
  v1::ImageFilter filter;
  if (!options.image.empty()) *filter.mutable_image() = Spec(options.image);
  ASSIGN_OR_RETURN(std::vector<v1::Image> images, client.ListImages(filter));
  if (options.quiet) {
    for (const v1::Image& image : images) out << image.id() << "\n";
    return absl::OkStatus();
  }
  if (options.format == OutputFormat::kTable) {
    WriteImageTable(images, options.digests, options.no_trunc, out);
    return absl::OkStatus();
  }
  v1::ListImagesResponse listed;
  for (const v1::Image& image : images) *listed.add_images() = image;
  WriteStructured(ProtoToJson(listed), options.format, out);
  return absl::OkStatus();
}

absl::Status Inspecti(CriClient& client, const std::vector<std::string>& images,
                      OutputFormat format, std::ostream& out) {
  std::vector<v1::Image> found;
  for (const std::string& image : images) {
    ASSIGN_OR_RETURN(v1::ImageStatusResponse status,
                     client.ImageStatus(Spec(image), /*verbose=*/true));
    // ImageStatus answers an absent image with no image, not an error.
    if (!status.has_image()) {
      return absl::NotFoundError(absl::StrCat("no such image ", image));
    }
    if (format == OutputFormat::kTable) {
      found.push_back(status.image());
      continue;
    }
    WriteStructured(InspectJson(status.image(), status.info()), format, out);
  }
  if (format == OutputFormat::kTable) {
    WriteImageTable(found, /*digests=*/false, /*no_trunc=*/false, out);
  }
  return absl::OkStatus();
}

absl::Status Rmi(CriClient& client, const std::vector<std::string>& images,
                 std::ostream& out) {
  for (const std::string& image : images) {
    RETURN_IF_ERROR(client.RemoveImage(Spec(image)));
    out << "Deleted: " << image << "\n";
  }
  return absl::OkStatus();
}

absl::Status ImageFsInfo(CriClient& client, OutputFormat format,
                         std::ostream& out) {
  ASSIGN_OR_RETURN(v1::ImageFsInfoResponse response, client.ImageFsInfo());
  if (format != OutputFormat::kTable) {
    json info = json::object();
    info["status"] = ProtoToJson(response);
    WriteStructured(info, format, out);
    return absl::OkStatus();
  }
  out << absl::StrFormat("%-10s  %-40s  %-10s  %s\n", "KIND", "MOUNTPOINT",
                         "USED", "INODES");
  auto rows = [&](absl::string_view kind,
                  const google::protobuf::RepeatedPtrField<v1::FilesystemUsage>&
                      filesystems) {
    for (const v1::FilesystemUsage& fs : filesystems) {
      out << absl::StrFormat(
          "%-10s  %-40s  %-10s  %d\n", kind, fs.fs_id().mountpoint(),
          HumanSize(fs.used_bytes().value()), fs.inodes_used().value());
    }
  };
  rows("image", response.image_filesystems());
  rows("container", response.container_filesystems());
  return absl::OkStatus();
}

}  // namespace podsandbox::cri::ctl
