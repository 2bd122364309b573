#include "image/images.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "image/reference.h"
#include "sys/status.h"

namespace podsandbox::image {

Images::Images(Store& store) : store_(store) {}

void Images::SetInUse(InUse in_use) { in_use_ = std::move(in_use); }

absl::StatusOr<ImageRecord> Images::Find(absl::string_view name) const {
  if (name.empty()) {
    return absl::InvalidArgumentError("image: must not be empty");
  }
  // A reference as people type it, stored in its normalised form. Names
  // come before id prefixes, as in docker: "cafe" is the image cafe:latest
  // before it is an image whose id starts with cafe.
  if (absl::StatusOr<Reference> ref = ParseReference(name); ref.ok()) {
    std::string stored =
        ref->digest.has_value()
            ? absl::StrCat(ref->Name(), "@", ref->digest->String())
            : ref->String();
    absl::StatusOr<ImageRecord> found = store_.Resolve(stored);
    if (!absl::IsNotFound(found.status())) return found;
  }
  // An id, a name exactly as stored, or an id prefix.
  absl::StatusOr<ImageRecord> other = store_.Resolve(name);
  if (!absl::IsNotFound(other.status())) return other;
  return absl::NotFoundError(absl::StrCat("image \"", name, "\" not found"));
}

std::vector<ImageRecord> Images::List() const {
  std::vector<ImageRecord> all = store_.List();
  std::sort(all.begin(), all.end(),
            [](const ImageRecord& a, const ImageRecord& b) {
              return a.created < b.created;
            });
  return all;
}

absl::Status Images::Remove(absl::string_view name) {
  absl::StatusOr<ImageRecord> image = Find(name);
  if (absl::IsNotFound(image.status())) return absl::OkStatus();
  RETURN_IF_ERROR(image.status());
  if (in_use_ && in_use_(image->id)) {
    return absl::FailedPreconditionError(
        absl::StrCat("image ", image->id.String(),
                     " is in use by a container; remove the container first"));
  }
  absl::Status removed = store_.RemoveImage(image->id);
  // A concurrent Remove got there first.
  if (absl::IsNotFound(removed)) return absl::OkStatus();
  return removed;
}

}  // namespace podsandbox::image
