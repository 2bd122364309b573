#include "image/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "sys/file.h"
#include "sys/status.h"
#include "sys/unique_fd.h"

namespace podsandbox::image {
namespace {

constexpr absl::string_view kJsonSuffix = ".json";

struct Counted {
  uint64_t bytes = 0;
  uint64_t inodes = 0;
  absl::flat_hash_set<ino_t> linked;  // inodes with several names, seen
};

// du: allocated bytes and inodes below `dir_fd` (which it owns), never
// following symlinks, each hardlinked inode once. Only reads. An entry that
// vanishes while we walk (tmp/ holds pulls in progress and GC victims
// being removed) is skipped, not an error: usage is a snapshot anyway.
absl::Status CountTree(sys::UniqueFd dir_fd, const std::string& path,
                       Counted& c) {
  int fd = dir_fd.release();
  std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(fd), ::closedir);
  if (d == nullptr) {
    ::close(fd);
    return sys::ErrnoError(errno, "list %s", path);
  }
  while (struct dirent* e = ::readdir(d.get())) {
    absl::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(d.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return sys::ErrnoError(errno, "stat %s/%s", path, name);
    }
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) &&
        !c.linked.insert(st.st_ino).second) {
      continue;
    }
    c.bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    c.inodes += 1;
    if (S_ISDIR(st.st_mode)) {
      sys::UniqueFd sub(
          ::openat(::dirfd(d.get()), e->d_name,
                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
        return sys::ErrnoError(errno, "open %s/%s", path, name);
      }
      RETURN_IF_ERROR(
          CountTree(std::move(sub), absl::StrCat(path, "/", name), c));
    }
  }
  return absl::OkStatus();
}

// `path` itself plus everything below it.
absl::StatusOr<Counted> CountPath(const std::string& path) {
  Counted c;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return sys::ErrnoError(errno, "stat %s", path);
  }
  c.bytes = static_cast<uint64_t>(st.st_blocks) * 512;
  c.inodes = 1;
  if (S_ISDIR(st.st_mode)) {
    sys::UniqueFd fd(
        ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return sys::ErrnoError(errno, "open %s", path);
    RETURN_IF_ERROR(CountTree(std::move(fd), path, c));
  }
  return c;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsHex(absl::string_view s) {
  for (char ch : s) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  }
  return true;
}

std::string DirOf(const std::string& path) {
  return path.substr(0, path.rfind('/'));
}

}  // namespace

Store::Lease::Lease(Store* store, std::vector<Digest> digests)
    : store_(store), digests_(std::move(digests)) {}

Store::Lease::Lease(Lease&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)),
      digests_(std::move(other.digests_)) {}

Store::Lease::~Lease() {
  if (store_ != nullptr) store_->Release(digests_);
}

Store::Store(sys::Sys& sys, std::string root)
    : sys_(sys), root_(std::move(root)) {}

Store::~Store() = default;

std::string Store::BlobPath(const Digest& digest) const {
  return absl::StrCat(root_, "/blobs/sha256/", digest.hex);
}

std::string Store::LayerPath(const Digest& chain_id) const {
  return absl::StrCat(root_, "/layers/", chain_id.hex, "/diff");
}

std::string Store::TempPath(absl::string_view what) {
  return absl::StrCat(root_, "/tmp/", what, "-", ::getpid(), "-", next_temp_++);
}

absl::Status Store::Init() {
  for (const char* sub : {"/blobs/sha256", "/layers", "/images"}) {
    RETURN_IF_ERROR(sys::MakeDirs(sys_, root_ + sub, 0755));
  }
  // A killed pull's temp files and half-unpacked layers: nothing refers to
  // them, since only rename makes anything visible.
  RETURN_IF_ERROR(sys::RemoveTree(sys_, root_ + "/tmp"));
  RETURN_IF_ERROR(sys::MakeDirs(sys_, root_ + "/tmp", 0700));

  ASSIGN_OR_RETURN(std::vector<std::string> records,
                   sys::ListDir(root_ + "/images"));
  absl::flat_hash_map<std::string, ImageRecord> images;
  for (const std::string& name : records) {
    std::string path = absl::StrCat(root_, "/images/", name);
    if (!absl::EndsWith(name, kJsonSuffix)) continue;
    ASSIGN_OR_RETURN(std::string text, sys::ReadFile(path));
    absl::StatusOr<ImageRecord> record = ImageRecordFromJson(text);
    if (!record.ok()) return sys::Annotate(record.status(), path);
    images[record->id.hex] = *std::move(record);
  }
  ASSIGN_OR_RETURN(std::vector<std::string> layer_names,
                   sys::ListDir(root_ + "/layers"));
  absl::flat_hash_map<std::string, LayerUsage> layers;
  for (const std::string& name : layer_names) {
    std::string path = absl::StrCat(root_, "/layers/", name);
    absl::StatusOr<std::string> text = sys::ReadFile(path + "/usage");
    std::vector<std::string> fields;
    if (text.ok()) fields = absl::StrSplit(*text, ' ');
    LayerUsage usage;
    if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &usage.bytes) ||
        !absl::SimpleAtoi(fields[1], &usage.inodes)) {
      // Not one of ours (layers appear whole, usage included): garbage.
      RETURN_IF_ERROR(sys::RemoveTree(sys_, path));
      continue;
    }
    layers[name] = usage;
  }
  {
    absl::MutexLock lock(&mu_);
    images_ = std::move(images);
    layers_ = std::move(layers);
  }
  return CollectGarbage();
}

Store::Lease Store::HoldDigests(std::vector<Digest> digests) {
  absl::MutexLock lock(&mu_);
  for (const Digest& d : digests) ++held_[d.hex];
  return Lease(this, std::move(digests));
}

void Store::Release(const std::vector<Digest>& digests) {
  absl::MutexLock lock(&mu_);
  for (const Digest& d : digests) {
    auto it = held_.find(d.hex);
    if (it != held_.end() && --it->second == 0) held_.erase(it);
  }
}

absl::Status Store::WriteAtomically(const std::string& path,
                                    absl::string_view data) {
  std::string temp = TempPath("file");
  {
    ASSIGN_OR_RETURN(
        sys::UniqueFd fd,
        sys::OpenFile(sys_, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
                      0644));
    absl::Status written = sys::WriteAll(sys_, fd.get(), data);
    if (written.ok()) {
      if (sys::SysResult r = sys_.Fsync(fd.get()); !r.ok()) {
        written = sys::ErrnoError(r.err, "fsync %s", temp);
      }
    }
    if (written.ok()) {
      if (sys::SysResult r = sys_.Rename(temp.c_str(), path.c_str()); !r.ok()) {
        written = sys::ErrnoError(r.err, "rename %s to %s", temp, path);
      }
    }
    if (!written.ok()) {
      // Best effort: Init collects it otherwise.
      sys::RemoveFileIfExists(sys_, temp).IgnoreError();
      return written;
    }
  }
  std::string dir = DirOf(path);
  ASSIGN_OR_RETURN(sys::UniqueFd dir_fd,
                   sys::OpenFile(sys_, dir, O_RDONLY | O_DIRECTORY));
  if (sys::SysResult r = sys_.Fsync(dir_fd.get()); !r.ok()) {
    return sys::ErrnoError(r.err, "fsync directory %s", dir);
  }
  return absl::OkStatus();
}

absl::Status Store::PutBlob(const Digest& digest, absl::string_view data) {
  Digest actual = Sha256Of(data);
  if (actual != digest) {
    return absl::DataLossError(absl::StrCat(
        "blob ", digest.String(), ": content has digest ", actual.String()));
  }
  if (HasBlob(digest)) return absl::OkStatus();
  return WriteAtomically(BlobPath(digest), data);
}

absl::StatusOr<std::string> Store::ReadBlob(const Digest& digest) const {
  return sys::ReadFile(BlobPath(digest));
}

bool Store::HasBlob(const Digest& digest) const {
  return Exists(BlobPath(digest));
}

bool Store::HasLayer(const Digest& chain_id) const {
  absl::MutexLock lock(&mu_);
  return layers_.contains(chain_id.hex);
}

absl::Status Store::CommitLayer(
    const Digest& chain_id, absl::FunctionRef<absl::Status(int dir_fd)> fill) {
  if (chain_id.hex.empty() || !IsHex(chain_id.hex)) {
    return absl::InvalidArgumentError("chain_id: not a sha256 digest");
  }
  if (HasLayer(chain_id)) return absl::OkStatus();
  std::string temp = TempPath("layer");
  absl::Status s = [&]() -> absl::Status {
    if (sys::SysResult r = sys_.Mkdir(temp.c_str(), 0700); !r.ok()) {
      return sys::ErrnoError(r.err, "mkdir %s", temp);
    }
    std::string diff = temp + "/diff";
    if (sys::SysResult r = sys_.Mkdir(diff.c_str(), 0755); !r.ok()) {
      return sys::ErrnoError(r.err, "mkdir %s", diff);
    }
    {
      ASSIGN_OR_RETURN(sys::UniqueFd fd,
                       sys::OpenFile(sys_, diff, O_RDONLY | O_DIRECTORY));
      RETURN_IF_ERROR(fill(fd.get()));
    }
    ASSIGN_OR_RETURN(Counted c, CountPath(diff));
    // Inside the temp dir: it appears with the layer, in the same rename.
    // Layer contents are not fsynced one by one: a SIGKILL cannot tear them
    // (the page cache survives it); a power loss can, as with containerd.
    ASSIGN_OR_RETURN(
        sys::UniqueFd usage,
        sys::OpenFile(sys_, temp + "/usage",
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644));
    RETURN_IF_ERROR(
        sys::WriteAll(sys_, usage.get(), absl::StrCat(c.bytes, " ", c.inodes)));
    LayerUsage layer_usage{c.bytes, c.inodes};
    std::string dest = absl::StrCat(root_, "/layers/", chain_id.hex);
    absl::MutexLock lock(&mu_);
    if (layers_.contains(chain_id.hex)) return absl::OkStatus();  // lost race
    if (sys::SysResult r = sys_.Rename(temp.c_str(), dest.c_str()); !r.ok()) {
      return sys::ErrnoError(r.err, "rename %s to %s", temp, dest);
    }
    layers_[chain_id.hex] = layer_usage;
    return absl::OkStatus();
  }();
  // Whatever is still at `temp`: a failed fill, or the loser of a race.
  absl::Status removed = sys::RemoveTree(sys_, temp);
  if (!s.ok()) return s;
  if (!removed.ok()) return removed;
  std::string layers_dir = root_ + "/layers";
  ASSIGN_OR_RETURN(sys::UniqueFd dir_fd,
                   sys::OpenFile(sys_, layers_dir, O_RDONLY | O_DIRECTORY));
  if (sys::SysResult r = sys_.Fsync(dir_fd.get()); !r.ok()) {
    return sys::ErrnoError(r.err, "fsync directory %s", layers_dir);
  }
  return absl::OkStatus();
}

std::string Store::RecordPath(const Digest& id) const {
  return absl::StrCat(root_, "/images/", id.hex, kJsonSuffix);
}

absl::Status Store::WriteRecord(const ImageRecord& record) {
  return WriteAtomically(RecordPath(record.id), ToJson(record));
}

absl::Status Store::PutImage(const ImageRecord& record) {
  if (record.id.hex.empty() || !IsHex(record.id.hex)) {
    return absl::InvalidArgumentError("record.id: not a sha256 digest");
  }
  for (const Digest& b : record.blobs) {
    if (!HasBlob(b)) {
      return absl::FailedPreconditionError(
          absl::StrCat("image ", record.id.String(), ": blob ", b.String(),
                       " is not in the store"));
    }
  }
  absl::MutexLock lock(&mu_);
  for (const Digest& l : record.layers) {
    if (!layers_.contains(l.hex)) {
      return absl::FailedPreconditionError(
          absl::StrCat("image ", record.id.String(), ": layer ", l.String(),
                       " is not in the store"));
    }
  }
  ImageRecord stored = record;
  stored.created = absl::Now();
  if (auto it = images_.find(record.id.hex); it != images_.end()) {
    stored.created = it->second.created;
    // The same image pulled by another name keeps the names it had (the
    // first ones first), as docker's and containerd's image stores do:
    // pulling x:1 and then x:2 of one image lists both tags.
    auto merge = [](const std::vector<std::string>& had,
                    const std::vector<std::string>& adding) {
      std::vector<std::string> out = had;
      for (const std::string& name : adding) {
        if (std::find(out.begin(), out.end(), name) == out.end()) {
          out.push_back(name);
        }
      }
      return out;
    };
    stored.repo_tags = merge(it->second.repo_tags, record.repo_tags);
    stored.repo_digests = merge(it->second.repo_digests, record.repo_digests);
  }
  // Tags move from other images first: a crash in between leaves the tag
  // on no image (a re-pull restores it), never on two.
  absl::flat_hash_set<std::string> tags(record.repo_tags.begin(),
                                        record.repo_tags.end());
  for (auto& [hex, other] : images_) {
    if (hex == record.id.hex) continue;
    std::vector<std::string> kept;
    for (const std::string& t : other.repo_tags) {
      if (!tags.contains(t)) kept.push_back(t);
    }
    if (kept.size() == other.repo_tags.size()) continue;
    ImageRecord updated = other;
    updated.repo_tags = std::move(kept);
    RETURN_IF_ERROR(WriteRecord(updated));
    other = std::move(updated);
  }
  if (absl::Status s = WriteRecord(stored); !s.ok()) {
    // A failed directory fsync comes after the rename: a new record must
    // not appear at the next Init when PutImage said it failed.
    if (!images_.contains(record.id.hex)) {
      sys::RemoveFileIfExists(sys_, RecordPath(record.id)).IgnoreError();
    }
    return s;
  }
  images_[record.id.hex] = std::move(stored);
  return absl::OkStatus();
}

absl::StatusOr<ImageRecord> Store::Resolve(absl::string_view ref) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [hex, image] : images_) {
    if (ref == hex || ref == image.id.String()) return image;
    for (const std::string& t : image.repo_tags) {
      if (ref == t) return image;
    }
    for (const std::string& d : image.repo_digests) {
      if (ref == d) return image;
    }
  }
  absl::string_view prefix = ref;
  absl::ConsumePrefix(&prefix, "sha256:");
  if (!prefix.empty() && IsHex(prefix)) {
    const ImageRecord* found = nullptr;
    for (const auto& [hex, image] : images_) {
      if (!absl::StartsWith(hex, prefix)) continue;
      if (found != nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("image \"", ref, "\": id prefix matches several"));
      }
      found = &image;
    }
    if (found != nullptr) return *found;
  }
  return absl::NotFoundError(absl::StrCat("image \"", ref, "\" not found"));
}

std::vector<ImageRecord> Store::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<ImageRecord> out;
  for (const auto& [hex, image] : images_) out.push_back(image);
  return out;
}

absl::Status Store::RemoveImage(const Digest& id) {
  {
    absl::MutexLock lock(&mu_);
    if (!images_.contains(id.hex)) {
      return absl::NotFoundError(
          absl::StrCat("image ", id.String(), " not found"));
    }
    std::string path = RecordPath(id);
    if (sys::SysResult r = sys_.Unlink(path.c_str());
        !r.ok() && r.err != ENOENT) {
      return sys::ErrnoError(r.err, "remove %s", path);
    }
    images_.erase(id.hex);
  }
  return CollectGarbage();
}

// Moves unreferenced, unheld layers and blobs into tmp/ under the lock,
// then removes them without it.
absl::Status Store::CollectGarbage() {
  ASSIGN_OR_RETURN(std::vector<std::string> blobs,
                   sys::ListDir(root_ + "/blobs/sha256"));
  std::vector<std::string> victims;
  absl::Status moved;
  {
    absl::MutexLock lock(&mu_);
    absl::flat_hash_set<std::string> live;
    for (const auto& [hex, count] : held_) live.insert(hex);
    for (const auto& [hex, image] : images_) {
      for (const Digest& d : image.layers) live.insert(d.hex);
      for (const Digest& d : image.blobs) live.insert(d.hex);
    }
    // Into tmp/ under the lock, so a concurrent pull never sees a layer
    // half removed; the slow removal runs after.
    auto move_out = [&](const std::string& from) {
      std::string to = TempPath("gc");
      if (sys::SysResult r = sys_.Rename(from.c_str(), to.c_str()); !r.ok()) {
        moved.Update(sys::ErrnoError(r.err, "rename %s to %s", from, to));
        return false;
      }
      victims.push_back(to);
      return true;
    };
    for (auto it = layers_.begin(); it != layers_.end();) {
      auto current = it++;
      if (live.contains(current->first)) continue;
      if (move_out(absl::StrCat(root_, "/layers/", current->first))) {
        layers_.erase(current);
      }
    }
    for (const std::string& hex : blobs) {
      if (!live.contains(hex))
        move_out(absl::StrCat(root_, "/blobs/sha256/", hex));
    }
  }
  for (const std::string& v : victims) {
    moved.Update(sys::RemoveTree(sys_, v));
  }
  return moved;
}

absl::StatusOr<StoreUsage> Store::Usage() const {
  StoreUsage usage;
  usage.mountpoint = root_;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [hex, layer] : layers_) {
      usage.used_bytes += layer.bytes;
      usage.inodes_used += layer.inodes;
    }
  }
  // The rest is small: blobs, records, the directories themselves (layers'
  // own dirs and usage files are not counted: a few blocks each).
  for (const char* sub : {"/blobs", "/images", "/tmp"}) {
    ASSIGN_OR_RETURN(Counted c, CountPath(root_ + sub));
    usage.used_bytes += c.bytes;
    usage.inodes_used += c.inodes;
  }
  struct statvfs fs;
  if (::statvfs(root_.c_str(), &fs) != 0) {
    return sys::ErrnoError(errno, "statvfs %s", root_);
  }
  usage.fs_capacity_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  usage.fs_available_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  usage.fs_inodes = fs.f_files;
  usage.fs_inodes_free = fs.f_ffree;
  return usage;
}

}  // namespace podsandbox::image
