#include "image/testing/image_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::image::testing {
namespace {

using json = nlohmann::json;

struct ArchiveFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

la_ssize_t Append(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

absl::Status ArchiveError(archive* a, absl::string_view what) {
  return absl::InternalError(absl::StrCat(
      what, ": ",
      archive_error_string(a) ? archive_error_string(a) : "libarchive error"));
}

}  // namespace

absl::StatusOr<std::string> MakeTar(const std::vector<TarEntry>& entries,
                                    Compression compression) {
  std::string out;
  std::unique_ptr<archive, ArchiveFree> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  int rc = ARCHIVE_OK;
  if (compression == Compression::kGzip) {
    rc = archive_write_add_filter_gzip(a.get());
    // No build time in the gzip header: the same entries must give the same
    // blob, or two images built a second apart share no base layer (the
    // shared-layer puller test failed whenever its builds straddled one).
    if (rc == ARCHIVE_OK) {
      rc = archive_write_set_filter_option(a.get(), "gzip", "timestamp",
                                           nullptr);
    }
  } else if (compression == Compression::kZstd) {
    rc = archive_write_add_filter_zstd(a.get());
  }
  if (rc != ARCHIVE_OK) return ArchiveError(a.get(), "tar filter");
  // No padding to libarchive's 10 KiB records: it would pad the compressed
  // stream (zstd readers refuse trailing zeros) and leave the tar inside it
  // shorter than the plain tar whose sha256 is the diff_id.
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &out, nullptr, Append, nullptr) !=
      ARCHIVE_OK) {
    return ArchiveError(a.get(), "tar open");
  }
  for (const TarEntry& e : entries) {
    std::unique_ptr<archive_entry, EntryFree> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), e.path.c_str());
    archive_entry_set_uid(entry.get(), e.uid);
    archive_entry_set_gid(entry.get(), e.gid);
    archive_entry_set_perm(entry.get(), e.mode);
    archive_entry_set_mtime(entry.get(), 1700000000, 0);
    switch (e.type) {
      case TarEntry::Type::kFile:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_size(entry.get(), e.data.size());
        break;
      case TarEntry::Type::kDir:
        archive_entry_set_filetype(entry.get(), AE_IFDIR);
        break;
      case TarEntry::Type::kSymlink:
        archive_entry_set_filetype(entry.get(), AE_IFLNK);
        archive_entry_set_symlink(entry.get(), e.link.c_str());
        break;
      case TarEntry::Type::kHardlink:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_hardlink(entry.get(), e.link.c_str());
        archive_entry_set_size(entry.get(), 0);
        break;
    }
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
      return ArchiveError(a.get(), absl::StrCat("tar header ", e.path));
    }
    if (e.type == TarEntry::Type::kFile && !e.data.empty() &&
        archive_write_data(a.get(), e.data.data(), e.data.size()) < 0) {
      return ArchiveError(a.get(), absl::StrCat("tar data ", e.path));
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "tar close");
  }
  return out;
}

absl::StatusOr<std::vector<TarEntry>> BusyboxEntries() {
  ASSIGN_OR_RETURN(std::string busybox, sys::ReadFile("/bin/busybox"));
  std::vector<TarEntry> entries;
  entries.push_back({"bin", TarEntry::Type::kDir, "", "", 0755});
  entries.push_back(
      {"bin/busybox", TarEntry::Type::kFile, std::move(busybox), "", 0755});
  for (const char* tool : {"sh", "ls", "true", "sleep", "cat", "id"}) {
    entries.push_back({absl::StrCat("bin/", tool), TarEntry::Type::kSymlink, "",
                       "busybox", 0777});
  }
  return entries;
}

absl::StatusOr<BuiltLayer> MakeLayer(const std::vector<TarEntry>& entries,
                                     Compression compression) {
  ASSIGN_OR_RETURN(std::string tar, MakeTar(entries, Compression::kNone));
  BuiltLayer layer;
  layer.diff_id = Sha256Of(tar);
  if (compression == Compression::kNone) {
    layer.blob = std::move(tar);
    layer.media_type = kOciLayerTar;
  } else {
    ASSIGN_OR_RETURN(layer.blob, MakeTar(entries, compression));
    layer.media_type =
        compression == Compression::kGzip ? kOciLayerGzip : kOciLayerZstd;
  }
  layer.digest = Sha256Of(layer.blob);
  return layer;
}

BuiltImage MakeImage(std::vector<BuiltLayer> layers, const Platform& platform,
                     std::vector<std::string> cmd, ManifestFormat format) {
  const bool docker = format == ManifestFormat::kDocker;
  BuiltImage image;
  image.layers = std::move(layers);
  json diff_ids = json::array();
  json layer_descs = json::array();
  for (const BuiltLayer& l : image.layers) {
    diff_ids.push_back(l.diff_id.String());
    const bool gzip = l.media_type == kOciLayerGzip;
    layer_descs.push_back(
        {{"mediaType", docker && gzip ? kDockerLayerGzip : l.media_type},
         {"digest", l.digest.String()},
         {"size", l.blob.size()}});
  }
  json config = {{"architecture", platform.architecture},
                 {"os", platform.os},
                 {"config", {{"Env", {"PATH=/bin"}}, {"Cmd", cmd}}},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  if (!platform.variant.empty()) config["variant"] = platform.variant;
  image.config = config.dump();
  image.config_digest = Sha256Of(image.config);
  image.manifest_media_type = docker ? kDockerManifest : kOciManifest;
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", image.manifest_media_type},
                   {"config",
                    {{"mediaType", docker ? kDockerConfig : kOciConfig},
                     {"digest", image.config_digest.String()},
                     {"size", image.config.size()}}},
                   {"layers", layer_descs}};
  image.manifest = manifest.dump();
  image.manifest_digest = Sha256Of(image.manifest);
  return image;
}

std::string MakeIndex(
    const std::vector<std::pair<const BuiltImage*, Platform>>& images,
    ManifestFormat format) {
  json manifests = json::array();
  for (const auto& [image, p] : images) {
    json platform = {{"os", p.os}, {"architecture", p.architecture}};
    if (!p.variant.empty()) platform["variant"] = p.variant;
    manifests.push_back({{"mediaType", image->manifest_media_type},
                         {"digest", image->manifest_digest.String()},
                         {"size", image->manifest.size()},
                         {"platform", platform}});
  }
  return json{
      {"schemaVersion", 2},
      {"mediaType",
       format == ManifestFormat::kDocker ? kDockerManifestList : kOciIndex},
      {"manifests", manifests}}
      .dump();
}

absl::StatusOr<Digest> PushImage(Pusher& pusher, absl::string_view repository,
                                 absl::string_view tag,
                                 const BuiltImage& image) {
  for (const BuiltLayer& l : image.layers) {
    RETURN_IF_ERROR(pusher.PushBlob(repository, l.blob));
  }
  RETURN_IF_ERROR(pusher.PushBlob(repository, image.config));
  return pusher.PushManifest(repository,
                             tag.empty() ? image.manifest_digest.String() : tag,
                             image.manifest_media_type, image.manifest);
}

}  // namespace podsandbox::image::testing
