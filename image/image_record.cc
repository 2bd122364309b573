#include "image/image_record.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace podsandbox::image {
namespace {

using Json = nlohmann::json;

Json DigestList(const std::vector<Digest>& digests) {
  Json list = Json::array();
  for (const Digest& d : digests) list.push_back(d.String());
  return list;
}

absl::Status Bad(absl::string_view field) {
  return absl::DataLossError(
      absl::StrCat("image record: ", field, ": missing or malformed"));
}

absl::StatusOr<std::vector<std::string>> Strings(const Json& j,
                                                 const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_array()) return Bad(field);
  std::vector<std::string> out;
  for (const Json& v : *it) {
    if (!v.is_string()) return Bad(field);
    out.push_back(v.get<std::string>());
  }
  return out;
}

absl::StatusOr<std::vector<Digest>> Digests(const Json& j, const char* field) {
  absl::StatusOr<std::vector<std::string>> texts = Strings(j, field);
  if (!texts.ok()) return texts.status();
  std::vector<Digest> out;
  for (const std::string& t : *texts) {
    absl::StatusOr<Digest> d = Digest::Parse(t, field);
    if (!d.ok()) return Bad(field);
    out.push_back(*d);
  }
  return out;
}

absl::StatusOr<Digest> OneDigest(const Json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return Bad(field);
  absl::StatusOr<Digest> d = Digest::Parse(it->get<std::string>(), field);
  if (!d.ok()) return Bad(field);
  return *d;
}

}  // namespace

std::string ToJson(const ImageRecord& r) {
  Json j = {
      {"id", r.id.String()},
      {"repo_tags", r.repo_tags},
      {"repo_digests", r.repo_digests},
      {"size", r.size},
      {"manifest_digest", r.manifest_digest.String()},
      {"layers", DigestList(r.layers)},
      {"blobs", DigestList(r.blobs)},
      {"created_unix_nanos", absl::ToUnixNanos(r.created)},
  };
  return j.dump(2);
}

absl::StatusOr<ImageRecord> ImageRecordFromJson(absl::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Bad("json");
  ImageRecord r;
  absl::StatusOr<Digest> id = OneDigest(j, "id");
  if (!id.ok()) return id.status();
  r.id = *id;
  absl::StatusOr<std::vector<std::string>> tags = Strings(j, "repo_tags");
  if (!tags.ok()) return tags.status();
  r.repo_tags = *tags;
  absl::StatusOr<std::vector<std::string>> digests = Strings(j, "repo_digests");
  if (!digests.ok()) return digests.status();
  r.repo_digests = *digests;
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_unsigned()) return Bad("size");
  r.size = size->get<uint64_t>();
  absl::StatusOr<Digest> manifest = OneDigest(j, "manifest_digest");
  if (!manifest.ok()) return manifest.status();
  r.manifest_digest = *manifest;
  absl::StatusOr<std::vector<Digest>> layers = Digests(j, "layers");
  if (!layers.ok()) return layers.status();
  r.layers = *layers;
  absl::StatusOr<std::vector<Digest>> blobs = Digests(j, "blobs");
  if (!blobs.ok()) return blobs.status();
  r.blobs = *blobs;
  auto created = j.find("created_unix_nanos");
  if (created == j.end() || !created->is_number_integer()) {
    return Bad("created_unix_nanos");
  }
  r.created = absl::FromUnixNanos(created->get<int64_t>());
  return r;
}

std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> chain;
  for (const Digest& diff_id : diff_ids) {
    if (chain.empty()) {
      chain.push_back(diff_id);
      continue;
    }
    chain.push_back(
        Sha256Of(absl::StrCat(chain.back().String(), " ", diff_id.String())));
  }
  return chain;
}

}  // namespace podsandbox::image
