#include "image/puller.h"

#include <fcntl.h>

#include <algorithm>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "image/digest.h"
#include "image/reference.h"
#include "sys/log.h"
#include "sys/status.h"
#include "sys/unique_fd.h"

namespace podsandbox::image {

struct Puller::PullFlight {
  absl::Notification done;
  absl::StatusOr<ImageRecord> result = absl::UnknownError("unset");
};

struct Puller::LayerFlight {
  absl::Notification done;
  absl::Status status;
};

namespace {

// A mirror failing this way may not have the image, or be down: the next
// endpoint may still serve it. Other errors (bad content) stop the pull.
bool TryNextEndpoint(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kUnauthenticated:
      return true;
    default:
      return false;
  }
}

// Who is asking, in the key of a shared pull: the sha256 of every
// credential field, so secrets are not kept in the map's keys.
std::string CredentialsKey(const Credentials& c) {
  Sha256 hash;
  for (const std::string* field : {&c.username, &c.password, &c.auth,
                                   &c.identity_token, &c.registry_token}) {
    hash.Update(absl::StrCat(field->size(), ":"));
    hash.Update(*field);
  }
  return hash.Finish().hex;
}

}  // namespace

Puller::Puller(sys::Sys& sys, Store& store, RegistryHosts hosts,
               PullOptions options)
    : sys_(sys),
      store_(store),
      hosts_(std::move(hosts)),
      options_(std::move(options)) {}

absl::StatusOr<ImageRecord> Puller::Pull(absl::string_view image,
                                         const Credentials& credentials) {
  ASSIGN_OR_RETURN(Reference ref, ParseReference(image));
  const std::string key =
      absl::StrCat(ref.String(), " ", CredentialsKey(credentials));
  std::shared_ptr<PullFlight> flight;
  bool leader = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = pulls_.find(key);
    if (it == pulls_.end()) {
      flight = std::make_shared<PullFlight>();
      pulls_.emplace(key, flight);
      leader = true;
    } else {
      flight = it->second;
    }
  }
  if (!leader) {
    flight->done.WaitForNotification();
    return flight->result;
  }
  flight->result = DoPull(image, credentials);
  if (!flight->result.ok()) {
    // DoPull's lease is gone: what it committed and nothing else uses is
    // unreferenced now. A GC failure leaves it for the next GC (RemoveImage
    // or the next start); the pull's own error is what the caller needs.
    store_.CollectGarbage().IgnoreError();
  }
  {
    absl::MutexLock lock(&mu_);
    pulls_.erase(key);
  }
  flight->done.Notify();
  return flight->result;
}

absl::StatusOr<ImageRecord> Puller::DoPull(absl::string_view image,
                                           const Credentials& credentials) {
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(Reference ref, ParseReference(image));

  // The manifest, from the first endpoint that has it.
  std::unique_ptr<RegistryClient> client;
  FetchedManifest top;
  std::vector<std::string> skipped;
  const std::vector<Endpoint> endpoints = hosts_.Endpoints(ref.registry);
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const Endpoint& endpoint = endpoints[i];
    absl::StatusOr<std::unique_ptr<RegistryClient>> c = RegistryClient::Create(
        endpoint, ref.repository, credentials, options_.http);
    absl::StatusOr<FetchedManifest> m =
        c.ok() ? (*c)->GetManifest(ref.ManifestReference(),
                                   options_.max_manifest_bytes)
               : absl::StatusOr<FetchedManifest>(c.status());
    if (m.ok()) {
      client = *std::move(c);
      top = *std::move(m);
      break;
    }
    const bool last = i + 1 == endpoints.size();
    if (last || !endpoint.mirror || !TryNextEndpoint(m.status())) {
      if (skipped.empty()) return m.status();
      return sys::Annotate(
          m.status(),
          absl::StrCat("after mirrors failed (", absl::StrJoin(skipped, "; "),
                       "), ", endpoint.url));
    }
    skipped.push_back(absl::StrCat(endpoint.url, ": ", m.status().ToString()));
  }
  if (client == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("no endpoint for registry ", ref.registry));
  }

  // Through the index to this platform's manifest.
  std::optional<FetchedManifest> index;
  FetchedManifest manifest = top;
  ASSIGN_OR_RETURN(ManifestKind kind,
                   DetectManifestKind(top.media_type, top.bytes));
  if (kind == ManifestKind::kIndex) {
    ASSIGN_OR_RETURN(ImageIndex parsed, ParseImageIndex(top.bytes));
    ASSIGN_OR_RETURN(Descriptor chosen, SelectPlatform(parsed, HostPlatform()));
    ASSIGN_OR_RETURN(manifest,
                     client->GetManifest(chosen.digest.String(),
                                         options_.max_manifest_bytes));
    ASSIGN_OR_RETURN(kind,
                     DetectManifestKind(manifest.media_type, manifest.bytes));
    if (kind != ManifestKind::kImage) {
      return absl::DataLossError(absl::StrCat(
          "index entry ", chosen.digest.String(), " is not an image manifest"));
    }
    index = std::move(top);
  }
  ASSIGN_OR_RETURN(ImageManifest parsed, ParseImageManifest(manifest.bytes));

  // Limits, from the sizes the manifest declares (each fetch is held to
  // its declared size, so nothing larger comes in).
  if (parsed.config.size > options_.max_config_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "image config is ", parsed.config.size,
        " bytes, more than the limit of ", options_.max_config_bytes));
  }
  int64_t total = parsed.config.size;
  for (const Descriptor& layer : parsed.layers) total += layer.size;
  if (total > options_.max_image_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("image is ", total, " bytes compressed, more than the ",
                     "limit of ", options_.max_image_bytes));
  }

  std::string config;
  RETURN_IF_ERROR(client->FetchBlob(parsed.config.digest, parsed.config.size,
                                    [&](absl::string_view piece) {
                                      config.append(piece.data(), piece.size());
                                      return absl::OkStatus();
                                    }));
  ASSIGN_OR_RETURN(ImageConfig image_config, ParseImageConfig(config));
  if (image_config.diff_ids.size() != parsed.layers.size()) {
    return absl::DataLossError(absl::StrCat(
        "image config has ", image_config.diff_ids.size(),
        " diff_ids but the manifest ", parsed.layers.size(), " layers"));
  }
  const std::vector<Digest> chain_ids = ChainIds(image_config.diff_ids);

  // Held before looking, so a concurrent RemoveImage cannot collect a layer
  // between our HasLayer and PutImage.
  std::vector<Digest> held = {parsed.config.digest, manifest.digest};
  if (index.has_value()) held.push_back(index->digest);
  held.insert(held.end(), chain_ids.begin(), chain_ids.end());
  Store::Lease lease = store_.HoldDigests(held);

  const int64_t downloads_before = layer_downloads_.load();
  std::vector<absl::Status> results(parsed.layers.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < parsed.layers.size(); ++i) {
    if (store_.HasLayer(chain_ids[i])) continue;
    threads.emplace_back([&, i] {
      results[i] = EnsureLayer(*client, parsed.layers[i], chain_ids[i],
                               image_config.diff_ids[i]);
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) {
      return sys::Annotate(
          results[i], absl::StrCat("layer ", parsed.layers[i].digest.String()));
    }
  }

  RETURN_IF_ERROR(store_.PutBlob(parsed.config.digest, config));
  RETURN_IF_ERROR(store_.PutBlob(manifest.digest, manifest.bytes));
  if (index.has_value()) {
    RETURN_IF_ERROR(store_.PutBlob(index->digest, index->bytes));
  }

  ImageRecord record;
  record.id = parsed.config.digest;
  if (!ref.tag.empty()) record.repo_tags.push_back(ref.String());
  // What the registry served for the reference (the index when there is
  // one), as docker and containerd report it: pulling by it gets this image.
  const Digest& repo_digest =
      index.has_value() ? index->digest : manifest.digest;
  record.repo_digests.push_back(
      absl::StrCat(ref.Name(), "@", repo_digest.String()));
  record.size = static_cast<uint64_t>(total);
  record.manifest_digest = manifest.digest;
  record.layers = chain_ids;
  record.blobs = {parsed.config.digest, manifest.digest};
  if (index.has_value()) record.blobs.push_back(index->digest);
  RETURN_IF_ERROR(store_.PutImage(record));
  ASSIGN_OR_RETURN(ImageRecord stored, store_.Resolve(record.id.String()));

  const double seconds =
      std::max(absl::ToDoubleSeconds(absl::Now() - start), 1e-6);
  PSB_LOG(kInfo,
          "pulled %s from %s: %d layers (%d downloaded), %d bytes in %.2fs "
          "(%.1f MB/s)",
          ref.String(), client->endpoint().url, parsed.layers.size(),
          layer_downloads_.load() - downloads_before, total, seconds,
          static_cast<double>(total) / 1e6 / seconds);
  return stored;
}

absl::Status Puller::EnsureLayer(RegistryClient& client,
                                 const Descriptor& layer,
                                 const Digest& chain_id,
                                 const Digest& diff_id) {
  std::shared_ptr<LayerFlight> flight;
  bool leader = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = layers_.find(chain_id.hex);
    if (it == layers_.end()) {
      flight = std::make_shared<LayerFlight>();
      layers_.emplace(chain_id.hex, flight);
      leader = true;
    } else {
      flight = it->second;
    }
  }
  if (!leader) {
    flight->done.WaitForNotification();
    return flight->status;
  }
  absl::Status status;
  if (!store_.HasLayer(chain_id)) {
    {
      absl::MutexLock lock(&mu_);
      auto slot_free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return active_downloads_ < kMaxParallelLayers;
      };
      mu_.Await(absl::Condition(&slot_free));
      ++active_downloads_;
    }
    status = FetchAndUnpack(client, layer, chain_id, diff_id);
    absl::MutexLock lock(&mu_);
    --active_downloads_;
  }
  flight->status = status;
  {
    absl::MutexLock lock(&mu_);
    layers_.erase(chain_id.hex);
  }
  flight->done.Notify();
  return status;
}

absl::Status Puller::FetchAndUnpack(RegistryClient& client,
                                    const Descriptor& layer,
                                    const Digest& chain_id,
                                    const Digest& diff_id) {
  layer_downloads_.fetch_add(1);
  return store_.CommitLayer(chain_id, [&](int dir_fd) -> absl::Status {
    int fds[2];
    sys::SysResult r = sys_.Pipe2(fds, O_CLOEXEC);
    if (!r.ok())
      return sys::ErrnoError(r.err, "pipe2 for layer %s",
                             layer.digest.String());
    sys::UniqueFd read_end(fds[0]);
    sys::UniqueFd write_end(fds[1]);

    // Set when the unpacker stopped early: the sink then fails its next
    // call, so the download ends after at most one more chunk instead of
    // running to the end of a blob nobody reads.
    std::atomic<bool> cancelled{false};
    absl::Status fetch_status;
    std::thread writer([&] {
      fetch_status = client.FetchBlob(
          layer.digest, layer.size, [&](absl::string_view piece) {
            while (!piece.empty()) {
              if (cancelled.load()) {
                return absl::CancelledError("unpack stopped");
              }
              sys::SysResult w =
                  sys_.Write(write_end.get(), piece.data(), piece.size());
              if (!w.ok()) {
                if (w.err == EINTR) continue;
                return sys::ErrnoError(w.err, "write layer pipe");
              }
              piece.remove_prefix(static_cast<size_t>(w.value));
            }
            return absl::OkStatus();
          });
      write_end.reset();  // EOF for the unpacker
    });

    absl::StatusOr<UnpackResult> unpacked = UnpackLayer(
        sys_, dir_fd, FdByteSource(sys_, read_end.get()), options_.unpack);
    if (!unpacked.ok()) cancelled.store(true);
    // Drain to EOF: libarchive may stop at the end-of-archive blocks, and
    // the writer must not block on a full pipe.
    char buf[64 * 1024];
    while (true) {
      sys::SysResult n = sys_.Read(read_end.get(), buf, sizeof(buf));
      if (!n.ok() && n.err == EINTR) continue;
      if (!n.ok() || n.value == 0) break;
    }
    writer.join();

    if (!unpacked.ok()) {
      // A download failure shows in the unpacker as a truncated stream:
      // the download's own error says more.
      if (!fetch_status.ok() && !absl::IsCancelled(fetch_status)) {
        return fetch_status;
      }
      return unpacked.status();
    }
    RETURN_IF_ERROR(fetch_status);
    if (unpacked->diff_id != diff_id) {
      return absl::DataLossError(absl::StrCat(
          "layer ", layer.digest.String(), " unpacks to diff_id ",
          unpacked->diff_id.String(), ", the config says ", diff_id.String()));
    }
    return absl::OkStatus();
  });
}

}  // namespace podsandbox::image
