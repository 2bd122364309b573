// podsandboxctl's ImageService verbs, with crictl's names and flags: pull,
// images, inspecti, rmi, imagefsinfo. Options come checked from cli.h
// (`-o` one of output.h's names; --creds USER:PASSWORD with both parts).
//
// Errors: the RPC's status as the client returns it (cri_client.h);
// inspecti of an image the runtime does not have is NotFound ("no such
// image"), as crictl reports it. Not thread-safe: one verb per process.
#ifndef PODSANDBOX_CRI_CTL_IMAGE_VERBS_H_
#define PODSANDBOX_CRI_CTL_IMAGE_VERBS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cri/client/cri_client.h"
#include "cri/ctl/output.h"

namespace podsandbox::cri::ctl {

using ::podsandbox::cri::client::CriClient;

struct PullOptions {
  std::string image;
  std::string creds;            // "user:password", or ""
  std::string auth;             // base64 of "user:password", or ""
  std::string pod_config_path;  // PullImageRequest.sandbox_config, or ""
};
// "Image is up to date for <image ref>", crictl's line.
absl::Status Pull(CriClient& client, const PullOptions& options,
                  std::ostream& out);

struct ImagesOptions {
  std::string image;     // filter: a reference, an id or a digest; "" for all
  bool quiet = false;    // ids only
  bool digests = false;  // a DIGEST column
  bool no_trunc = false;
  OutputFormat format = OutputFormat::kTable;
};
// The table: IMAGE, TAG, [DIGEST,] IMAGE ID, SIZE, one row per tag; JSON
// and YAML as {"images": [...]}.
absl::Status Images(CriClient& client, const ImagesOptions& options,
                    std::ostream& out);

// {"status": <Image>, "info": ...} per image (verbose ImageStatus); the
// table is one "IMAGE TAG IMAGE ID SIZE" row per image.
absl::Status Inspecti(CriClient& client, const std::vector<std::string>& images,
                      OutputFormat format, std::ostream& out);

// "Deleted: IMAGE" per image, in order; stops at the first error.
absl::Status Rmi(CriClient& client, const std::vector<std::string>& images,
                 std::ostream& out);

// {"status": <ImageFsInfoResponse>}; the table is one row per filesystem.
absl::Status ImageFsInfo(CriClient& client, OutputFormat format,
                         std::ostream& out);

}  // namespace podsandbox::cri::ctl

#endif  // PODSANDBOX_CRI_CTL_IMAGE_VERBS_H_
