// The image store under <root>/images:
//   blobs/sha256/<hex>      content-addressed blobs (manifests, configs),
//                           verified against their digest before they
//                           appear
//   layers/<chain-hex>/diff an unpacked layer (an overlay lower dir on its
//                           own), shared by every image whose stack has
//                           that chain id
//   layers/<chain-hex>/usage  bytes and inodes of diff, counted once
//   images/<id-hex>.json    one ImageRecord per image
//   tmp/                    every temp file and directory
// Everything appears by rename(2) from tmp/ into place, after fsync, so a
// reader (or a restart after SIGKILL) sees a blob, layer or record whole or
// not at all. Init empties tmp/ and garbage-collects layers and blobs no
// record references: what a killed pull left is gone before anyone looks.
//
// GC: RemoveImage drops the record, then every layer and blob that no
// remaining record references and no Lease holds. A pull takes a Lease on
// the digests it is about to check or write (HoldDigests) before it looks,
// and drops it after PutImage, so a concurrent RemoveImage cannot collect
// what the pull is about to reference.
//
// Thread-safe. Record writes are serialised by the store's mutex; unpacking
// (CommitLayer's fill) and tree removal run without it.
#ifndef PODSANDBOX_IMAGE_STORE_H_
#define PODSANDBOX_IMAGE_STORE_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "image/digest.h"
#include "image/image_record.h"
#include "sys/sys.h"

namespace podsandbox::image {

// What CRI's ImageFsInfo reports: the store's own usage (du-like: allocated
// blocks, hardlinked inodes once) at `mountpoint`, the store's directory,
// as containerd reports its snapshotter root. Kubelet's image GC and
// eviction read used_bytes and inodes_used; capacity comes from the
// filesystem (statvfs) fields.
struct StoreUsage {
  std::string mountpoint;
  uint64_t used_bytes = 0;
  uint64_t inodes_used = 0;
  uint64_t fs_capacity_bytes = 0;
  uint64_t fs_available_bytes = 0;
  uint64_t fs_inodes = 0;
  uint64_t fs_inodes_free = 0;
};

class Store {
 public:
  // `root` is <root>/images. Nothing is touched before Init.
  Store(sys::Sys& sys, std::string root);
  ~Store();

  // Creates the layout, empties tmp/, loads the records, and collects
  // unreferenced layers and blobs. Call once, before anything else and
  // while no other process uses the store. DataLoss for a record that
  // cannot be read (records are written atomically, so that is disk
  // corruption: left for a human, not deleted).
  absl::Status Init() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& root() const { return root_; }

  // Keeps `digests` (blob digests and layer chain ids) from GC until the
  // Lease is destroyed. Move-only.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();

   private:
    friend class Store;
    Lease(Store* store, std::vector<Digest> digests);
    Store* store_;
    std::vector<Digest> digests_;
  };
  Lease HoldDigests(std::vector<Digest> digests) ABSL_LOCKS_EXCLUDED(mu_);

  // Blobs. PutBlob verifies `data` against `digest` (DataLoss on a
  // mismatch: nothing written) and stores it atomically; an existing blob
  // is kept. ReadBlob: NotFound when absent.
  absl::Status PutBlob(const Digest& digest, absl::string_view data);
  absl::StatusOr<std::string> ReadBlob(const Digest& digest) const;
  bool HasBlob(const Digest& digest) const;
  std::string BlobPath(const Digest& digest) const;

  // Layers. CommitLayer makes the layer `chain_id`: it calls `fill` with
  // an fd of an empty, private directory in tmp/ (UnpackLayer's target),
  // and on success counts its usage and renames it into layers/. On any
  // failure the directory is removed and `fill`'s error returned. If the
  // layer already exists (another pull won), `fill` is not called; if it
  // appears meanwhile, ours is dropped: both are OK.
  absl::Status CommitLayer(const Digest& chain_id,
                           absl::FunctionRef<absl::Status(int dir_fd)> fill)
      ABSL_LOCKS_EXCLUDED(mu_);
  bool HasLayer(const Digest& chain_id) const ABSL_LOCKS_EXCLUDED(mu_);
  // <root>/layers/<hex>/diff: the overlay lower dir.
  std::string LayerPath(const Digest& chain_id) const;

  // Images. PutImage stores `record`; over an existing record with the
  // same id it keeps that record's `created` and adds its repo tags and
  // digests to the new ones (one image pulled by two tags has both). Its
  // repo tags are taken away from any other image, as `docker tag` does.
  // FailedPrecondition when a layer or blob it references is missing;
  // InvalidArgument for an empty id.
  absl::Status PutImage(const ImageRecord& record) ABSL_LOCKS_EXCLUDED(mu_);
  // Finds an image by "sha256:<hex>" or "<hex>" id, a repo tag or repo
  // digest as stored (full references: the caller normalises), or an id
  // prefix ("sha256:" optional) matching exactly one image. NotFound;
  // InvalidArgument when a prefix matches several.
  absl::StatusOr<ImageRecord> Resolve(absl::string_view ref) const
      ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<ImageRecord> List() const ABSL_LOCKS_EXCLUDED(mu_);
  // Drops the image's record, then collects what nothing references any
  // more. NotFound when there is no such image. A GC failure after the
  // record is gone is returned, and the leftovers are collected by the
  // next RemoveImage or Init.
  absl::Status RemoveImage(const Digest& id) ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<StoreUsage> Usage() const ABSL_LOCKS_EXCLUDED(mu_);

  // Removes every layer and blob that no record references and no Lease
  // holds: what a failed pull committed (its verified layers) before it
  // failed. RemoveImage and Init call it too. An error leaves the rest for
  // the next call.
  absl::Status CollectGarbage() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct LayerUsage {
    uint64_t bytes = 0;
    uint64_t inodes = 0;
  };

  std::string RecordPath(const Digest& id) const;
  absl::Status WriteRecord(const ImageRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `data` to a temp file in tmp/, fsyncs it, renames it to `path`
  // and fsyncs `path`'s directory.
  absl::Status WriteAtomically(const std::string& path, absl::string_view data);
  // A fresh name in tmp/ (lock-free: callable with or without mu_).
  std::string TempPath(absl::string_view what);
  void Release(const std::vector<Digest>& digests) ABSL_LOCKS_EXCLUDED(mu_);

  sys::Sys& sys_;
  const std::string root_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ImageRecord> images_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, LayerUsage> layers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> held_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> next_temp_{0};
};

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_STORE_H_
